// User-assigned identities: GET, attach and detach on sites, LinkedAuthorizationFailed, and
// keyVaultReferenceIdentity across detaching. The runner's own identities: runner-sign-in.test.ts.
import { startFakeAzure, type FakeAzure, type UserAssignedIdentityRecord } from '../index.ts'
import { armCaller, type Reply } from './helpers.ts'

let fake: FakeAzure
let arm: (method: string, path: string, body?: unknown, apiVersion?: string | null) => Promise<Reply>
const RG = 'id-rg'
const MI = '2024-11-30'
const ASSIGN = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const rgPath = (): string => `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}`
const site = (name: string): string => `${rgPath()}/providers/Microsoft.Web/sites/${name}`
const lowerRg = (id: string): string => id.replace('/resourceGroups/', '/resourcegroups/')
const uai = (name: string): UserAssignedIdentityRecord => fake.addUserAssignedIdentity({ resourceGroup: RG, name })

beforeAll(async () => {
  fake = await startFakeAzure({ referenceResolveDelayMs: 0, principalReplicationDelayMs: 60_000 })
  arm = await armCaller(fake)
})
afterAll(async () => {
  await fake.close()
})

describe('user-assigned identities', () => {
  it('GET answers the resource with resourcegroups lower-cased; isolationScope only in 2024-11-30', async () => {
    const u = uai('deploy-uai')
    expect(u).toEqual({
      id: `${rgPath()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/deploy-uai`,
      name: 'deploy-uai',
      location: 'westeurope',
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
      tags: {},
      properties: {
        principalId: expect.stringMatching(GUID),
        clientId: expect.stringMatching(GUID),
        tenantId: fake.tenantId
      }
    })
    const r = await arm('GET', u.id, undefined, MI)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ ...u, id: lowerRg(u.id), properties: { ...u.properties, isolationScope: 'None' } })
    const old = await arm('GET', u.id.toLowerCase(), undefined, '2018-11-30')
    expect(old.body.properties).toEqual(u.properties)
    const bad = await arm('GET', u.id, undefined, '2025-05-01')
    expect(bad.body.error.code).toBe('NoRegisteredProviderFound')
    expect(bad.body.error.message).toContain(
      "for type 'userAssignedIdentities'. The supported api-versions are '2024-11-30, 2023-01-31, 2018-11-30'"
    )
  })
  it('404 ResourceNotFound / ResourceGroupNotFound in ARM shape; 403 when read is denied', async () => {
    const missing = await arm(
      'GET',
      `${rgPath()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope`,
      undefined,
      MI
    )
    expect(missing.status).toBe(404)
    expect(missing.body.error).toEqual({
      code: 'ResourceNotFound',
      message: `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/nope' under resource group '${RG}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`
    })
    const noRg = await arm(
      'GET',
      `/subscriptions/${fake.subscriptionId}/resourceGroups/gone/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x`,
      undefined,
      MI
    )
    expect(noRg.body.error).toEqual({
      code: 'ResourceGroupNotFound',
      message: "Resource group 'gone' could not be found."
    })
    const hidden = uai('hidden-uai')
    fake.deny('Microsoft.ManagedIdentity/userAssignedIdentities/read', hidden.id)
    expect((await arm('GET', hidden.id, undefined, MI)).body.error.code).toBe('AuthorizationFailed')
  })
  it('its principal exists long since: a role assignment without principalType succeeds', async () => {
    const u = uai('role-uai')
    const path = `${rgPath()}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`
    const roleDefinitionId = `/subscriptions/${fake.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`
    const r = await arm(
      'PUT',
      path,
      { properties: { roleDefinitionId, principalId: u.properties.principalId } },
      '2022-04-01'
    )
    expect(r.status).toBe(201)
  })
})

