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

const { buildReport, computeOutputs, setOutputs, workflowRunUrl, writeSummary } =
  await import('../../src/report/report.js')
const { PRINCIPAL, PRINCIPAL_2, inputs, target, TENANT } = await import('../fixtures.js')
import type { Applied } from '../../src/apply/apply.js'
import type { Plan } from '../../src/model/changes.js'
import type { Grant } from '../../src/model/changes.js'

const grant = (app: string, model: Grant['model'], delta = ''): Grant => ({
  app,
  vault: 'kv',
  model,
  requested: 'secrets: get, list',
  delta
})
const applied = (principals: [string, string][], writes: string[] = []): Applied => ({
  principals: new Map(principals.map(([k, id]) => [k, { principalId: id, tenantId: TENANT }])),
  references: new Map(),
  writes
})

beforeEach(() => {
  added.length = 0
  jest.clearAllMocks()
})

describe('computeOutputs', () => {
  it('one app: principal-id and tenant-id set; changed false when nothing was written', () => {
    const plan: Plan = { changes: [], grants: [grant('shop-api', 'access-policy')] }
    expect(computeOutputs(inputs(), plan, applied([['shop-api', PRINCIPAL]]))).toEqual({
      'principal-id': PRINCIPAL,
      'principal-ids': JSON.stringify({ 'shop-api': PRINCIPAL }),
      'tenant-id': TENANT,
      'access-model': 'access-policy',
      changed: 'false',
      references: '{}',
      'client-id': ''
    })
  })

  it('changed is true when anything was written', () => {
    const plan: Plan = { changes: [], grants: [grant('shop-api', 'rbac', 'Key Vault Secrets User')] }
    const out = computeOutputs(inputs(), plan, applied([['shop-api', PRINCIPAL]], ['Granted …']))
    expect(out.changed).toBe('true')
    expect(out['access-model']).toBe('rbac')
  })

  it('several apps: principal-id and tenant-id empty, principal-ids a JSON map by app key', () => {
    const s = inputs({ apps: [target('api'), target('web', 'staging')] })
    const plan: Plan = { changes: [], grants: [grant('api', 'access-policy'), grant('web/staging', 'access-policy')] }
    const out = computeOutputs(
      s,
      plan,
      applied([
        ['api', PRINCIPAL],
        ['web/staging', PRINCIPAL_2]
      ])
    )
    expect(out['principal-id']).toBe('')
    expect(out['tenant-id']).toBe('')
    expect(JSON.parse(out['principal-ids'])).toEqual({ api: PRINCIPAL, 'web/staging': PRINCIPAL_2 })
  })

  it('lists both models when vaults differ', () => {
    const plan: Plan = { changes: [], grants: [grant('shop-api', 'access-policy'), grant('shop-api', 'rbac')] }
    expect(computeOutputs(inputs(), plan, applied([['shop-api', PRINCIPAL]]))['access-model']).toBe(
      'access-policy,rbac'
    )
  })

  it('empty principal-id when the app has no identity', () => {
    const out = computeOutputs(inputs(), { changes: [], grants: [] }, applied([]))
    expect(out['principal-id']).toBe('')
    expect(out['principal-ids']).toBe('{}')
  })

  it('setOutputs sets every output', () => {
    setOutputs({
      'principal-id': 'p',
      'principal-ids': '{}',
      'tenant-id': 't',
      'access-model': 'rbac',
      changed: 'true',
      references: '{}',
      'client-id': ''
    })
    expect(setOutput.mock.calls).toEqual([
      ['principal-id', 'p'],
      ['principal-ids', '{}'],
      ['tenant-id', 't'],
      ['access-model', 'rbac'],
      ['changed', 'true'],
      ['references', '{}'],
      ['client-id', '']
    ])
  })
})

