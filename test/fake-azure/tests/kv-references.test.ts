// The Key Vault reference status App Service reports (GET …/config/configreferences/appsettings),
// computed from the fake's real state, and cached the way the service caches it.
import { startFakeAzure, type FakeAzure } from '../index.ts'
import { armCaller, type Reply } from './helpers.ts'

let fake: FakeAzure
let arm: (method: string, path: string, body?: unknown, apiVersion?: string | null) => Promise<Reply>
const KV = '2026-02-01'
const RG = 'cfg-rg'
const OTHER_RG = 'vaults-rg'
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6'
const V1 = '0123456789abcdef0123456789abcdef'
const V2 = 'fedcba9876543210fedcba9876543210'
const UAI = `/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kv-reader`
const rgId = (rg = RG): string => `/subscriptions/${fake.subscriptionId}/resourceGroups/${rg}`
const site = (name: string): string => `${rgId()}/providers/Microsoft.Web/sites/${name}`
const vault = (name: string, rg = RG): string => `${rgId(rg)}/providers/Microsoft.KeyVault/vaults/${name}`
const ref = (v: string, s: string, version?: string): string =>
  `@Microsoft.KeyVault(VaultName=${v};SecretName=${s}${version ? `;SecretVersion=${version}` : ''})`
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

type Item = { name: string; properties: Record<string, unknown> }
async function refs(path: string): Promise<Record<string, Record<string, unknown>>> {
  const r = await arm('GET', `${path}/config/configreferences/appsettings`)
  expect(r.status).toBe(200)
  return Object.fromEntries((r.body.value as Item[]).map((i) => [i.name, i.properties]))
}
async function statuses(path: string): Promise<Record<string, unknown>> {
  return Object.fromEntries(Object.entries(await refs(path)).map(([k, p]) => [k, p.status]))
}
const putSettings = (path: string, properties: Record<string, string>): Promise<Reply> =>
  arm('PUT', `${path}/config/appsettings`, { properties })
const policy = (objectId: string, secrets: string[]) => ({
  tenantId: fake.tenantId,
  objectId,
  permissions: { secrets }
})

beforeAll(async () => {
  fake = await startFakeAzure({ referenceResolveDelayMs: 0 })
  arm = await armCaller(fake)
})
afterAll(async () => {
  await fake.close()
})