describe('attaching to sites', () => {
  const attach = (
    name: string,
    ids: Record<string, object | null>,
    type = 'SystemAssigned, UserAssigned'
  ): Promise<Reply> => arm('PATCH', site(name), { identity: { type, userAssignedIdentities: ids } })
  it('attaches an existing identity with the same principal and client id on every site', async () => {
    const u = uai('shared-uai')
    fake.addSite({ resourceGroup: RG, name: 'one', systemAssigned: true })
    fake.addSite({ resourceGroup: RG, name: 'two' })
    const a = await attach('one', { [u.id]: {} })
    expect(a.status).toBe(200)
    const ids = { principalId: u.properties.principalId, clientId: u.properties.clientId }
    expect(a.body.identity.userAssignedIdentities).toEqual({ [u.id]: ids })
    const b = await attach('two', { [lowerRg(u.id)]: {} }, 'UserAssigned')
    expect(b.body.identity.userAssignedIdentities).toEqual({ [lowerRg(u.id)]: ids })
    // The old seed path: an id seeded on one site exists, and keeps its ids on another.
    const seededId = `${rgPath()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/seeded`
    const seeded = fake.addSite({ resourceGroup: RG, name: 'three', userAssignedIdentities: [seededId] })
    const c = await attach('one', { [seededId]: {} })
    expect(c.body.identity.userAssignedIdentities[seededId]).toEqual(seeded.identity!.userAssignedIdentities![seededId])
    expect((await arm('GET', seededId, undefined, MI)).body.properties.principalId).toBe(
      seeded.identity!.userAssignedIdentities![seededId].principalId
    )
  })
  it('403 LinkedAuthorizationFailed for an identity that does not exist, with the real message', async () => {
    fake.addSite({ resourceGroup: RG, name: 'typo' })
    const id = `${rgPath()}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/no-such`
    const r = await attach('typo', { [id]: {} })
    expect(r.status).toBe(403)
    expect(r.body.error.code).toBe('LinkedAuthorizationFailed')
    expect(r.body.error.message).toMatch(
      new RegExp(
        `^The client '${fake.clientId}' with object id '[0-9a-f-]{36}' has permission to perform action 'Microsoft.Web/sites/write' on scope '${site('typo')}'; however, it does not have permission to perform action\\(s\\) '${ASSIGN}' on the linked scope\\(s\\) '${lowerRg(id)}' \\(respectively\\) or the linked scope\\(s\\) are invalid.$`
      )
    )
    expect(fake.getSite(RG, 'typo')!.identity).toBeUndefined()
  })
  it('403 when assign/action is denied, for sites and slots, on every identity the body names, even one already held', async () => {
    const u = uai('guarded-uai')
    fake.deny(ASSIGN, u.id)
    fake.addSite({ resourceGroup: RG, name: 'guarded', systemAssigned: true })
    fake.addSlot({ resourceGroup: RG, site: 'guarded', slot: 'staging' })
    expect((await attach('guarded', { [u.id]: {} })).body.error.code).toBe('LinkedAuthorizationFailed')
    const slot = await arm('PATCH', `${site('guarded')}/slots/staging`, {
      identity: { type: 'UserAssigned', userAssignedIdentities: { [u.id]: {} } }
    })
    expect(slot.body.error.message).toContain("perform action 'Microsoft.Web/sites/slots/write' on scope")
    expect(fake.getSite(RG, 'guarded')!.identity!.userAssignedIdentities).toBeUndefined()
    // Held since before the deny: naming it again is checked all the same (ARM checks every identity
    // a body names), in a PATCH as in a PUT; a PATCH that leaves the map out keeps it, unchecked.
    fake.addSite({ resourceGroup: RG, name: 'holder', userAssignedIdentities: [u.id] })
    expect((await attach('holder', { [u.id.toLowerCase()]: {} })).status).toBe(403)
    const put = await arm('PUT', site('holder'), {
      location: 'West Europe',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [u.id]: {} } }
    })
    expect(put.body.error.code).toBe('LinkedAuthorizationFailed')
    const system = await arm('PATCH', site('holder'), { identity: { type: 'SystemAssigned, UserAssigned' } })
    expect(system.status).toBe(200)
    expect(Object.keys(system.body.identity.userAssignedIdentities)).toEqual([u.id])
  })
  it('re-naming a held identity in any casing keeps the key as the site stored it', async () => {
    const u = uai('cased-uai')
    fake.addSite({ resourceGroup: RG, name: 'cased', userAssignedIdentities: [u.id] })
    const kept = await attach('cased', { [u.id.toLowerCase()]: {} })
    expect(Object.keys(kept.body.identity.userAssignedIdentities)).toEqual([u.id])
    const put = await arm('PUT', site('cased'), {
      location: 'West Europe',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [u.id.toUpperCase()]: {} } }
    })
    expect(Object.keys(put.body.identity.userAssignedIdentities)).toEqual([u.id])
  })
  it('a deleted identity still listed: GET shows it, identity operations keeping it fail 400 FailedIdentityOperation', async () => {
    const [gone, other] = [uai('gone-uai'), uai('other-uai')]
    fake.addSite({ resourceGroup: RG, name: 'orphan', userAssignedIdentities: [gone.id] })
    fake.deleteUserAssignedIdentity(gone.id)
    expect(Object.keys((await arm('GET', site('orphan'))).body.identity.userAssignedIdentities)).toEqual([gone.id])
    for (const body of [
      { identity: { type: 'SystemAssigned, UserAssigned' } },
      { identity: { type: 'UserAssigned', userAssignedIdentities: { [other.id]: {} } } }
    ]) {
      const r = await arm('PATCH', site('orphan'), body)
      expect(r.status).toBe(400)
      expect(r.body.error.code).toBe('FailedIdentityOperation')
      expect(r.body.error.message).toContain(`Resource '${gone.id.toLowerCase()}' was not found.`)
    }
    // Settings and keyVaultReferenceIdentity are no identity operation; removing it goes through.
    expect(
      (await arm('PATCH', site('orphan'), { properties: { keyVaultReferenceIdentity: 'SystemAssigned' } })).status
    ).toBe(200)
    expect((await arm('PATCH', site('orphan'), { identity: { type: 'SystemAssigned' } })).status).toBe(200)
  })
  it('detaching (null, then a type without UserAssigned) keeps keyVaultReferenceIdentity: references break', async () => {
    const [u, other] = [uai('kv-uai'), uai('kv-other')]
    fake.addVault({
      resourceGroup: RG,
      name: 'id-kv',
      accessPolicies: [
        { tenantId: fake.tenantId, objectId: u.properties.principalId, permissions: { secrets: ['get'] } }
      ],
      secrets: { token: {} }
    })
    fake.addSite({
      resourceGroup: RG,
      name: 'kv-app',
      appSettings: { S: '@Microsoft.KeyVault(VaultName=id-kv;SecretName=token)' }
    })
    await attach('kv-app', { [u.id]: {}, [other.id]: {} }, 'UserAssigned')
    await arm('PATCH', site('kv-app'), { properties: { keyVaultReferenceIdentity: u.id } })
    const status = async (): Promise<string> => {
      await arm('PUT', `${site('kv-app')}/config/appsettings`, { properties: fake.appSettings(RG, 'kv-app') })
      return (await arm('GET', `${site('kv-app')}/config/configreferences/appsettings/S`)).body.properties.status
    }
    expect(await status()).toBe('Resolved')
    const one = await attach('kv-app', { [u.id]: null }, 'UserAssigned')
    expect(Object.keys(one.body.identity.userAssignedIdentities)).toEqual([other.id])
    expect(one.body.properties.keyVaultReferenceIdentity).toBe(u.id)
    expect(await status()).toBe('MSINotEnabled')
    const none = await arm('PATCH', site('kv-app'), { identity: { type: 'None' } })
    expect(none.body.identity).toBeUndefined()
    expect(none.body.properties.keyVaultReferenceIdentity).toBe(u.id)
  })
  it('turning the system identity on fills an unset keyVaultReferenceIdentity, never a set one', async () => {
    const u = uai('kvri-uai')
    fake.addSite({ resourceGroup: RG, name: 'kvri', userAssignedIdentities: [u.id], keyVaultReferenceIdentity: u.id })
    const sys = await arm('PATCH', site('kvri'), { identity: { type: 'SystemAssigned, UserAssigned' } })
    expect(sys.body.properties.keyVaultReferenceIdentity).toBe(u.id)
    fake.addSite({ resourceGroup: RG, name: 'kvri-null' })
    const cleared = await arm('PATCH', site('kvri-null'), { properties: { keyVaultReferenceIdentity: null } })
    expect(cleared.body.properties.keyVaultReferenceIdentity).toBeNull()
    const on = await arm('PATCH', site('kvri-null'), { identity: { type: 'SystemAssigned' } })
    expect(on.body.properties.keyVaultReferenceIdentity).toBe('SystemAssigned')
  })
})
