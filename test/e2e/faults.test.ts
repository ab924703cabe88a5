// Faults Azure really produces, injected into the fake: what must be survived (retried, logged as
// a warning, bounded by retry-timeout) and what must end in one actionable message.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction, type ActionRun } from './run-action.ts'

let fake: FakeAzure
const RG = 'fault-rg'
let counter = 0

beforeAll(async () => {
  fake = await startFakeAzure()
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())
beforeEach(() => fake.clearLog())

/** A fresh app and access-policy vault for each test, so faults and state never leak between tests. */
function seed(options: { rbac?: boolean } = {}): { app: string; vault: string; inputs: Record<string, string> } {
  counter++
  const app = `app-${counter}`
  const vault = `kv-fault-${counter}`
  fake.addSite({ resourceGroup: RG, name: app })
  fake.addVault({ resourceGroup: RG, name: vault, enableRbacAuthorization: options.rbac })
  return {
    app,
    vault,
    inputs: { 'app-name': app, 'resource-group': RG, 'vault-name': vault, 'vault-resource-group': RG }
  }
}

const warnings = (run: ActionRun): string[] => run.stdout.split('\n').filter((l) => l.startsWith('::warning::'))
const attempts = (method: string, pathPart: string): number =>
  fake.requests.filter((r) => r.method === method && r.path.includes(pathPart)).length

function expectGranted(run: ActionRun, vault: string): void {
  expect(run.error).toBe('')
  expect(run.exitCode).toBe(0)
  const ids = fake.getVault(RG, vault)!.properties.accessPolicies.map((p) => p.objectId)
  expect(ids).toEqual([run.outputs['principal-id']])
}

describe('survived: retried, warned, bounded', () => {
  it('429 with Retry-After in seconds on the site read', async () => {
    const { app, vault, inputs } = seed()
    fake.addFault({ server: 'arm', method: 'GET', path: `/sites/${app}`, status: 429, retryAfter: '1', times: 1 })
    const run = await runAction(fake, inputs)
    expectGranted(run, vault)
    expect(attempts('GET', `/sites/${app}`)).toBe(2)
    expect(warnings(run).join('\n')).toMatch(/answered 429 \(Retry-After: 1\)/)
  })

  it('429 with Retry-After as an HTTP date on the vault read', async () => {
    const { vault, inputs } = seed()
    const date = new Date(Date.now() + 1000).toUTCString()
    fake.addFault({ server: 'arm', method: 'GET', path: `/vaults/${vault}`, status: 429, retryAfter: date, times: 1 })
    const run = await runAction(fake, inputs)
    expectGranted(run, vault)
    expect(attempts('GET', `/vaults/${vault}`)).toBe(2)
  })

  it('500, 502, 503 and 504 in a row on the access-policy write', async () => {
    const { vault, inputs } = seed()
    for (const status of [500, 502, 503, 504])
      fake.addFault({ server: 'arm', method: 'PUT', path: '/accessPolicies/add', status, times: 1 })
    const run = await runAction(fake, inputs)
    expectGranted(run, vault)
    expect(attempts('PUT', `/vaults/${vault}/accessPolicies/add`)).toBe(5)
    expect(warnings(run)).toHaveLength(4)
  })

  it('a dropped connection on the identity PATCH', async () => {
    const { app, vault, inputs } = seed()
    fake.addFault({ server: 'arm', method: 'PATCH', path: `/sites/${app}`, drop: true, times: 1 })
    const run = await runAction(fake, inputs)
    expectGranted(run, vault)
    expect(warnings(run).join('\n')).toMatch(
      /PATCH .*ECONNRESET; whether Azure carried it out is unknown\. Reading it again/
    )
  })

  it('a read timeout (no answer within a fifth of retry-timeout)', async () => {
    const { app, vault, inputs } = seed()
    fake.addFault({ server: 'arm', method: 'GET', path: `/sites/${app}`, delayMs: 4000, times: 1 })
    const run = await runAction(fake, { ...inputs, 'retry-timeout': '10' })
    expectGranted(run, vault)
    expect(warnings(run).join('\n')).toMatch(/no answer within 2 s/)
  })

  it('409 Conflict on the site update (another operation in progress)', async () => {
    const { app, vault, inputs } = seed()
    fake.addFault({ server: 'arm', method: 'PATCH', path: `/sites/${app}`, status: 409, times: 2 })
    const run = await runAction(fake, inputs)
    expectGranted(run, vault)
    expect(attempts('PATCH', `/sites/${app}`)).toBe(3)
    expect(warnings(run).join('\n')).toMatch(/409 Conflict/)
  })

  it('PrincipalNotFound right after the identity was created (RBAC)', async () => {
    const { inputs } = seed({ rbac: true })
    fake.addFault({
      server: 'arm',
      method: 'PUT',
      path: '/roleAssignments/',
      status: 400,
      body: { error: { code: 'PrincipalNotFound', message: 'Principal does not exist in the directory.' } },
      times: 1
    })
    const run = await runAction(fake, inputs)
    expect(run.error).toBe('')
    expect(attempts('PUT', '/roleAssignments/')).toBe(2)
    expect(fake.roleAssignments().some((a) => a.properties.principalId === run.outputs['principal-id'])).toBe(true)
  })

  it('Entra ID 503 on the token request', async () => {
    const { vault, inputs } = seed()
    fake.addFault({ server: 'entra', method: 'POST', path: '/oauth2/v2.0/token', status: 503, times: 1 })
    const run = await runAction(fake, inputs)
    expectGranted(run, vault)
    expect(attempts('POST', '/oauth2/v2.0/token')).toBe(2)
  })

  it('gives up when retry-timeout is spent, saying what kept failing', async () => {
    const { app, inputs } = seed()
    fake.addFault({ server: 'arm', method: 'GET', path: `/sites/${app}`, status: 503, times: 1000 })
    const run = await runAction(fake, { ...inputs, 'retry-timeout': '3' })
    expect(run.exitCode).toBe(1)
    expect(run.error).toMatch(/gave up after 3 s of retries \(input 'retry-timeout'\)/)
    expect(run.error).toMatch(new RegExp(`GET /subscriptions/.*/sites/${app} answered 503`))
    expect(run.durationMs).toBeLessThan(15_000)
  })
})
