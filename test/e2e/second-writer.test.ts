// Another writer changes the app while the action runs (a deployment, a slot swap, the portal,
// another workflow). The action must not undo that change by sending again a write it built from
// an earlier read, must record a write as soon as Azure accepts it, and must not say more than is
// true. The fake's FaultRule `before`/`after` hooks are the second writer.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction, targetInputs } from './run-action.ts'

let fake: FakeAzure
const RG = 'writers-rg'
let counter = 0
const next = (prefix: string): string => `${prefix}-${++counter}`
const SETTINGS_PUT = /\/config\/appsettings$/i
const SETTINGS_LIST = /\/config\/appsettings\/list$/i

beforeAll(async () => {
  fake = await startFakeAzure({ referenceResolveDelayMs: 200 })
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())
beforeEach(() => {
  fake.clearLog()
  fake.clearFaults()
})

function seed(): { app: string; vault: string; inputs: Record<string, string> } {
  const app = next('app')
  const vault = next('kv')
  fake.addSite({ resourceGroup: RG, name: app, systemAssigned: true, appSettings: { FEATURE_X: 'on' } })
  fake.addVault({ resourceGroup: RG, name: vault, secrets: { 'db-password': {} } })
  return { app, vault, inputs: targetInputs(RG, app, vault, { 'app-settings': 'DB_PASSWORD=db-password' }) }
}

/** An app without identity and an empty vault. */
function bareApp(): { app: string; vault: string } {
  const app = next('app')
  const vault = next('kv')
  fake.addSite({ resourceGroup: RG, name: app })
  fake.addVault({ resourceGroup: RG, name: vault })
  return { app, vault }
}

/** The other writer adds a setting the way the portal does: the whole collection, with theirs in it. */
const addSettingAsOther = (app: string, name: string, value: string) => (): void =>
  fake.setAppSettings(RG, app, undefined, { ...fake.appSettings(RG, app), [name]: value })

const settingsPuts = (): number => fake.requests.filter((r) => r.method === 'PUT' && SETTINGS_PUT.test(r.path)).length
const reference = (vault: string): string => `@Microsoft.KeyVault(VaultName=${vault};SecretName=db-password)`

describe('app settings with a second writer', () => {
  it('after a 409 while another writer adds a setting, the write is rebuilt and keeps theirs', async () => {
    const { app, vault, inputs } = seed()
    fake.addFault({ method: 'PUT', path: SETTINGS_PUT, status: 409, before: addSettingAsOther(app, 'DEPLOYED', 'v2') })
    const run = await runAction(fake, inputs)
    expect(run.error).toBe('')
    expect(fake.appSettings(RG, app)).toEqual({ FEATURE_X: 'on', DEPLOYED: 'v2', DB_PASSWORD: reference(vault) })
    expect(settingsPuts()).toBe(2)
    // The second PUT was built from a read made after the other writer's change.
    const lastPut = fake.requests.filter((r) => r.method === 'PUT' && SETTINGS_PUT.test(r.path)).at(-1)
    expect(JSON.stringify(lastPut?.requestBody)).toContain('DEPLOYED')
    expect(run.stderr + run.stdout).toMatch(/Reading it again/)
  })

  it('after a write whose answer was lost, reads again and does not send it twice', async () => {
    const { app, vault, inputs } = seed()
    // Carried out, then the other writer adds a setting, then the answer is lost on the way back.
    fake.addFault({
      method: 'PUT',
      path: SETTINGS_PUT,
      dropAnswer: true,
      after: addSettingAsOther(app, 'DEPLOYED', 'v3')
    })
    const run = await runAction(fake, inputs)
    expect(run.error).toBe('')
    expect(fake.appSettings(RG, app)).toEqual({ FEATURE_X: 'on', DEPLOYED: 'v3', DB_PASSWORD: reference(vault) })
    expect(settingsPuts()).toBe(1)
    // It may have been this run's write: the outputs do not say nothing changed.
    expect(run.outputs.changed).toBe('true')
    expect(run.summary).toMatch(/may have written/)
  })

  it('a write Azure accepted is recorded even when the read-back then contradicts it', async () => {
    const { app, inputs } = seed()
    // Right after our PUT another writer puts back the collection it read before it: ours is gone.
    const stale = { FEATURE_X: 'on', OTHER: 'x' }
    fake.addFault({
      method: 'POST',
      path: SETTINGS_LIST,
      skip: 1,
      before: () => fake.setAppSettings(RG, app, undefined, stale)
    })
    const run = await runAction(fake, inputs)
    expect(run.exitCode).not.toBe(0)
    expect(run.error).toMatch(/read back after the write differ.*DB_PASSWORD/s)
    expect(run.outputs.changed).toBe('true')
    expect(run.summary).toMatch(/Set DB_PASSWORD of/)
    expect(fake.appSettings(RG, app)).toEqual(stale)
  })

  it('a run without a second writer makes no extra request', async () => {
    const { inputs } = seed()
    const run = await runAction(fake, inputs)
    expect(run.error).toBe('')
    expect(settingsPuts()).toBe(1)
    expect(fake.requests.filter((r) => SETTINGS_LIST.test(r.path))).toHaveLength(2) // read, read back
  })
})

describe('a write is recorded when Azure accepts it', () => {
  it('an access-policy remove whose read-back failed is reported as accepted, not confirmed', async () => {
    const { app, vault } = seed()
    const inputs = targetInputs(RG, app, vault, {})
    expect((await runAction(fake, inputs)).error).toBe('')
    fake.clearLog()
    // The vault is read once before the plan; the read-back after the remove is refused.
    fake.addFault({ method: 'GET', path: `/vaults/${vault}`, skip: 1, status: 403 })
    const run = await runAction(fake, { ...inputs, mode: 'revoke' })
    expect(run.exitCode).not.toBe(0)
    expect(fake.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/accessPolicies/remove'))).toBe(true)
    expect(run.outputs.changed).toBe('true')
    expect(run.summary).toMatch(/Azure accepted the removal of secrets: get, list of app-\d+ on vault kv-\d+/)
    expect(run.summary).toMatch(/not confirmed/)
  })
})

describe('site identity with a second writer', () => {
  it('after a 409 while another writer attaches a user-assigned identity, both identities stay', async () => {
    const { app, vault } = bareApp()
    const theirs = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('theirs') })
    fake.addFault({
      method: 'PATCH',
      path: `/sites/${app}`,
      status: 409,
      before: () => {
        fake.patchSite(RG, app, undefined, {
          identity: { type: 'UserAssigned', userAssignedIdentities: { [theirs.id]: {} } }
        })
      }
    })
    const run = await runAction(fake, targetInputs(RG, app, vault, {}))
    expect(run.error).toBe('')
    const identity = fake.getSite(RG, app)!.identity!
    expect(identity.type).toBe('SystemAssigned, UserAssigned')
    expect(Object.keys(identity.userAssignedIdentities ?? {}).map((id) => id.toLowerCase())).toEqual([
      theirs.id.toLowerCase()
    ])
    expect(run.outputs['principal-id']).toBe(identity.principalId)
  })

  it('after a 409 while another writer turns the system identity on, nothing is left to write', async () => {
    const { app, vault } = bareApp()
    fake.addFault({
      method: 'PATCH',
      path: `/sites/${app}`,
      status: 409,
      before: () => {
        fake.patchSite(RG, app, undefined, { identity: { type: 'SystemAssigned' } })
      }
    })
    const run = await runAction(fake, targetInputs(RG, app, vault, {}))
    expect(run.error).toBe('')
    const patches = fake.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/sites/${app}`))
    expect(patches).toHaveLength(1)
    expect(run.outputs['principal-id']).toBe(fake.getSite(RG, app)!.identity!.principalId)
    // The other writer turned it on, not this run: the summary does not claim it.
    expect(run.summary).not.toMatch(/Turned on the system-assigned identity/)
    expect(run.stdout).toMatch(/already so when read again \(another writer\); nothing written/)
  })

  it('after a 429 with Retry-After, the PATCH is built again from a read made after the wait', async () => {
    const { app, vault } = bareApp()
    const theirs = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('theirs') })
    fake.addFault({
      method: 'PATCH',
      path: `/sites/${app}`,
      status: 429,
      retryAfter: '1',
      after: () => {
        fake.patchSite(RG, app, undefined, {
          identity: { type: 'UserAssigned', userAssignedIdentities: { [theirs.id]: {} } }
        })
      }
    })
    const run = await runAction(fake, targetInputs(RG, app, vault, {}))
    expect(run.error).toBe('')
    const patches = fake.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/sites/${app}`))
    expect(patches.map((r) => r.requestBody)).toEqual([
      { identity: { type: 'SystemAssigned' } },
      { identity: { type: 'SystemAssigned, UserAssigned' } }
    ])
    expect(fake.getSite(RG, app)!.identity!.type).toBe('SystemAssigned, UserAssigned')
  })

  it("an identity write attached after slow grants is built from a new read, not the plan's", async () => {
    const { app, vault } = bareApp()
    const ours = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('ours') })
    // The grant takes 6 s; meanwhile someone turns the app's system identity on.
    fake.addFault({
      method: 'PUT',
      path: /\/accessPolicies\/add$/,
      delayMs: 6000,
      before: () => {
        fake.patchSite(RG, app, undefined, { identity: { type: 'SystemAssigned' } })
      }
    })
    const run = await runAction(fake, targetInputs(RG, app, vault, { identity: ours.id }))
    expect(run.error).toBe('')
    // The attach keeps the system identity the other writer turned on.
    expect(fake.getSite(RG, app)!.identity!.type).toBe('SystemAssigned, UserAssigned')
  }, 30_000)

  it("a PATCH answered 503 until the budget ends: Azure's words in the error, the write recorded as possible", async () => {
    const { app, vault } = bareApp()
    fake.addFault({
      method: 'PATCH',
      path: `/sites/${app}`,
      status: 503,
      times: 100,
      body: { error: { code: 'ServiceBusy', message: 'The front end is being upgraded.' } }
    })
    const run = await runAction(fake, { ...targetInputs(RG, app, vault, {}), 'retry-timeout': '4' })
    expect(run.exitCode).not.toBe(0)
    expect(run.error).toMatch(/503 \(ServiceBusy: The front end is being upgraded\.\)/)
    expect(run.summary).toMatch(/Azure may have made this change: the system-assigned identity of app-\d+ turned on/)
    expect(run.outputs.changed).toBe('true')
  }, 30_000)
})