describe('Key Vault reference status', () => {
  it('computes every status from the real identity, vault, secret and access', async () => {
    const app = fake.addSite({ resourceGroup: RG, name: 'ref-app', systemAssigned: true })
    const me = app.identity!.principalId!
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-pol',
      accessPolicies: [policy(me, ['Get'])],
      secrets: { s1: { versions: [V1, V2] }, off: { enabled: false } }
    })
    fake.addVault({ resourceGroup: RG, name: 'kv-rbac', enableRbacAuthorization: true, secrets: { s2: {} } })
    fake.addRoleAssignment({ scope: vault('kv-rbac'), roleDefinitionGuid: SECRETS_USER, principalId: me })
    fake.addVault({ resourceGroup: OTHER_RG, name: 'kv-inherit', enableRbacAuthorization: true, secrets: { S3: {} } })
    fake.addRoleAssignment({ scope: rgId(OTHER_RG), roleDefinitionGuid: SECRETS_USER, principalId: me })
    fake.addVault({ resourceGroup: RG, name: 'kv-closed', accessPolicies: [policy(me, ['list'])], secrets: { s4: {} } })
    fake.setAppSettings(RG, 'ref-app', undefined, {
      POLICY: ref('kv-pol', 's1'),
      PINNED_URI: `@Microsoft.KeyVault(SecretUri=https://kv-pol.vault.azure.net/secrets/s1/${V1})`,
      RBAC_VAULT: '@Microsoft.KeyVault(SecretUri=https://kv-rbac.vault.azure.net/secrets/s2)',
      RBAC_RG: '@microsoft.keyvault(vaultname=KV-INHERIT;secretname=s3)',
      NO_VAULT: ref('kv-nowhere', 's1'),
      NO_SECRET: ref('kv-pol', 'nope'),
      DISABLED: ref('kv-pol', 'off'),
      NO_VERSION: ref('kv-pol', 's1', 'ffffffffffffffffffffffffffffffff'),
      DENIED: ref('kv-closed', 's4'),
      NO_SECRET_NAME: '@Microsoft.KeyVault(VaultName=kv-pol)',
      // Versionless with a trailing slash resolves (MicrosoftDocs/azure-docs#41917, #63017); two do not.
      TRAILING_SLASH: '@Microsoft.KeyVault(SecretUri=https://kv-pol.vault.azure.net/secrets/s1/)',
      TWO_SLASHES: '@Microsoft.KeyVault(SecretUri=https://kv-pol.vault.azure.net/secrets/s1//)',
      PLAIN: 'hello',
      NO_AT: 'Microsoft.KeyVault(VaultName=kv-pol;SecretName=s1)'
    })
    expect(await statuses(site('ref-app'))).toEqual({
      POLICY: 'Resolved',
      PINNED_URI: 'Resolved',
      RBAC_VAULT: 'Resolved',
      RBAC_RG: 'Resolved',
      NO_VAULT: 'VaultNotFound',
      NO_SECRET: 'SecretNotFound',
      DISABLED: 'SecretNotFound',
      NO_VERSION: 'SecretVersionNotFound',
      DENIED: 'AccessToKeyVaultDenied',
      NO_SECRET_NAME: 'InvalidSyntax',
      TRAILING_SLASH: 'Resolved',
      TWO_SLASHES: 'InvalidSyntax'
    })
    const one = await arm('GET', `${site('ref-app')}/config/configreferences/appsettings/POLICY`)
    expect(one.body).toEqual({
      id: `${site('ref-app')}/config/configreferences/appsettings/POLICY`,
      name: 'POLICY',
      type: 'Microsoft.Web/sites/config/configreferences',
      properties: {
        reference: ref('kv-pol', 's1'),
        status: 'Resolved',
        vaultName: 'kv-pol',
        secretName: 's1',
        identityType: 'SystemAssigned', // a string, as live answers carry it (kv-references.ts)
        details: expect.any(String),
        source: 'KeyVault',
        activeVersion: V2
      }
    })
    const pinned = (await refs(site('ref-app'))).PINNED_URI
    expect(pinned).toMatchObject({ vaultName: 'kv-pol', secretName: 's1', secretVersion: V1, activeVersion: V1 })
    const slash = (await refs(site('ref-app'))).TRAILING_SLASH
    expect(slash).toMatchObject({ vaultName: 'kv-pol', secretName: 's1', activeVersion: V2 })
    expect(slash.secretVersion).toBeUndefined()
    expect((await refs(site('ref-app'))).DENIED.details).toBe(
      "Key Vault reference was not able to be resolved because site was denied access to Key Vault reference's vault."
    )
    expect((await arm('GET', `${site('ref-app')}/config/configreferences/appsettings/PLAIN`)).status).toBe(404)
  })

  it('MSINotEnabled until keyVaultReferenceIdentity names an attached identity; the PATCH that names it refetches', async () => {
    const app = fake.addSite({
      resourceGroup: RG,
      name: 'uai-app',
      userAssignedIdentities: [UAI],
      appSettings: { SECRET: ref('kv-uai', 'token') }
    })
    const uaiPrincipal = app.identity!.userAssignedIdentities![UAI].principalId
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-uai',
      accessPolicies: [policy(uaiPrincipal, ['all'])],
      secrets: { token: {} }
    })
    // Seeded settings resolve on the first read: the system identity (the default) is off.
    const before = (await refs(site('uai-app'))).SECRET
    expect(before).toMatchObject({ status: 'MSINotEnabled', identityType: 'SystemAssigned' })
    expect(before.details).toBe('Reference was not able to be resolved because site Managed Identity not enabled.')

    const patched = await arm('PATCH', site('uai-app'), { properties: { keyVaultReferenceIdentity: UAI } })
    expect(patched.body.properties.keyVaultReferenceIdentity).toBe(UAI)
    expect((await arm('GET', site('uai-app'))).body.properties.keyVaultReferenceIdentity).toBe(UAI)
    // A keyVaultReferenceIdentity change is a configuration change: restart and refetch.
    expect(fake.restarts(RG, 'uai-app')).toBe(1)
    expect((await refs(site('uai-app'))).SECRET).toMatchObject({ status: 'Resolved', identityType: 'UserAssigned' })
    // The spec's form, for clients that must accept both.
    fake.setReferenceIdentityTypeAsObject(true)
    try {
      await putSettings(site('uai-app'), fake.appSettings(RG, 'uai-app'))
      expect((await refs(site('uai-app'))).SECRET).toMatchObject({
        status: 'Resolved',
        identityType: { type: 'UserAssigned', userAssignedIdentities: { [UAI]: {} } }
      })
    } finally {
      fake.setReferenceIdentityTypeAsObject(false)
    }

    // Naming an identity the site does not have is no better than having none.
    fake.addSite({
      resourceGroup: RG,
      name: 'uai-missing',
      systemAssigned: true,
      keyVaultReferenceIdentity: UAI,
      appSettings: { SECRET: ref('kv-uai', 'token') }
    })
    expect((await statuses(site('uai-missing'))).SECRET).toBe('MSINotEnabled')
  })

  it('reports Initialized after a settings PUT, then the result of the fetch made at that moment', async () => {
    const app = fake.addSite({ resourceGroup: RG, name: 'slow-app', systemAssigned: true })
    fake.addVault({ resourceGroup: RG, name: 'kv-slow', enableRbacAuthorization: true, secrets: { s: {} } })
    fake.setReferenceResolveDelay(300)
    try {
      await putSettings(site('slow-app'), { S: ref('kv-slow', 's'), PLAIN: 'x' })
      const pending = await refs(site('slow-app'))
      expect(Object.keys(pending)).toEqual(['S'])
      expect(pending.S).toMatchObject({ status: 'Initialized', vaultName: 'kv-slow', secretName: 's' })
      expect(pending.S.activeVersion).toBeUndefined()
      // Access granted after the change does not count: the app fetched when it restarted (the
      // failure then stays cached until the next configuration change).
      fake.addRoleAssignment({
        scope: vault('kv-slow'),
        roleDefinitionGuid: SECRETS_USER,
        principalId: app.identity!.principalId!
      })
      await sleep(400)
      expect((await statuses(site('slow-app'))).S).toBe('AccessToKeyVaultDenied')
      await putSettings(site('slow-app'), fake.appSettings(RG, 'slow-app'))
      await sleep(400)
      expect((await statuses(site('slow-app'))).S).toBe('Resolved')
    } finally {
      fake.setReferenceResolveDelay(0)
    }
  })

  it('with a stale window, the status from before a settings PUT is still reported for a while', async () => {
    fake.addSite({ resourceGroup: RG, name: 'stale-app', systemAssigned: true })
    fake.addVault({ resourceGroup: RG, name: 'kv-stale', enableRbacAuthorization: true, secrets: { s: {} } })
    await putSettings(site('stale-app'), { S: ref('kv-stale', 's') })
    expect(await statuses(site('stale-app'))).toEqual({ S: 'AccessToKeyVaultDenied' })
    fake.addRoleAssignment({
      scope: vault('kv-stale'),
      roleDefinitionGuid: SECRETS_USER,
      principalId: fake.getSite(RG, 'stale-app')!.identity!.principalId!
    })
    fake.setStaleReferenceStatus(300)
    fake.setReferenceResolveDelay(200)
    try {
      await putSettings(site('stale-app'), { S: ref('kv-stale', 's'), NEW: ref('kv-stale', 's') })
      // S had a status before the write: still that one; NEW had none: Initialized.
      expect(await statuses(site('stale-app'))).toEqual({ S: 'AccessToKeyVaultDenied', NEW: 'Initialized' })
      await sleep(350)
      expect(await statuses(site('stale-app'))).toEqual({ S: 'Initialized', NEW: 'Initialized' })
      await sleep(250)
      expect(await statuses(site('stale-app'))).toEqual({ S: 'Resolved', NEW: 'Resolved' })
    } finally {
      fake.setStaleReferenceStatus(0)
      fake.setReferenceResolveDelay(0)
    }
  })

  it('a cached failure survives a grant and a restart; a settings change or the refresh POST heals it', async () => {
    const app = fake.addSite({ resourceGroup: RG, name: 'cache-app', systemAssigned: true })
    const me = app.identity!.principalId!
    fake.addVault({ resourceGroup: RG, name: 'kv-late', enableRbacAuthorization: true, secrets: { s: {} } })
    fake.addVault({ resourceGroup: RG, name: 'kv-late-pol', secrets: { s: {} } })
    await putSettings(site('cache-app'), { RBAC: ref('kv-late', 's'), POL: ref('kv-late-pol', 's') })
    expect(await statuses(site('cache-app'))).toEqual({ RBAC: 'AccessToKeyVaultDenied', POL: 'AccessToKeyVaultDenied' })

    // The grant through ARM, as the action would make it.
    const assignment = `${vault('kv-late')}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`
    const roleDefinitionId = `/subscriptions/${fake.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_USER}`
    const granted = await arm(
      'PUT',
      assignment,
      { properties: { roleDefinitionId, principalId: me, principalType: 'ServicePrincipal' } },
      '2022-04-01'
    )
    expect(granted.status).toBe(201)
    const added = await arm(
      'PUT',
      `${vault('kv-late-pol')}/accessPolicies/add`,
      { properties: { accessPolicies: [policy(me, ['get'])] } },
      KV
    )
    expect(added.status).toBe(200)
    expect((await arm('POST', `${site('cache-app')}/restart`)).status).toBe(200)
    expect(await statuses(site('cache-app'))).toEqual({ RBAC: 'AccessToKeyVaultDenied', POL: 'AccessToKeyVaultDenied' })

    await putSettings(site('cache-app'), fake.appSettings(RG, 'cache-app'))
    expect(await statuses(site('cache-app'))).toEqual({ RBAC: 'Resolved', POL: 'Resolved' })
    expect(fake.restarts(RG, 'cache-app')).toBe(3) // two PUTs and the POST restart

    // Revoked later: the cached success stays too, until the documented refresh POST refetches,
    // which restarts the app like the portal's "Fetch latest values" (app-service-linux-docs#233).
    await arm('DELETE', assignment, undefined, '2022-04-01')
    expect((await statuses(site('cache-app'))).RBAC).toBe('Resolved')
    const refreshed = await arm('POST', `${site('cache-app')}/config/configreferences/appsettings/refresh`)
    expect(refreshed.status).toBe(200)
    expect((await statuses(site('cache-app'))).RBAC).toBe('AccessToKeyVaultDenied')
    expect(fake.restarts(RG, 'cache-app')).toBe(4)
    expect(fake.appSettings(RG, 'cache-app')).toEqual({ RBAC: ref('kv-late', 's'), POL: ref('kv-late-pol', 's') })
    // Connection strings have no refresh action of their own.
    const none = await arm('POST', `${site('cache-app')}/config/configreferences/connectionstrings/refresh`)
    expect(none.status).toBe(405)
  })

  it("a slot's references use the slot's own settings and identity", async () => {
    const app = fake.addSite({ resourceGroup: RG, name: 'ref-slotted', systemAssigned: true })
    fake.addSlot({ resourceGroup: RG, site: 'ref-slotted', slot: 'staging' })
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-slots',
      accessPolicies: [policy(app.identity!.principalId!, ['get'])],
      secrets: { s: {} }
    })
    await putSettings(site('ref-slotted'), { S: ref('kv-slots', 's') })
    await putSettings(`${site('ref-slotted')}/slots/staging`, { S: ref('kv-slots', 's'), T: ref('kv-slots', 's') })
    expect(await statuses(site('ref-slotted'))).toEqual({ S: 'Resolved' })
    const slot = await arm('GET', `${site('ref-slotted')}/slots/staging/config/configreferences/appsettings/T`)
    expect(slot.body).toMatchObject({
      id: `${site('ref-slotted')}/slots/staging/config/configreferences/appsettings/T`,
      type: 'Microsoft.Web/sites/slots/config/configreferences',
      properties: { status: 'MSINotEnabled' }
    })
  })

  it('a Reader-like caller cannot list the settings but can read the reference status', async () => {
    const app = fake.addSite({ resourceGroup: RG, name: 'reader-app', systemAssigned: true })
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-reader',
      accessPolicies: [policy(app.identity!.principalId!, ['get'])],
      secrets: { s: {} }
    })
    fake.setAppSettings(RG, 'reader-app', undefined, { S: ref('kv-reader', 's') })
    fake.deny('Microsoft.Web/sites/config/list/action', site('reader-app'))
    fake.deny('Microsoft.Web/sites/config/write', site('reader-app'))
    const list = await arm('POST', `${site('reader-app')}/config/appsettings/list`)
    expect(list.status).toBe(403)
    expect(list.body.error.message).toContain(
      `perform action 'Microsoft.Web/sites/config/list/action' over scope '${site('reader-app')}/config/appsettings'`
    )
    expect((await putSettings(site('reader-app'), {})).status).toBe(403)
    expect(await statuses(site('reader-app'))).toEqual({ S: 'Resolved' })
    expect(fake.restarts(RG, 'reader-app')).toBe(0) // setAppSettings seeds without a restart
  })
})

