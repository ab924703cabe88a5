// Key Vault references end to end: the bundled action writes app settings as references, after
// the grant, and proves from App Service's own status that they resolve; verify gates on them.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction, targetInputs, type ActionRun } from './run-action.ts'

let fake: FakeAzure
const RG = 'refs-rg'
let counter = 0
const next = (prefix: string): string => `${prefix}-${++counter}`
const V_OLD = '0123456789abcdef0123456789abcdef'
const V_NEW = 'fedcba9876543210fedcba9876543210'
const SECRET_VALUE_LOOKALIKE = 'plain-setting-value-never-printed'

beforeAll(async () => {
  fake = await startFakeAzure({ referenceResolveDelayMs: 500 })
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())
beforeEach(() => fake.clearLog())

const ok = (run: ActionRun): void => {
  expect(run.error).toBe('')
  expect(run.exitCode).toBe(0)
}
const settingsWrites = (): number =>
  fake.requests.filter((r) => r.method === 'PUT' && /\/config\/appsettings$/i.test(r.path)).length
const refreshes = (): number =>
  fake.requests.filter((r) => r.method === 'POST' && /\/configreferences\/appsettings\/refresh$/i.test(r.path)).length
const refs = (run: ActionRun): Record<string, Record<string, string>> =>
  JSON.parse(run.outputs.references) as Record<string, Record<string, string>>

function seed(options: { rbac?: boolean; systemAssigned?: boolean; appSettings?: Record<string, string> } = {}) {
  const app = next('app')
  const vault = next('kv')
  fake.addSite({
    resourceGroup: RG,
    name: app,
    systemAssigned: options.systemAssigned,
    appSettings: { FEATURE_X: 'on', PLAIN: SECRET_VALUE_LOOKALIKE, ...options.appSettings },
    connectionStrings: { Main: { value: 'Server=db;Password=pw', type: 'SQLAzure' } }
  })
  fake.addVault({
    resourceGroup: RG,
    name: vault,
    enableRbacAuthorization: options.rbac ?? false,
    secrets: { 'db-password': {}, 'api-key': { versions: [V_OLD, V_NEW] } }
  })
  return { app, vault }
}

describe('apply with app-settings', () => {
  it('takes a fresh app to Resolved in one run, keeping every other setting; a re-run writes nothing', async () => {
    const { app, vault } = seed()
    const run = await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': 'DB_PASSWORD=db-password' }))
    ok(run)
    expect(refs(run)).toEqual({ [app]: { DB_PASSWORD: 'Resolved' } })
    expect(fake.appSettings(RG, app)).toEqual({
      FEATURE_X: 'on',
      PLAIN: SECRET_VALUE_LOOKALIKE,
      DB_PASSWORD: `@Microsoft.KeyVault(VaultName=${vault};SecretName=db-password)`
    })
    expect(fake.connectionStrings(RG, app)).toEqual({ Main: { value: 'Server=db;Password=pw', type: 'SQLAzure' } })
    // Turning the identity on restarts the app (its principal is needed before the grant), the settings write again.
    expect(fake.restarts(RG, app)).toBe(2)
    // Order: identity, then access, then the settings.
    const writes = fake.requests
      .filter((r) => r.server === 'arm' && r.method !== 'GET' && !r.path.endsWith('/list'))
      .map((r) => r.path)
    expect(writes.map((p) => p.split('/').slice(-2).join('/'))).toEqual([
      `sites/${app}`,
      'accessPolicies/add',
      'config/appsettings'
    ])
    expect(run.summary).toContain('DB_PASSWORD')
    expect(run.summary).toContain(`${vault}/db-password`)
    for (const text of [run.stdout, run.stderr, run.summary, JSON.stringify(run.outputs)]) {
      expect(text).not.toContain(SECRET_VALUE_LOOKALIKE)
      expect(text).not.toContain('Password=pw')
    }

    fake.clearLog()
    const again = await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': 'DB_PASSWORD=db-password' }))
    ok(again)
    expect(again.outputs.changed).toBe('false')
    expect(settingsWrites()).toBe(0)
    expect(fake.restarts(RG, app)).toBe(2) // none more
    expect(refs(again)).toEqual({ [app]: { DB_PASSWORD: 'Resolved' } })
  })

  it('a SecretUri with a version (not the newest) is written verbatim and resolves', async () => {
    const { app, vault } = seed()
    const uri = `https://${vault}.vault.azure.net/secrets/api-key/${V_OLD}`
    const run = await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': `API_KEY=${uri}` }))
    ok(run)
    expect(fake.appSettings(RG, app).API_KEY).toBe(`@Microsoft.KeyVault(SecretUri=${uri})`)
    expect(refs(run)[app]).toEqual({ API_KEY: 'Resolved' })
  })

  it("a versionless SecretUri ending in a slash (the docs' old example form) is written as given and resolves", async () => {
    const { app, vault } = seed()
    const uri = `https://${vault}.vault.azure.net/secrets/api-key/`
    const run = await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': `API_KEY=${uri}` }))
    ok(run)
    expect(fake.appSettings(RG, app).API_KEY).toBe(`@Microsoft.KeyVault(SecretUri=${uri})`)
    expect(refs(run)[app]).toEqual({ API_KEY: 'Resolved' })
  })

  it('a missing secret fails before any write, naming the secret and the vault', async () => {
    const { app, vault } = seed()
    const run = await runAction(
      fake,
      targetInputs(RG, app, vault, { 'app-settings': 'DB_PASSWORD=db-password\nOOPS=no-such-secret' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(`secret 'no-such-secret' (for OOPS) was not found in Key Vault '${vault}'`)
    expect(fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET' && !r.path.endsWith('/list'))).toEqual(
      []
    )
    expect(fake.getSite(RG, app)!.identity).toBeUndefined()
  })

  it('on an RBAC vault: the role first, then the settings', async () => {
    const { app, vault } = seed({ rbac: true })
    const run = await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': 'DB_PASSWORD=db-password' }))
    ok(run)
    expect(run.outputs['access-model']).toBe('rbac')
    expect(refs(run)[app]).toEqual({ DB_PASSWORD: 'Resolved' })
  })

  it('heals a cached failure with the documented refresh call (not a rewrite of the settings), and says it restarts the app', async () => {
    const { app, vault } = seed({ systemAssigned: true })
    fake.setAppSettings(RG, app, undefined, {
      ...fake.appSettings(RG, app),
      DB_PASSWORD: `@Microsoft.KeyVault(VaultName=${vault};SecretName=db-password)`
    })
    // Read once before the grant: App Service caches AccessToKeyVaultDenied.
    const before = await runAction(fake, targetInputs(RG, app, vault, { mode: 'verify' }))
    expect(before.exitCode).toBe(1)
    expect(before.error).toContain('DB_PASSWORD')
    expect(before.error).toContain('AccessToKeyVaultDenied')
    const restarts = fake.restarts(RG, app)
    const settings = fake.appSettings(RG, app)
    fake.clearLog()
    // Right after the refresh App Service may still report the old, cached failure for a while:
    // the action waits it out instead of failing on it.
    fake.setStaleReferenceStatus(2000)
    let run: ActionRun
    try {
      run = await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': 'DB_PASSWORD=db-password' }))
    } finally {
      fake.setStaleReferenceStatus(0)
    }
    ok(run)
    expect(refs(run)[app]).toEqual({ DB_PASSWORD: 'Resolved' })
    // POST …/configreferences/appsettings/refresh (app-service-key-vault-references.md), once; no settings PUT.
    expect(settingsWrites()).toBe(0)
    expect(refreshes()).toBe(1)
    expect(fake.appSettings(RG, app)).toEqual(settings)
    expect(fake.restarts(RG, app)).toBe(restarts + 1)
    expect(run.stdout).toContain(
      `Asked App Service to resolve DB_PASSWORD of ${app} again (they had failed; the refresh call restarts the app).`
    )
  })

  it('a slot: its own settings are written; production and the slot-sticky names are untouched', async () => {
    const { app, vault } = seed()
    fake.addSlot({ resourceGroup: RG, site: app, slot: 'staging', appSettings: { SLOT_ONLY: '1' } })
    fake.setAppSettings(RG, app, undefined, { ...fake.appSettings(RG, app), STICKY: 'prod' })
    const sticky = { appSettingNames: ['STICKY'], connectionStringNames: ['Main'] }
    // Slot-sticky names live on the production site only.
    await fetchSlotNames(app, sticky)
    const production = fake.appSettings(RG, app)
    const run = await runAction(
      fake,
      targetInputs(RG, `${app}/staging`, vault, { 'app-settings': 'DB_PASSWORD=db-password' })
    )
    ok(run)
    expect(refs(run)).toEqual({ [`${app}/staging`]: { DB_PASSWORD: 'Resolved' } })
    expect(fake.appSettings(RG, app, 'staging')).toEqual({
      SLOT_ONLY: '1',
      DB_PASSWORD: `@Microsoft.KeyVault(VaultName=${vault};SecretName=db-password)`
    })
    expect(fake.appSettings(RG, app)).toEqual(production)
    expect(fake.slotConfigNames(RG, app)).toMatchObject(sticky)
  })

  it('a setting another writer changed meanwhile is named (never its value), and the run fails', async () => {
    const { app, vault } = seed()
    const list = `/sites/${app}/config/appsettings/list`
    // A value no random token can hold by chance ('off' may appear in a masked token's text).
    const changedValue = 'changed-by-another-writer'
    const tampered = { properties: { FEATURE_X: changedValue, PLAIN: SECRET_VALUE_LOOKALIKE } }
    fake.addFault({ server: 'arm', method: 'POST', path: list, skip: 1, status: 200, body: tampered })
    const run = await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': 'DB_PASSWORD=db-password' }))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(
      `The app settings of '${app}' read back after the write differ from what was written: DB_PASSWORD.`
    )
    // Another writer's change after ours is theirs: named in a warning, not blamed on the run.
    expect(run.stdout).toContain(`::warning::Other settings of ${app} changed after this run's write`)
    expect(run.stdout).toMatch(/not undone\): FEATURE_X\./)
    expect(run.error + run.stdout).not.toContain(changedValue)
    expect(run.stdout).not.toContain(SECRET_VALUE_LOOKALIKE)
  })

  it('plan names the settings apply would write (never values) and writes nothing', async () => {
    const { app, vault } = seed()
    const run = await runAction(
      fake,
      targetInputs(RG, app, vault, { mode: 'plan', 'app-settings': 'DB_PASSWORD=db-password\nAPI=api-key' })
    )
    ok(run)
    expect(run.outputs.changed).toBe('true')
    expect(run.stdout).toContain(`app settings of ${app}: set DB_PASSWORD, API to Key Vault references`)
    expect(run.stdout).not.toContain('@Microsoft.KeyVault')
    expect(
      fake.requests
        .filter((r) => r.server === 'arm' && r.method !== 'GET' && !r.path.endsWith('/list'))
        .map((r) => `${r.method} ${r.path}`)
    ).toEqual([])
    expect(fake.appSettings(RG, app).DB_PASSWORD).toBeUndefined()
  })
})

describe('verify gates on every reference; revoke warns', () => {
  it('fails on a reference to a vault the app cannot read, naming it; passes once all resolve', async () => {
    const { app, vault } = seed()
    const elsewhere = next('kv-elsewhere')
    fake.addVault({ resourceGroup: RG, name: elsewhere, secrets: { legacy: {} } })
    ok(await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': 'DB_PASSWORD=db-password' })))
    fake.setAppSettings(RG, app, undefined, {
      ...fake.appSettings(RG, app),
      LEGACY: `@Microsoft.KeyVault(VaultName=${elsewhere};SecretName=legacy)`
    })
    const gate = await runAction(fake, targetInputs(RG, app, vault, { mode: 'verify' }))
    expect(gate.exitCode).toBe(1)
    expect(gate.error).toContain(`${app}: LEGACY → ${elsewhere}/legacy: AccessToKeyVaultDenied`)
    expect(gate.error).not.toContain('DB_PASSWORD')
    expect(refs(gate)[app]).toEqual({ DB_PASSWORD: 'Resolved', LEGACY: 'AccessToKeyVaultDenied' })

    // Grant on that vault too: LEGACY failed on a vault this run granted, so App Service is asked
    // to resolve it anew (the refresh call); then the gate passes.
    const settingsBefore = fake.appSettings(RG, app)
    fake.clearLog()
    const granted = await runAction(
      fake,
      targetInputs(RG, app, `${vault},${elsewhere}`, { 'app-settings': 'DB_PASSWORD=db-password' })
    )
    ok(granted)
    expect(granted.stdout).toContain(`Asked App Service to resolve LEGACY of ${app} again`)
    expect(settingsWrites()).toBe(0)
    expect(refreshes()).toBe(1)
    expect(fake.appSettings(RG, app)).toEqual(settingsBefore)
    const pass = await runAction(fake, targetInputs(RG, app, `${vault},${elsewhere}`, { mode: 'verify' }))
    ok(pass)
    expect(refs(pass)[app]).toEqual({ DB_PASSWORD: 'Resolved', LEGACY: 'Resolved' })
  })

  it('revoke leaves settings alone but warns which references will stop resolving', async () => {
    const { app, vault } = seed()
    ok(await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': 'DB_PASSWORD=db-password' })))
    const settings = fake.appSettings(RG, app)
    fake.clearLog()
    // The same inputs as the apply, app-settings included: revoke ignores them and succeeds.
    const run = await runAction(
      fake,
      targetInputs(RG, app, vault, { mode: 'revoke', 'app-settings': 'DB_PASSWORD=db-password' })
    )
    ok(run)
    expect(settingsWrites()).toBe(0)
    expect(run.stdout).toMatch(
      new RegExp(
        `::warning::${app}: these Key Vault references will stop resolving once the access is revoked.*DB_PASSWORD → ${vault}/db-password`
      )
    )
    expect(fake.appSettings(RG, app)).toEqual(settings)
  })
})

describe('connection strings, App Configuration references, sovereign clouds', () => {
  it('verify reads connection-string references too: a broken one fails the gate, marked; a grant heals it with the refresh', async () => {
    const { app, vault } = seed()
    const elsewhere = next('kv-cs')
    fake.addVault({ resourceGroup: RG, name: elsewhere, secrets: { legacy: {} } })
    ok(await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': 'DB_PASSWORD=db-password' })))
    fake.setConnectionStrings(RG, app, undefined, {
      Main: { value: `@Microsoft.KeyVault(VaultName=${elsewhere};SecretName=legacy)`, type: 'SQLAzure' }
    })
    const gate = await runAction(fake, targetInputs(RG, app, vault, { mode: 'verify' }))
    expect(gate.exitCode).toBe(1)
    expect(gate.error).toContain(`${app}: connection string Main → ${elsewhere}/legacy: AccessToKeyVaultDenied`)
    expect(refs(gate)[app]).toEqual({ DB_PASSWORD: 'Resolved', 'connectionStrings/Main': 'AccessToKeyVaultDenied' })
    expect(gate.summary).toContain('connection string Main')

    // Granting that vault makes App Service resolve it again: the refresh covers connection strings.
    fake.clearLog()
    const granted = await runAction(
      fake,
      targetInputs(RG, app, `${vault},${elsewhere}`, { 'app-settings': 'DB_PASSWORD=db-password' })
    )
    ok(granted)
    expect(granted.stdout).toContain(`Asked App Service to resolve connection string Main of ${app} again`)
    expect(refreshes()).toBe(1)
    expect(fake.connectionStrings(RG, app)).toEqual({
      Main: { value: `@Microsoft.KeyVault(VaultName=${elsewhere};SecretName=legacy)`, type: 'SQLAzure' }
    })
    const pass = await runAction(fake, targetInputs(RG, app, `${vault},${elsewhere}`, { mode: 'verify' }))
    ok(pass)
    expect(refs(pass)[app]).toEqual({ DB_PASSWORD: 'Resolved', 'connectionStrings/Main': 'Resolved' })
  })

  it('App Configuration references: the plan says a new keyVaultReferenceIdentity moves them, apply and revoke warn', async () => {
    const app = next('app')
    const vault = next('kv')
    const uai = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('shared-id') })
    fake.addSite({
      resourceGroup: RG,
      name: app,
      systemAssigned: true,
      appSettings: { FONT: '@Microsoft.AppConfiguration(Endpoint=https://store.azconfig.io; Key=font)' },
      connectionStrings: {
        Cfg: { value: '@Microsoft.AppConfiguration(Endpoint=https://store.azconfig.io; Key=db)', type: 'Custom' }
      }
    })
    fake.addVault({ resourceGroup: RG, name: vault, secrets: { s: {} } })
    const inputs = targetInputs(RG, app, vault, { identity: uai.id })
    const note = `${app}: keyVaultReferenceIdentity also selects the identity of its App Configuration references (FONT, connection string Cfg)`

    const plan = await runAction(fake, { ...inputs, mode: 'plan' })
    ok(plan)
    expect(plan.stdout).toContain(`Note: ${note}; keyVaultReferenceIdentity changes from SystemAssigned to ${uai.name}`)
    expect(plan.summary).toContain('App Configuration Data Reader')

    const apply = await runAction(fake, inputs)
    ok(apply)
    expect(apply.stdout).toContain(`::warning::${note}`)
    expect(apply.stdout).not.toContain('store.azconfig.io') // names only, never values

    const revoke = await runAction(fake, { ...inputs, mode: 'revoke', 'disable-identity': 'true' })
    ok(revoke)
    expect(revoke.stdout).toContain(
      `::warning::${note}; keyVaultReferenceIdentity is reset from ${uai.name} to SystemAssigned`
    )
    // Apps without them get no such note.
    const { app: plain, vault: plainVault } = seed()
    const quiet = await runAction(fake, targetInputs(RG, plain, plainVault, { identity: uai.id, mode: 'plan' }))
    ok(quiet)
    expect(quiet.stdout).not.toContain('App Configuration')
  })
})

describe('sovereign clouds', () => {
  it('Azure US Government: a secret URI of vault.usgovcloudapi.net is written and resolves; the public suffix is refused', async () => {
    const gov = await startFakeAzure({ referenceResolveDelayMs: 300, cloud: 'AzureUSGovernment' })
    try {
      gov.addResourceGroup(RG)
      gov.addSite({ resourceGroup: RG, name: 'gov-app' })
      gov.addVault({ resourceGroup: RG, name: 'gov-kv', secrets: { db: {} } })
      const uri = 'https://gov-kv.vault.usgovcloudapi.net/secrets/db'
      const inputs = targetInputs(RG, 'gov-app', 'gov-kv', {
        environment: 'AzureUSGovernment',
        'app-settings': `DB=${uri}`
      })
      const run = await runAction(gov, inputs)
      ok(run)
      expect(gov.appSettings(RG, 'gov-app').DB).toBe(`@Microsoft.KeyVault(SecretUri=${uri})`)
      expect(JSON.parse(run.outputs.references)).toEqual({ 'gov-app': { DB: 'Resolved' } })
      const wrong = await runAction(gov, {
        ...inputs,
        'app-settings': 'DB=https://gov-kv.vault.azure.net/secrets/db'
      })
      expect(wrong.exitCode).toBe(1)
      expect(wrong.error).toContain('the AzureUSGovernment Key Vault DNS suffix is vault.usgovcloudapi.net')
    } finally {
      await gov.close()
    }
  })

  it('Azure China: by name and by a vault.azure.cn URI', async () => {
    const cn = await startFakeAzure({ referenceResolveDelayMs: 300, cloud: 'AzureChinaCloud' })
    try {
      cn.addResourceGroup(RG)
      cn.addSite({ resourceGroup: RG, name: 'cn-app' })
      cn.addVault({ resourceGroup: RG, name: 'cn-kv', secrets: { db: {}, api: {} } })
      const run = await runAction(
        cn,
        targetInputs(RG, 'cn-app', 'cn-kv', {
          environment: 'AzureChinaCloud',
          'app-settings': 'DB=db\nAPI=https://cn-kv.vault.azure.cn/secrets/api'
        })
      )
      ok(run)
      expect(JSON.parse(run.outputs.references)).toEqual({ 'cn-app': { DB: 'Resolved', API: 'Resolved' } })
    } finally {
      await cn.close()
    }
  })
})

/** Marks setting names slot-sticky on the production site, as the portal's "Deployment slot setting" does. */
async function fetchSlotNames(
  app: string,
  names: { appSettingNames: string[]; connectionStringNames: string[] }
): Promise<void> {
  const { armCaller } = await import('../fake-azure/tests/helpers.ts')
  const arm = await armCaller(fake)
  const path = `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${app}/config/slotConfigNames`
  const put = await arm('PUT', path, { properties: names })
  expect(put.status).toBe(200)
}
