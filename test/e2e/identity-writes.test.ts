// The app's identity writes end to end: a PATCH names only the identity this run changes (ARM
// checks linked access on every identity a body names, and an app may carry another team's), and
// the writes come in an order in which no Key Vault reference is fetched with an identity that
// lacks access, restarting the app as few times as possible (each identity write restarts it and
// makes App Service fetch every reference again).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction, targetInputs, type ActionRun } from './run-action.ts'

let fake: FakeAzure
const RG = 'idw-rg'
const ASSIGN = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'
let counter = 0
const next = (prefix: string): string => `${prefix}-${++counter}`

beforeAll(async () => {
  fake = await startFakeAzure({ referenceResolveDelayMs: 300 })
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())
beforeEach(() => fake.clearLog())

const ok = (run: ActionRun): void => {
  expect(run.error).toBe('')
  expect(run.exitCode).toBe(0)
}
const sitePatches = (app: string) =>
  fake.requests.filter((r) => r.method === 'PATCH' && r.path.toLowerCase().endsWith(`/sites/${app}`))
const uaiKeys = (app: string): string[] =>
  Object.keys(fake.getSite(RG, app)!.identity?.userAssignedIdentities ?? {}).map((k) => k.toLowerCase())

/** An app that also carries another team's user-assigned identity, which the sign-in identity may not assign. */
function appWithTheirIdentity(systemAssigned: boolean): { app: string; vault: string; theirs: string } {
  const app = next('app')
  const vault = next('kv')
  const theirs = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('their-id') }).id
  fake.deny(ASSIGN, theirs)
  fake.addSite({ resourceGroup: RG, name: app, systemAssigned, userAssignedIdentities: [theirs] })
  fake.addVault({ resourceGroup: RG, name: vault })
  return { app, vault, theirs }
}

describe("another team's identity on the app", () => {
  it('identity: system turns the system identity on without naming their identity; it stays', async () => {
    const { app, vault, theirs } = appWithTheirIdentity(false)
    const run = await runAction(fake, targetInputs(RG, app, vault))
    ok(run)
    expect(fake.getSite(RG, app)!.identity?.type).toBe('SystemAssigned, UserAssigned')
    expect(uaiKeys(app)).toEqual([theirs.toLowerCase()])
    expect(sitePatches(app).map((r) => r.requestBody)).toEqual([{ identity: { type: 'SystemAssigned, UserAssigned' } }])
  })

  it('revoke with disable-identity turns it off without naming their identity; it stays', async () => {
    const { app, vault, theirs } = appWithTheirIdentity(true)
    ok(await runAction(fake, targetInputs(RG, app, vault)))
    fake.clearLog()
    const run = await runAction(fake, targetInputs(RG, app, vault, { mode: 'revoke', 'disable-identity': 'true' }))
    ok(run)
    expect(fake.getSite(RG, app)!.identity?.type).toBe('UserAssigned')
    expect(uaiKeys(app)).toEqual([theirs.toLowerCase()])
  })

  it('a user-assigned identity is attached naming only itself', async () => {
    const { app, vault, theirs } = appWithTheirIdentity(true)
    const ours = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('our-id') }).id
    ok(await runAction(fake, targetInputs(RG, app, vault, { identity: ours })))
    expect(uaiKeys(app).sort()).toEqual([theirs, ours].map((k) => k.toLowerCase()).sort())
    expect(sitePatches(app).map((r) => r.requestBody)).toEqual([
      {
        identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ours]: {} } },
        properties: { keyVaultReferenceIdentity: ours }
      }
    ])
  })

  it('an attached identity that was deleted gets its own message naming it and the fix', async () => {
    const app = next('app')
    const vault = next('kv')
    const gone = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('gone-id') }).id
    fake.addSite({ resourceGroup: RG, name: app, userAssignedIdentities: [gone] })
    fake.addVault({ resourceGroup: RG, name: vault })
    fake.deleteUserAssignedIdentity(gone)
    const run = await runAction(fake, targetInputs(RG, app, vault))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(`Could not turn on the system-assigned identity of app '${app}'`)
    expect(run.error).toContain(`still lists user-assigned identity ${gone.toLowerCase()}, which no longer exists`)
    expect(run.error).toContain(`az webapp identity remove --name ${app}`)
  })
})

describe('the order of the writes', () => {
  const reference = (vault: string, secret: string): string =>
    `@Microsoft.KeyVault(VaultName=${vault};SecretName=${secret})`

  it('from the system identity to a user-assigned one: granted first, then switched in one write; every reference resolves', async () => {
    const app = next('app')
    const vault = next('kv')
    const site = fake.addSite({
      resourceGroup: RG,
      name: app,
      systemAssigned: true,
      // OTHER is not named by the run: it must not be left failing either.
      appSettings: { DB: reference(vault, 'db'), OTHER: reference(vault, 'other') }
    })
    fake.addVault({
      resourceGroup: RG,
      name: vault,
      secrets: { db: {}, other: {} },
      accessPolicies: [
        { tenantId: fake.tenantId, objectId: site.identity!.principalId!, permissions: { secrets: ['get'] } }
      ]
    })
    const ours = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('our-id') })
    const inputs = targetInputs(RG, app, vault, { identity: ours.id, 'app-settings': `DB=db` })
    const run = await runAction(fake, inputs)
    ok(run)
    // One identity write, after the grant: one restart, and the refetch it caused had access.
    const writes = fake.requests
      .filter((r) => r.server === 'arm' && r.method !== 'GET' && !r.path.endsWith('/list'))
      .map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`)
    expect(writes).toEqual([`PUT accessPolicies/add`, `PATCH sites/${app}`])
    expect(fake.restarts(RG, app)).toBe(1)
    expect(JSON.parse(run.outputs.references)).toEqual({ [app]: { DB: 'Resolved', OTHER: 'Resolved' } })
    expect(run.summary).toMatch(
      /made it the keyVaultReferenceIdentity \(was SystemAssigned\); one write, the app restarts/
    )
    // What App Service holds now, read by another run: nothing stale.
    const verify = await runAction(fake, { ...inputs, mode: 'verify' })
    ok(verify)
    expect(JSON.parse(verify.outputs.references)).toEqual({ [app]: { DB: 'Resolved', OTHER: 'Resolved' } })
  })

  it('the plan says which writes restart the app', async () => {
    const app = next('app')
    const vault = next('kv')
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    const ours = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('our-id') })
    const run = await runAction(fake, targetInputs(RG, app, vault, { identity: ours.id, mode: 'plan' }))
    ok(run)
    expect(run.summary).toContain(
      `attach user-assigned identity ${ours.name} to ${app} (keeping its other identities) and set keyVaultReferenceIdentity of ${app} to ${ours.name} (was SystemAssigned), in one write after the grants (the app restarts)`
    )
  })
})
