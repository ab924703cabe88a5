// The repository's GitHub metadata, checked with GitHub's own parser (@actions/workflow-parser, the
// one behind the Actions language service): every workflow under .github/workflows and action.yml
// must parse without errors, and action.yml must agree with the files and docs around it.
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { parseAction } from '@actions/workflow-parser/actions/action-parser'
import { convertActionTemplate, type ActionTemplate } from '@actions/workflow-parser/actions/action-template'
import { ErrorPolicy } from '@actions/workflow-parser/model/convert'
import type { TemplateContext } from '@actions/workflow-parser/templates/template-context'

const ROOT = resolve(import.meta.dirname, '..')
const WORKFLOWS = join(ROOT, '.github', 'workflows')

function messages(context: TemplateContext): string[] {
  return context.errors.getErrors().map((e) => e.message)
}

/** action.yml, parsed and converted; schema errors are in `errors` (converted anyway, so the
 * other checks still run and report their own findings). */
function loadAction(): { errors: string[]; action: ActionTemplate } {
  const content = readFileSync(join(ROOT, 'action.yml'), 'utf8')
  const parsed = parseAction({ name: 'action.yml', content }, new NoOperationTraceWriter())
  if (!parsed.value) throw new Error(`action.yml did not parse: ${messages(parsed.context).join('; ')}`)
  const action = convertActionTemplate(parsed.context, parsed.value, { errorPolicy: ErrorPolicy.TryConversion })
  return { errors: messages(parsed.context), action }
}

/**
 * Names in the first column (in backticks) of the first table under the `## <title>` heading of a
 * Markdown document. A first cell may name several (`client-id`, `tenant-id`); a row naming none
 * is returned as `!<cell>` so that it shows up in a failed comparison.
 */
function tableNames(markdown: string, title: string): string[] {
  const lines = markdown.split(/\r?\n/)
  const start = lines.findIndex((l) => new RegExp(`^##\\s+${title}\\s*$`, 'i').test(l))
  if (start < 0) throw new Error(`README.md has no "## ${title}" section`)
  const section: string[] = []
  for (const line of lines.slice(start + 1)) {
    if (/^##\s/.test(line)) break
    section.push(line)
  }
  const first = section.findIndex((l) => l.trimStart().startsWith('|'))
  if (first < 0) throw new Error(`README.md's "## ${title}" section has no table`)
  const table: string[] = []
  for (const line of section.slice(first)) {
    if (!line.trimStart().startsWith('|')) break
    table.push(line)
  }
  return table.slice(2).flatMap((row) => {
    const cell = row.trim().replace(/^\|/, '').split('|')[0].trim()
    const names = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1])
    return names.length > 0 ? names : [`!${cell}`]
  })
}

describe('workflows', () => {
  const files = existsSync(WORKFLOWS) ? readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)) : []

  it('has the CI, check-dist and live Azure workflows', () => {
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'check-dist.yml', 'e2e-azure.yml']))
  })

  it.each(files)('%s parses and converts without errors', async (file) => {
    const content = readFileSync(join(WORKFLOWS, file), 'utf8')
    const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter())
    expect(messages(parsed.context)).toEqual([])
    expect(parsed.value).toBeDefined()
    const template = await convertWorkflowTemplate(parsed.context, parsed.value!)
    expect((template.errors ?? []).map((e) => e.Message)).toEqual([])
    expect(template.jobs.length).toBeGreaterThan(0)
  })

  it('reports errors in a broken workflow (the parser really validates)', () => {
    const content = 'on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo hi\n'
    const parsed = parseWorkflow({ name: 'broken.yml', content }, new NoOperationTraceWriter())
    expect(messages(parsed.context).join('\n')).toMatch(/stepz/)
  })
})

describe('action.yml', () => {
  it('parses against the action schema without errors', () => {
    expect(loadAction().errors).toEqual([])
  })

  it('rejects an unknown runtime (the parser really validates)', () => {
    const content = "name: x\ndescription: y\nruns:\n  using: 'node99'\n  main: 'index.js'\n"
    const parsed = parseAction({ name: 'action.yml', content }, new NoOperationTraceWriter())
    expect(messages(parsed.context).length).toBeGreaterThan(0)
  })

  it('runs dist/index.js (committed) on node24', () => {
    const { runs } = loadAction().action
    expect(runs.using).toBe('node24')
    if (runs.using !== 'node24') return
    expect(runs.main).toBe('dist/index.js')
    expect(existsSync(join(ROOT, runs.main))).toBe(true)
  })

  it('has a name, a description and branding', () => {
    const { action } = loadAction()
    expect(action.name.trim()).not.toBe('')
    expect(action.description.trim()).not.toBe('')
    expect(action.branding?.icon).toBeTruthy()
    expect(action.branding?.color).toBeTruthy()
  })

  it('describes every input and output', () => {
    const { action } = loadAction()
    const undescribed = [...(action.inputs ?? []), ...(action.outputs ?? [])]
      .filter((item) => !item.description?.trim())
      .map((item) => item.id)
    expect(undescribed).toEqual([])
    expect(action.inputs?.length).toBeGreaterThan(0)
    expect(action.outputs?.length).toBeGreaterThan(0)
  })
})

describe('README.md and action.yml', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const sorted = (names: string[]): string[] => [...names].sort()

  it('lists exactly the inputs of action.yml in its Inputs table', () => {
    const inputs = (loadAction().action.inputs ?? []).map((i) => i.id)
    expect(sorted(tableNames(readme, 'Inputs'))).toEqual(sorted(inputs))
  })

  it('lists exactly the outputs of action.yml in its Outputs table', () => {
    const outputs = (loadAction().action.outputs ?? []).map((o) => o.id)
    expect(sorted(tableNames(readme, 'Outputs'))).toEqual(sorted(outputs))
  })

  it('reads table names the way it should', () => {
    const md = [
      '# T',
      '## Inputs',
      'text',
      '| input | meaning |',
      '|---|---|',
      '| `a` | x |',
      '| `b`, `c` | y |',
      '| d | z |',
      '',
      '| `not-this-table` | |',
      '## Outputs',
      '| output | meaning |',
      '|---|---|',
      '| `o` | p |'
    ].join('\n')
    expect(tableNames(md, 'Inputs')).toEqual(['a', 'b', 'c', '!d'])
    expect(tableNames(md, 'Outputs')).toEqual(['o'])
    expect(() => tableNames(md, 'Examples')).toThrow(/no "## Examples" section/)
  })
})