describe('references', () => {
  it('the output maps each app to its settings and statuses; the summary lists names and statuses, never values', async () => {
    const refs = [
      {
        setting: 'DB',
        reference: '@Microsoft.KeyVault(VaultName=kv;SecretName=db)',
        status: 'Resolved',
        vaultName: 'kv',
        secretName: 'db'
      },
      {
        setting: 'API',
        reference: '@Microsoft.KeyVault(VaultName=kv;SecretName=api)',
        status: 'SecretNotFound',
        vaultName: 'kv',
        secretName: 'api'
      }
    ]
    const a: Applied = { ...applied([['api', PRINCIPAL]]), references: new Map([['api', refs]]) }
    const plan: Plan = { changes: [], grants: [grant('api', 'access-policy')] }
    const outputs = computeOutputs(inputs(), plan, a)
    expect(JSON.parse(outputs.references)).toEqual({ api: { DB: 'Resolved', API: 'SecretNotFound' } })
    const before = { ...process.env }
    process.env.GITHUB_STEP_SUMMARY = '/tmp/summary.md'
    try {
      await writeSummary(buildReport(inputs(), plan, a, outputs))
    } finally {
      process.env = before
    }
    const text = JSON.stringify(added)
    expect(text).toContain('Key Vault references')
    expect(text).toContain('kv/api')
    expect(text).toContain('SecretNotFound ✗')
    expect(text).not.toContain('@Microsoft.KeyVault')
  })
})

describe('connection strings and App Configuration notes in the report', () => {
  it('marks connection-string references in the output and the table, and shows the notes', async () => {
    const refs = [
      { setting: 'Main', reference: 'x', status: 'Resolved', vaultName: 'kv', secretName: 'db' },
      { setting: 'Main', collection: 'connectionstrings' as const, reference: 'x', status: 'SecretNotFound' }
    ]
    const a: Applied = { ...applied([['api', PRINCIPAL]]), references: new Map([['api', refs]]) }
    const plan: Plan = { changes: [], grants: [grant('api', 'access-policy')] }
    const outputs = computeOutputs(inputs(), plan, a)
    expect(JSON.parse(outputs.references)).toEqual({
      api: { Main: 'Resolved', 'connectionStrings/Main': 'SecretNotFound' }
    })
    const report = buildReport(inputs(), plan, a, outputs, ['api: keyVaultReferenceIdentity also selects …'])
    expect(report.references.rows.map((r) => r[1])).toEqual(['Main', 'connection string Main'])
    const before = { ...process.env }
    process.env.GITHUB_STEP_SUMMARY = '/tmp/summary.md'
    try {
      await writeSummary(report)
    } finally {
      process.env = before
    }
    expect(added).toContainEqual(['raw', '<p>⚠️ api: keyVaultReferenceIdentity also selects …</p>'])
  })
})

