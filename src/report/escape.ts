// Text from Azure and from the inputs goes into HTML (the job summary) and Markdown (the pull-request
// comment). It must show as it is, never as markup: one place says how.

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }

/** Text as it is in HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => HTML[c] ?? c)
}

/** Text as it is in one Markdown table cell: HTML escaped, `|` escaped, on one line. */
export function tableCell(text: string): string {
  return escapeHtml(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}
