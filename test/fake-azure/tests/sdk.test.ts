// The real Azure SDK packages against the fake over HTTPS: the wire shapes they need, their
// retries, and how many Entra round trips they cost. The CA is trusted in-process with
// tls.setDefaultCACertificates (NODE_EXTRA_CA_CERTS is read only at process start).
import { randomUUID } from 'node:crypto'
import { ClientAssertionCredential } from '@azure/identity'
import { createWebSiteManagement } from '@azure/arm-appservice/api'
import {
  get as getSite,
  getAppSettingKeyVaultReference,
  getSlot,
  listApplicationSettings,
  listAppSettingsKeyVaultReferences,
  listConnectionStrings,
  listSlotConfigurationNames,
  update as updateSite,
  updateApplicationSettings,
  updateSlot
} from '@azure/arm-appservice/api/webApps'
import { createKeyVaultManagement } from '@azure/arm-keyvault/api'
import { get as getSecret, list as listSecrets } from '@azure/arm-keyvault/api/secrets'
import { get as getVault, listBySubscription, updateAccessPolicy } from '@azure/arm-keyvault/api/vaults'
import { getClient } from '@azure-rest/core-client'
import { startFakeAzure, type FakeAzure } from '../index.ts'
import { getAssertion, trustFakeCa } from './helpers.ts'

let fake: FakeAzure
let credential: ClientAssertionCredential
const RG = 'sdk-rg'
const UAI =
  '/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/sdk'
const fast = { retryOptions: { retryDelayInMs: 10, maxRetryDelayInMs: 50 } }

beforeAll(async () => {
  fake = await startFakeAzure()
  trustFakeCa(fake)
  credential = new ClientAssertionCredential(fake.tenantId, fake.clientId, getAssertion(fake), {
    authorityHost: fake.authorityHost,
    disableInstanceDiscovery: true
  })
  fake.addSite({
    resourceGroup: RG,
    name: 'sdk-app',
    tags: { team: 'sdk' },
    appSettings: { A: '1' },
    userAssignedIdentities: [UAI]
  })
  fake.addSlot({ resourceGroup: RG, site: 'sdk-app', slot: 'staging' })
  for (let i = 0; i < 5; i++) fake.addVault({ resourceGroup: RG, name: `sdk-kv-${i}` })
})
afterAll(async () => {
  await fake.close()
})

it('ClientAssertionCredential signs in through the fake Entra ID', async () => {
  const t = await credential.getToken('https://management.azure.com/.default')
  expect(t.token).toMatch(/^[A-Za-z0-9_-]{20,}$/)
  const entra = fake.requests.filter((r) => r.server === 'entra').map((r) => `${r.method} ${r.path} ${r.status}`)
  expect(entra).toEqual([
    `GET /${fake.tenantId}/v2.0/.well-known/openid-configuration 200`,
    `POST /${fake.tenantId}/oauth2/v2.0/token 200`
  ])
})

it('a wrong subject surfaces AADSTS700213 from the SDK', async () => {
  const other = await startFakeAzure()
  try {
    trustFakeCa(other)
    other.setOidcClaims({ sub: 'repo:octo-org/octo-repo:pull_request' })
    const c = new ClientAssertionCredential(other.tenantId, other.clientId, getAssertion(other), {
      authorityHost: other.authorityHost,
      disableInstanceDiscovery: true
    })
    await expect(c.getToken('https://management.azure.com/.default')).rejects.toThrow(
      /AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:octo-org\/octo-repo:pull_request'/
    )
  } finally {
    await other.close()
  }
})