describe('workflowRunUrl', () => {
  it('links the run from the runner variables', () => {
    expect(
      workflowRunUrl({ GITHUB_SERVER_URL: 'https://github.example', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42' })
    ).toBe('https://github.example/o/r/actions/runs/42')
  })

  it('defaults the server and adds a re-run attempt', () => {
    expect(workflowRunUrl({ GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '3' })).toBe(
      'https://github.com/o/r/actions/runs/42/attempts/3'
    )
    expect(workflowRunUrl({ GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '1' })).toBe(
      'https://github.com/o/r/actions/runs/42'
    )
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
      await writeSummary(buildReport(inputs(), plan, a, computeOutputs(inputs(), plan, a)))
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
      await writeSummary(
        buildReport(inputs(), { changes: [], grants: [grant('<api>', 'rbac')] }, a, computeOutputs(inputs(), plan, a))
      )
    } finally {
      process.env = before
    }
    expect(added).toContainEqual(['raw', '<p>Everything was already in place: nothing was written.</p>'])
    expect((added.find(([k]) => k === 'table')?.[1] as unknown[][])[1][5]).toBe('already granted')
    expect(summary.write).not.toHaveBeenCalled()
    expect(summary.emptyBuffer).toHaveBeenCalled()
  })
})

describe('computeOutputs per mode', () => {
  const change: Plan['changes'][number] = {
    kind: 'enable-identity',
    app: 'shop-api',
    from: 'None',
    to: 'SystemAssigned',
    keepsUserAssigned: 0
  }
  const pending: Plan = { changes: [change], grants: [grant('shop-api', 'access-policy', 'secrets: get, list')] }
  const settled: Plan = { changes: [], grants: [grant('shop-api', 'access-policy')] }

  it('plan: changed is whether apply would change anything, though nothing was written', () => {
    expect(computeOutputs(inputs({ mode: 'plan' }), pending, applied([])).changed).toBe('true')
    expect(computeOutputs(inputs({ mode: 'plan' }), settled, applied([['shop-api', PRINCIPAL]])).changed).toBe('false')
  })

  it('verify: changed is false even when things are missing', () => {
    const out = computeOutputs(inputs({ mode: 'verify' }), pending, applied([]))
    expect(out.changed).toBe('false')
    expect(out['access-model']).toBe('access-policy')
  })

  it('revoke: changed is whether anything was written', () => {
    const revokePlan: Plan = { changes: [change], grants: [grant('shop-api', 'rbac', 'Key Vault Secrets User')] }
    expect(
      computeOutputs(inputs({ mode: 'revoke' }), revokePlan, applied([['shop-api', PRINCIPAL]], ['Revoked …'])).changed
    ).toBe('true')
    expect(computeOutputs(inputs({ mode: 'revoke' }), revokePlan, applied([['shop-api', PRINCIPAL]])).changed).toBe(
      'false'
    )
  })

  it('apply: a plan with changes but no writes (e.g. all "exists") is not changed', () => {
    expect(computeOutputs(inputs({ mode: 'apply' }), pending, applied([['shop-api', PRINCIPAL]])).changed).toBe('false')
  })
})

describe('writeSummary per mode', () => {
  const change: Plan['changes'][number] = {
    kind: 'enable-identity',
    app: '<web>',
    from: 'None',
    to: 'SystemAssigned',
    keepsUserAssigned: 0
  }
  const table = () => added.find(([k]) => k === 'table')?.[1] as unknown[][]
  const headerRow = () => (table()[0] as { data: string }[]).map((c) => c.data)
  async function summarise(mode: 'apply' | 'plan' | 'verify' | 'revoke', plan: Plan, a: Applied): Promise<void> {
    const before = { ...process.env }
    delete process.env.GITHUB_STEP_SUMMARY
    try {
      const s = inputs({ mode })
      await writeSummary(buildReport(s, plan, a, computeOutputs(s, plan, a)))
    } finally {
      process.env = before
    }
  }

  it.each([
    ['apply', 'Key Vault access: apply', 'Granted by this run'],
    ['plan', 'Key Vault access: plan (nothing written)', 'Apply would grant'],
    ['verify', 'Key Vault access: verify (nothing written)', 'Missing'],
    ['revoke', 'Key Vault access: revoke', 'Revoked by this run']
  ] as const)('%s: heading %s, last column %s', async (mode, title, column) => {
    await summarise(
      mode,
      { changes: [], grants: [grant('shop-api', 'access-policy')] },
      applied([['shop-api', PRINCIPAL]])
    )
    expect(summary.addHeading).toHaveBeenCalledWith(title, 2)
    expect(headerRow()).toEqual(['App', 'Identity (principal id)', 'Vault', 'Model', 'Requested', column])
  })

  it.each([
    ['apply', 'already granted'],
    ['plan', 'already granted'],
    ['verify', 'nothing'],
    ['revoke', 'nothing held']
  ] as const)('%s: a pair with nothing to do reads %s', async (mode, none) => {
    await summarise(
      mode,
      { changes: [], grants: [grant('shop-api', 'access-policy')] },
      applied([['shop-api', PRINCIPAL]])
    )
    expect(table()[1][5]).toBe(none)
  })

  it.each(['plan', 'verify'] as const)(
    '%s: lists the changes apply would make, escaped, and not "changes made"',
    async (mode) => {
      await summarise(
        mode,
        { changes: [change], grants: [grant('<web>', 'access-policy', 'secrets: get, list')] },
        applied([])
      )
      expect(added).toContainEqual(['raw', '<p>Apply would make 1 change(s):</p>'])
      expect(added).toContainEqual([
        'list',
        ['turn on the system-assigned identity of &lt;web&gt; (identity type None → SystemAssigned; the app restarts)']
      ])
      expect(added.some(([k, v]) => k === 'raw' && typeof v === 'string' && v.includes('change(s) made'))).toBe(false)
      expect(table()[1]).toEqual([
        '&lt;web&gt;',
        'not turned on',
        'kv',
        'access-policy',
        'secrets: get, list',
        'secrets: get, list'
      ])
    }
  )

  it.each(['plan', 'verify'] as const)(
    '%s: says apply would change nothing for an empty plan, with no change list',
    async (mode) => {
      await summarise(mode, { changes: [], grants: [grant('shop-api', 'rbac')] }, applied([['shop-api', PRINCIPAL]]))
      expect(added).toContainEqual(['raw', '<p>Apply would change nothing.</p>'])
      expect(added.filter(([k]) => k === 'list')).toEqual([])
      expect(
        added.some(([k, v]) => k === 'raw' && v === '<p>Everything was already in place: nothing was written.</p>')
      ).toBe(false)
    }
  )

  it('revoke: an identity turned off shows as off, and the writes are listed', async () => {
    const disable: Plan['changes'][number] = {
      kind: 'disable-identity',
      app: 'shop-api',
      from: 'SystemAssigned',
      to: 'None',
      keepsUserAssigned: 0
    }
    const writes = [
      'Revoked shop-api on vault kv: secrets: get, list (access policy).',
      'Turned off the system-assigned identity of shop-api.'
    ]
    await summarise(
      'revoke',
      { changes: [disable], grants: [grant('shop-api', 'access-policy', 'secrets: get, list')] },
      applied([], writes)
    )
    expect(added).toContainEqual(['raw', '<p>2 change(s) made.</p>'])
    expect(table()[1][1]).toBe('off')
    expect(table()[1][5]).toBe('secrets: get, list')
    expect(added).toContainEqual(['list', writes])
    expect(added.some(([k, v]) => k === 'raw' && typeof v === 'string' && v.includes('Apply would'))).toBe(false)
  })

  it('revoke: a pair whose access is still held never reads "nothing held"', async () => {
    const stillHeld = [
      {
        grants: 'secrets: get, list',
        through: "role 'Key Vault Secrets Officer' at scope /s (assignment a)",
        reason: 'r'
      },
      { grants: 'secrets: get', through: 'the compound access-policy entry of application x', reason: 'r' }
    ]
    await summarise(
      'revoke',
      {
        changes: [],
        grants: [
          { ...grant('shop-api', 'rbac'), stillHeld },
          { ...grant('web', 'rbac', 'Key Vault Secrets User'), stillHeld: stillHeld.slice(0, 1) }
        ]
      },
      applied([['shop-api', PRINCIPAL]])
    )
    expect(table()[1][5]).toBe(
      "nothing revoked; still held through role 'Key Vault Secrets Officer' at scope /s (assignment a); the compound access-policy entry of application x"
    )
    expect(table()[2][5]).toBe(
      "Key Vault Secrets User; still held through role 'Key Vault Secrets Officer' at scope /s (assignment a)"
    )
  })

  it('apply: an app still without identity shows "not turned on"', async () => {
    await summarise('apply', { changes: [], grants: [grant('shop-api', 'access-policy')] }, applied([]))
    expect(table()[1][1]).toBe('not turned on')
  })
})
