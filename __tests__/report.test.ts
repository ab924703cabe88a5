import { beforeEach, describe, expect, it, jest } from '@jest/globals'

// A chainable stand-in for core.summary that records what was added.
const added: unknown[][] = []
const summary = {
  addHeading: jest.fn((...a: unknown[]) => (added.push(['heading', ...a]), summary)),
  addRaw: jest.fn((...a: unknown[]) => (added.push(['raw', ...a]), summary)),
  addTable: jest.fn((...a: unknown[]) => (added.push(['table', ...a]), summary)),
  addList: jest.fn((...a: unknown[]) => (added.push(['list', ...a]), summary)),
  addLink: jest.fn((...a: unknown[]) => (added.push(['link', ...a]), summary)),
  write: jest.fn(async () => summary),
  emptyBuffer: jest.fn(() => summary)
}
const setOutput = jest.fn()
jest.unstable_mockModule('@actions/core', () => ({ summary, setOutput, debug: jest.fn(), info: jest.fn() }))

const { computeOutputs, setOutputs, workflowRunUrl, writeSummary } = await import('../src/report.js')
const { PRINCIPAL, PRINCIPAL_2, settings, target, TENANT } = await import('./fixtures.js')
import type { Applied } from '../src/apply.js'
import type { Grant, Plan } from '../src/plan.js'

const grant = (app: string, model: Grant['model'], delta = ''): Grant => ({ app, vault: 'kv', model, requested: 'secrets: get, list', delta })
const applied = (principals: [string, string][], writes: string[] = []): Applied => ({
  principals: new Map(principals.map(([k, id]) => [k, { principalId: id, tenantId: TENANT }])),
  writes
})

beforeEach(() => {
  added.length = 0
  jest.clearAllMocks()
})

describe('computeOutputs', () => {
  it('one app: principal-id and tenant-id set; changed false when nothing was written', () => {
    const plan: Plan = { changes: [], grants: [grant('shop-api', 'access-policy')] }
    expect(computeOutputs(settings(), plan, applied([['shop-api', PRINCIPAL]]))).toEqual({
      'principal-id': PRINCIPAL,
      'principal-ids': JSON.stringify({ 'shop-api': PRINCIPAL }),
      'tenant-id': TENANT,
      'access-model': 'access-policy',
      changed: 'false'
    })
  })

  it('changed is true when anything was written', () => {
    const plan: Plan = { changes: [], grants: [grant('shop-api', 'rbac', 'Key Vault Secrets User')] }
    const out = computeOutputs(settings(), plan, applied([['shop-api', PRINCIPAL]], ['Granted …']))
    expect(out.changed).toBe('true')
    expect(out['access-model']).toBe('rbac')
  })

  it('several apps: principal-id and tenant-id empty, principal-ids a JSON map by app key', () => {
    const s = settings({ apps: [target('api'), target('web', 'staging')] })
    const plan: Plan = { changes: [], grants: [grant('api', 'access-policy'), grant('web/staging', 'access-policy')] }
    const out = computeOutputs(s, plan, applied([['api', PRINCIPAL], ['web/staging', PRINCIPAL_2]]))
    expect(out['principal-id']).toBe('')
    expect(out['tenant-id']).toBe('')
    expect(JSON.parse(out['principal-ids'])).toEqual({ api: PRINCIPAL, 'web/staging': PRINCIPAL_2 })
  })

  it('lists both models when vaults differ', () => {
    const plan: Plan = { changes: [], grants: [grant('shop-api', 'access-policy'), grant('shop-api', 'rbac')] }
    expect(computeOutputs(settings(), plan, applied([['shop-api', PRINCIPAL]]))['access-model']).toBe('access-policy,rbac')
  })

  it('empty principal-id when the app has no identity', () => {
    const out = computeOutputs(settings(), { changes: [], grants: [] }, applied([]))
    expect(out['principal-id']).toBe('')
    expect(out['principal-ids']).toBe('{}')
  })

  it('setOutputs sets every output', () => {
    setOutputs({ 'principal-id': 'p', 'principal-ids': '{}', 'tenant-id': 't', 'access-model': 'rbac', changed: 'true' })
    expect(setOutput.mock.calls).toEqual([
      ['principal-id', 'p'],
      ['principal-ids', '{}'],
      ['tenant-id', 't'],
      ['access-model', 'rbac'],
      ['changed', 'true']
    ])
  })
})

describe('workflowRunUrl', () => {
  it('links the run from the runner variables', () => {
    expect(workflowRunUrl({ GITHUB_SERVER_URL: 'https://github.example', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42' })).toBe(
      'https://github.example/o/r/actions/runs/42'
    )
  })

  it('defaults the server and adds a re-run attempt', () => {
    expect(workflowRunUrl({ GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '3' })).toBe('https://github.com/o/r/actions/runs/42/attempts/3')
    expect(workflowRunUrl({ GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '1' })).toBe('https://github.com/o/r/actions/runs/42')
  })

  it('is undefined outside a run', () => {
    expect(workflowRunUrl({})).toBeUndefined()
  })
})

describe('writeSummary', () => {
  const plan: Plan = { changes: [], grants: [grant('<api>', 'access-policy', 'secrets: list')] }

  it('writes the table with escaped values and the writes, when GITHUB_STEP_SUMMARY is set', async () => {
    const before = { ...process.env }
    process.env.GITHUB_STEP_SUMMARY = '/tmp/summary.md'
    process.env.GITHUB_REPOSITORY = 'o/r'
    process.env.GITHUB_RUN_ID = '7'
    try {
      const a = applied([['<api>', PRINCIPAL]], ['Granted <api> & more'])
      await writeSummary(settings(), plan, a, computeOutputs(settings(), plan, a))
    } finally {
      process.env = before
    }
    expect(summary.write).toHaveBeenCalledTimes(1)
    const table = added.find(([k]) => k === 'table')?.[1] as unknown[][]
    expect(table[1]).toEqual(['&lt;api&gt;', PRINCIPAL, 'kv', 'access-policy', 'secrets: get, list', 'secrets: list'])
    expect(added).toContainEqual(['list', ['Granted &lt;api&gt; &amp; more']])
    expect(added).toContainEqual(['raw', '<p>1 change(s) made.</p>'])
    expect(added.some(([k, , url]) => k === 'link' && url === 'https://github.com/o/r/actions/runs/7')).toBe(true)
  })

  it('says nothing was written, and does not write without GITHUB_STEP_SUMMARY', async () => {
    const before = { ...process.env }
    delete process.env.GITHUB_STEP_SUMMARY
    try {
      const a = applied([['<api>', PRINCIPAL]])
      await writeSummary(settings(), { changes: [], grants: [grant('<api>', 'rbac')] }, a, computeOutputs(settings(), plan, a))
    } finally {
      process.env = before
    }
    expect(added).toContainEqual(['raw', '<p>Everything was already in place: nothing was written.</p>'])
    expect((added.find(([k]) => k === 'table')?.[1] as unknown[][])[1][5]).toBe('already granted')
    expect(summary.write).not.toHaveBeenCalled()
    expect(summary.emptyBuffer).toHaveBeenCalled()
  })
})