it('arm-appservice get/update/getSlot/updateSlot', async () => {
  const ctx = createWebSiteManagement(credential, fake.subscriptionId, { endpoint: fake.armEndpoint, ...fast })
  const before = await getSite(ctx, RG, 'sdk-app')
  expect(before.identity?.type).toBe('UserAssigned')
  const updated = await updateSite(ctx, RG, 'sdk-app', { identity: { type: 'SystemAssigned, UserAssigned' } })
  expect(updated.identity?.principalId).toMatch(/^[0-9a-f-]{36}$/)
  expect(Object.keys(updated.identity?.userAssignedIdentities ?? {})).toEqual([UAI])
  const patch = fake.requests.find((r) => r.method === 'PATCH')!
  expect(patch.query['api-version']).toBe('2025-05-01')
  expect(patch.requestBody).toEqual({ identity: { type: 'SystemAssigned, UserAssigned' } })
  expect(fake.getSite(RG, 'sdk-app')!.tags).toEqual({ team: 'sdk' })
  const slot = await updateSlot(ctx, RG, 'sdk-app', 'staging', { identity: { type: 'SystemAssigned' } })
  expect((await getSlot(ctx, RG, 'sdk-app', 'staging')).identity?.principalId).toBe(slot.identity?.principalId)
  expect(slot.identity?.principalId).not.toBe(updated.identity?.principalId)
})

it('arm-keyvault get/updateAccessPolicy/listBySubscription (following nextLink)', async () => {
  const ctx = createKeyVaultManagement(credential, fake.subscriptionId, { endpoint: fake.armEndpoint, ...fast })
  const v = await getVault(ctx, RG, 'sdk-kv-0')
  expect(v.properties.sku).toEqual({ family: 'A', name: 'standard' })
  const p = randomUUID()
  const r = await updateAccessPolicy(ctx, RG, 'sdk-kv-0', 'add', {
    properties: {
      accessPolicies: [{ tenantId: fake.tenantId, objectId: p, permissions: { secrets: ['get', 'list'] } }]
    }
  })
  expect(r.properties.accessPolicies[0].permissions.secrets).toEqual(['get', 'list'])
  fake.setPageSize(2)
  fake.clearLog()
  const names: string[] = []
  for await (const vault of listBySubscription(ctx)) names.push(vault.name!)
  fake.setPageSize(1000)
  expect(names.sort()).toEqual(['sdk-kv-0', 'sdk-kv-1', 'sdk-kv-2', 'sdk-kv-3', 'sdk-kv-4'])
  expect(fake.requests.filter((x) => x.server === 'arm')).toHaveLength(3)
})

