// Plain log lines. Text that came back from Azure (names, messages, ids) is data: the runner reads
// a line that starts with `::` (after blanks: it trims them) as a workflow command, and `##[`
// anywhere in a line as a legacy one (actions/runner ActionCommand.TryParseV2 / TryParse). Such
// text is broken up with a zero-width space before it is printed. core.warning, core.error and
// core.notice escape their message already.
import * as core from '@actions/core'

export function neutralize(text: string): string {
  return text.replace(/^(\s*):(?=:)/gm, '$1:\u200b').replaceAll('##[', '#\u200b#[')
}

export function info(text: string): void {
  core.info(neutralize(text))
}