describe('connection strings, App Configuration references, refresh', () => {
  it('connection-string references have their own status list (and slot form), resolved like app settings', async () => {
    const app = fake.addSite({ resourceGroup: RG, name: 'cs-app', systemAssigned: true })
    fake.addSlot({ resourceGroup: RG, site: 'cs-app', slot: 'blue' })
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-cs',
      accessPolicies: [policy(app.identity!.principalId!, ['get'])],
      secrets: { db: {} }
    })
    fake.setAppSettings(RG, 'cs-app', undefined, { Main: ref('kv-cs', 'db') })
    fake.setConnectionStrings(RG, 'cs-app', undefined, {
      Main: { value: ref('kv-cs', 'nope'), type: 'SQLAzure' },
      Plain: { value: 'Server=db', type: 'Custom' }
    })
    const list = await arm('GET', `${site('cs-app')}/config/configreferences/connectionstrings`)
    expect(list.status).toBe(200)
    expect(list.body.value).toEqual([
      {
        id: `${site('cs-app')}/config/configreferences/connectionstrings/Main`,
        name: 'Main',
        type: 'Microsoft.Web/sites/config/configreferences',
        properties: expect.objectContaining({ status: 'SecretNotFound', vaultName: 'kv-cs', secretName: 'nope' })
      }
    ])
    // The app setting of the same name is another reference, with its own status.
    expect(await statuses(site('cs-app'))).toEqual({ Main: 'Resolved' })
    const one = await arm('GET', `${site('cs-app')}/config/configreferences/connectionstrings/main`)
    expect(one.body.properties.status).toBe('SecretNotFound')
    expect((await arm('GET', `${site('cs-app')}/config/configreferences/connectionstrings/Plain`)).status).toBe(404)

    fake.setConnectionStrings(RG, 'cs-app', 'blue', { Slot: { value: ref('kv-cs', 'db'), type: 'Custom' } })
    const slot = await arm('GET', `${site('cs-app')}/slots/blue/config/configreferences/connectionstrings`)
    expect(slot.body.value).toEqual([
      expect.objectContaining({
        id: `${site('cs-app')}/slots/blue/config/configreferences/connectionstrings/Slot`,
        properties: expect.objectContaining({ status: 'MSINotEnabled' })
      })
    ])

    // A cached failure of a connection string heals with the refresh POST too (and the app restarts).
    fake.addSecret(RG, 'kv-cs', 'nope')
    expect(
      (await arm('GET', `${site('cs-app')}/config/configreferences/connectionstrings/Main`)).body.properties.status
    ).toBe('SecretNotFound')
    const before = fake.restarts(RG, 'cs-app')
    expect((await arm('POST', `${site('cs-app')}/config/configreferences/appsettings/refresh`)).status).toBe(200)
    expect(fake.restarts(RG, 'cs-app')).toBe(before + 1)
    expect(
      (await arm('GET', `${site('cs-app')}/config/configreferences/connectionstrings/Main`)).body.properties.status
    ).toBe('Resolved')
  })

  it('App Configuration references are not listed among the Key Vault references', async () => {
    fake.addSite({
      resourceGroup: RG,
      name: 'appconfig-app',
      systemAssigned: true,
      appSettings: { FONT: '@Microsoft.AppConfiguration(Endpoint=https://store.azconfig.io; Key=font)' },
      connectionStrings: {
        Cfg: { value: '@Microsoft.AppConfiguration(Endpoint=https://store.azconfig.io; Key=db)', type: 'Custom' }
      }
    })
    expect(await refs(site('appconfig-app'))).toEqual({})
    const cs = await arm('GET', `${site('appconfig-app')}/config/configreferences/connectionstrings`)
    expect(cs.body.value).toEqual([])
  })
})

