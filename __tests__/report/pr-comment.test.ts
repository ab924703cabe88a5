import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { MAX_COMMENT, markerOf, pullRequestOf, renderComment, wantsComment } from '../../src/report/pr-comment.js'
import type { Report } from '../../src/report/report.js'
import { inputs, target } from '../fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'pr-unit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
function event(payload: object): string {
  const path = join(dir, `${Math.random()}.json`)
  writeFileSync(path, JSON.stringify(payload))
  return path
}

describe('wantsComment', () => {
  it.each([
    ['auto', 'plan', 'pull_request', true],
    ['auto', 'verify', 'pull_request_target', true],
    ['auto', 'apply', 'pull_request', false],
    ['auto', 'plan', 'push', false],
    ['true', 'apply', 'push', true],
    ['false', 'plan', 'pull_request', false]
  ] as const)('pr-comment %s, mode %s, event %s → %s', (prComment, mode, eventName, expected) => {
    expect(wantsComment(inputs({ prComment, mode }), { GITHUB_EVENT_NAME: eventName })).toBe(expected)
  })
})

describe('pullRequestOf', () => {
  const repo = { GITHUB_REPOSITORY: 'o/r' }
  it('reads the number of pull_request events, and of issue comments on pull requests only', () => {
    expect(pullRequestOf({ ...repo, GITHUB_EVENT_PATH: event({ number: 7, pull_request: { number: 7 } }) })).toEqual({
      owner: 'o',
      repo: 'r',
      number: 7
    })
    expect(
      pullRequestOf({ ...repo, GITHUB_EVENT_PATH: event({ issue: { number: 8, pull_request: {} } }) })?.number
    ).toBe(8)
    expect(pullRequestOf({ ...repo, GITHUB_EVENT_PATH: event({ issue: { number: 9 } }) })).toBeUndefined()
    expect(pullRequestOf({ ...repo, GITHUB_EVENT_PATH: event({ ref: 'refs/heads/main' }) })).toBeUndefined()
    expect(pullRequestOf({ ...repo, GITHUB_EVENT_PATH: join(dir, 'missing.json') })).toBeUndefined()
    expect(pullRequestOf({ GITHUB_EVENT_PATH: event({ pull_request: { number: 1 } }) })).toBeUndefined()
  })
})

describe('markerOf', () => {
  const env = { GITHUB_WORKFLOW: 'deploy', GITHUB_JOB: 'plan', GITHUB_ACTION: 'kv' }
  const pr = { owner: 'o', repo: 'r', number: 7 }
  it('names the pull request, workflow, job and step, and a digest of the targets; no text can close the HTML comment', () => {
    const a = markerOf(inputs(), pr, env)
    expect(a).toMatch(
      /^<!-- keyvault-app-identity-action pr="7" workflow="deploy" job="plan" step="kv" targets="[0-9a-f]{12}" -->$/
    )
    expect(markerOf(inputs({ apps: [target('other-api')] }), pr, env)).not.toBe(a)
    expect(markerOf(inputs(), pr, { ...env, GITHUB_ACTION: 'kv2' })).not.toBe(a)
    expect(markerOf(inputs(), { ...pr, number: 8 }, env)).not.toBe(a)
    expect(markerOf(inputs(), pr, { ...env, GITHUB_WORKFLOW: 'x --> <b>"' })).toMatch(/workflow="x __ _b__"/)
  })
})

describe('renderComment', () => {
  const report: Report = {
    title: 'Key Vault access: plan (nothing written)',
    intro: 'Apply would make 1 change(s):',
    changes: ['turn on the identity of <api>'],
    grants: { header: ['App', 'Vault'], rows: [['a|pi', 'kv']] },
    references: { header: ['App', 'Setting'], rows: [] },
    writes: [],
    runUrl: 'https://github.com/o/r/actions/runs/1',
    footer: 'Subscription s, resource group g.'
  }

  it('is Markdown of the report, cells escaped, the marker last', () => {
    const body = renderComment(report, '<!-- m -->')
    expect(body).toContain('### Key Vault access: plan (nothing written)')
    expect(body).toContain('- turn on the identity of &lt;api&gt;')
    expect(body).toContain('| a\\|pi | kv |')
    expect(body).toContain('[Workflow run](https://github.com/o/r/actions/runs/1) · Subscription s, resource group g.')
    expect(body.endsWith('\n\n<!-- m -->')).toBe(true)
  })

  it('stays under GitHub’s comment limit, keeping the marker', () => {
    const many = {
      ...report,
      grants: { header: ['App'], rows: Array.from({ length: 5000 }, (_, i) => [`app-${i}-${'x'.repeat(20)}`]) }
    }
    const body = renderComment(many, '<!-- m -->')
    expect(body.length).toBeLessThan(MAX_COMMENT + 200)
    expect(body.endsWith('<!-- m -->')).toBe(true)
    expect(body).toContain('(cut: the job summary has it all)')
  })
})