it('role assignments through @azure-rest/core-client (what the action uses)', async () => {
  const client = getClient(fake.armEndpoint, credential, {
    credentials: { scopes: ['https://management.azure.com/.default'] }
  })
  const vaultId = fake.getVault(RG, 'sdk-kv-1')!.id
  const principalId = randomUUID()
  const path = `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`
  const body = {
    properties: {
      roleDefinitionId: `/subscriptions/${fake.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
      principalId,
      principalType: 'ServicePrincipal'
    }
  }
  const created = await client
    .pathUnchecked(path)
    .put({ queryParameters: { 'api-version': '2022-04-01' }, contentType: 'application/json', body })
  expect(created.status).toBe('201')
  const list = await client
    .pathUnchecked(`${vaultId}/providers/Microsoft.Authorization/roleAssignments`)
    .get({ queryParameters: { 'api-version': '2022-04-01', $filter: 'atScope()' } })
  expect(
    (list.body as { value: { properties: { principalId: string } }[] }).value.map((a) => a.properties.principalId)
  ).toContain(principalId)
})

it('the SDK pipeline retries 429 with Retry-After and a dropped connection, but not 409, whose Microsoft.Web body it cannot read', async () => {
  const ctx = createWebSiteManagement(credential, fake.subscriptionId, { endpoint: fake.armEndpoint, ...fast })
  fake.addSite({ resourceGroup: RG, name: 'flaky' })
  fake.clearLog()
  fake.addFault({ server: 'arm', method: 'PATCH', path: '/sites/flaky', status: 429, retryAfter: '1' })
  fake.addFault({ server: 'arm', method: 'PATCH', path: '/sites/flaky', drop: true })
  const t0 = Date.now()
  const site = await updateSite(ctx, RG, 'flaky', { identity: { type: 'SystemAssigned' } })
  expect(Date.now() - t0).toBeGreaterThanOrEqual(900) // honoured Retry-After: 1
  expect(site.identity?.principalId).toBeDefined()
  expect(fake.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([429, 0, 200])
  fake.addFault({ server: 'arm', method: 'PATCH', path: /\/sites\/flaky$/, status: 409 })
  // Microsoft.Web answers {"Code","Message",…} at the top level; the SDK's error factory reads only
  // {"error":{…}}: code and words are lost (the action normalises the shape in its pipeline).
  await expect(updateSite(ctx, RG, 'flaky', { kind: 'app,linux' })).rejects.toMatchObject({
    statusCode: 409,
    code: undefined,
    message: 'Unexpected status code: 409'
  })
  expect(fake.getSite(RG, 'flaky')!.kind).toBe('app')
})

it('app settings, reference status and secret metadata through the SDKs (flattened where the SDK flattens)', async () => {
  const web = createWebSiteManagement(credential, fake.subscriptionId, { endpoint: fake.armEndpoint, ...fast })
  const kv = createKeyVaultManagement(credential, fake.subscriptionId, { endpoint: fake.armEndpoint, ...fast })
  const app = fake.addSite({
    resourceGroup: RG,
    name: 'sdk-ref',
    systemAssigned: true,
    connectionStrings: { Db: { value: 'Server=db', type: 'SQLAzure' } },
    slotConfigNames: { appSettingNames: ['SECRET'] }
  })
  const version = 'abcdefabcdefabcdefabcdefabcdef01'
  fake.addVault({
    resourceGroup: RG,
    name: 'sdk-kv-ref',
    accessPolicies: [
      { tenantId: fake.tenantId, objectId: app.identity!.principalId!, permissions: { secrets: ['get'] } }
    ],
    secrets: { token: { versions: [version] } }
  })
  const reference = '@Microsoft.KeyVault(VaultName=sdk-kv-ref;SecretName=token)'
  fake.setReferenceResolveDelay(0) // resolve at once (default: Initialized for 1 s)
  const put = await updateApplicationSettings(web, RG, 'sdk-ref', { properties: { SECRET: reference, A: '1' } })
  expect(put.properties).toEqual({ SECRET: reference, A: '1' })
  expect((await listApplicationSettings(web, RG, 'sdk-ref')).properties).toEqual({ SECRET: reference, A: '1' })
  expect((await listConnectionStrings(web, RG, 'sdk-ref')).properties).toEqual({
    Db: { value: 'Server=db', type: 'SQLAzure' }
  })
  expect((await listSlotConfigurationNames(web, RG, 'sdk-ref')).appSettingNames).toEqual(['SECRET'])
  const refs = []
  for await (const r of listAppSettingsKeyVaultReferences(web, RG, 'sdk-ref')) refs.push(r)
  expect(refs).toHaveLength(1)
  expect(refs[0]).toMatchObject({ name: 'SECRET', status: 'Resolved', activeVersion: version, vaultName: 'sdk-kv-ref' })
  // The live string form of identityType is lost by the SDK's deserializer (it reads `.type` of a
  // string): a client that needs it must read the raw body (src/azure/site-config.ts does).
  expect(refs[0].identityType?.type).toBeUndefined()
  fake.setReferenceIdentityTypeAsObject(true)
  try {
    await updateApplicationSettings(web, RG, 'sdk-ref', { properties: { SECRET: reference, A: '1' } })
    const spec = []
    for await (const r of listAppSettingsKeyVaultReferences(web, RG, 'sdk-ref')) spec.push(r)
    expect(spec[0].identityType?.type).toBe('SystemAssigned')
  } finally {
    fake.setReferenceIdentityTypeAsObject(false)
  }
  expect((await getAppSettingKeyVaultReference(web, RG, 'sdk-ref', 'SECRET')).reference).toBe(reference)
  const secret = await getSecret(kv, RG, 'sdk-kv-ref', 'token')
  expect(secret.properties.secretUriWithVersion).toBe(`https://sdk-kv-ref.vault.azure.net/secrets/token/${version}`)
  expect(secret.properties.attributes?.enabled).toBe(true)
  expect(secret.properties.attributes?.created).toBeInstanceOf(Date)
  expect(secret.properties.value).toBeUndefined()
  const names: string[] = []
  for await (const s of listSecrets(kv, RG, 'sdk-kv-ref')) names.push(s.name!)
  expect(names).toEqual(['token'])
})