describe('settings with a second writer after the write', () => {
  it("a setting another writer changed to another resolving reference is not reported as this run's", async () => {
    const { app, vault, inputs } = seed()
    fake.addSecret(RG, vault, 'their-secret')
    // After the read-back, another writer points DB_PASSWORD at another secret that resolves.
    fake.addFault({
      method: 'GET',
      path: /\/config\/configreferences\/appsettings$/,
      skip: 1, // the plan's read
      before: () =>
        fake.setAppSettings(RG, app, undefined, {
          ...fake.appSettings(RG, app),
          DB_PASSWORD: `@Microsoft.KeyVault(VaultName=${vault};SecretName=their-secret)`
        })
    })
    const run = await runAction(fake, { ...inputs, 'retry-timeout': '6' })
    expect(run.exitCode).not.toBe(0)
    expect(run.error).toMatch(/DB_PASSWORD.*OtherValue/s)
    expect(run.summary).toMatch(/Set DB_PASSWORD of/)
  }, 30_000)

  it('after a 429 on the settings PUT while another writer adds a setting, theirs is kept', async () => {
    const { app, vault, inputs } = seed()
    fake.addFault({
      method: 'PUT',
      path: SETTINGS_PUT,
      status: 429,
      retryAfter: '1',
      after: addSettingAsOther(app, 'DEPLOYED', 'v4')
    })
    const run = await runAction(fake, inputs)
    expect(run.error).toBe('')
    expect(fake.appSettings(RG, app)).toEqual({ FEATURE_X: 'on', DEPLOYED: 'v4', DB_PASSWORD: reference(vault) })
    expect(settingsPuts()).toBe(2)
  })
})