describe('sovereign clouds', () => {
  it("a SecretUri resolves only with the fake's cloud's Key Vault suffix, whose vaults carry it in vaultUri", async () => {
    const gov = await startFakeAzure({ referenceResolveDelayMs: 0, cloud: 'AzureUSGovernment' })
    try {
      const app = gov.addSite({ resourceGroup: RG, name: 'gov-app', systemAssigned: true })
      const kv = gov.addVault({
        resourceGroup: RG,
        name: 'kv-gov',
        accessPolicies: [
          { tenantId: gov.tenantId, objectId: app.identity!.principalId!, permissions: { secrets: ['get'] } }
        ],
        secrets: { s: {} }
      })
      expect(kv.properties.vaultUri).toBe('https://kv-gov.vault.usgovcloudapi.net/')
      gov.setAppSettings(RG, 'gov-app', undefined, {
        GOV: '@Microsoft.KeyVault(SecretUri=https://kv-gov.vault.usgovcloudapi.net/secrets/s)',
        PUBLIC: '@Microsoft.KeyVault(SecretUri=https://kv-gov.vault.azure.net/secrets/s)',
        BY_NAME: ref('kv-gov', 's')
      })
      const govArm = await armCaller(gov)
      const r = await govArm(
        'GET',
        `/subscriptions/${gov.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/sites/gov-app/config/configreferences/appsettings`
      )
      const got = Object.fromEntries((r.body.value as Item[]).map((i) => [i.name, i.properties.status]))
      expect(got).toEqual({ GOV: 'Resolved', PUBLIC: 'VaultNotFound', BY_NAME: 'Resolved' })
    } finally {
      await gov.close()
    }
  })

  it('the public cloud refuses a US Government or China secret URI as VaultNotFound', async () => {
    const app = fake.addSite({ resourceGroup: RG, name: 'pub-app', systemAssigned: true })
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-pub',
      accessPolicies: [policy(app.identity!.principalId!, ['get'])],
      secrets: { s: {} }
    })
    fake.setAppSettings(RG, 'pub-app', undefined, {
      CN: '@Microsoft.KeyVault(SecretUri=https://kv-pub.vault.azure.cn/secrets/s)',
      PUB: '@Microsoft.KeyVault(SecretUri=https://kv-pub.vault.azure.net/secrets/s)'
    })
    expect(await statuses(site('pub-app'))).toEqual({ CN: 'VaultNotFound', PUB: 'Resolved' })
  })
})
