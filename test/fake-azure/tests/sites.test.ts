// ARM front door (401, api-version, 404s, deny) and App Service sites/slots, called directly.
import { startFakeAzure, type FakeAzure } from '../index.ts'
import { armCaller, call, type Reply } from './helpers.ts'

let fake: FakeAzure
let arm: (method: string, path: string, body?: unknown, apiVersion?: string | null) => Promise<Reply>
const UAI1 =
  '/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/one'
const UAI2 =
  '/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/two'
const site = (name: string, rg = 'shop-rg'): string =>
  `/subscriptions/${fake.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Web/sites/${name}`

beforeAll(async () => {
  fake = await startFakeAzure()
  arm = await armCaller(fake)
})
afterAll(async () => {
  await fake.close()
})

describe('ARM front door', () => {
  it('401 without a token or with one it did not issue', async () => {
    fake.addSite({ resourceGroup: 'shop-rg', name: 'front' })
    const none = await call(fake, `${fake.armEndpoint}${site('front')}?api-version=2025-05-01`)
    expect(none.status).toBe(401)
    expect(none.body.error.code).toBe('AuthenticationFailed')
    const forged = await call(fake, `${fake.armEndpoint}${site('front')}?api-version=2025-05-01`, {
      headers: { authorization: 'Bearer made-up' }
    })
    expect(forged.status).toBe(401)
    expect(forged.body.error.code).toBe('InvalidAuthenticationToken')
  })
  it('400 for a missing or unknown api-version', async () => {
    const missing = await arm('GET', site('front'), undefined, null)
    expect(missing.status).toBe(400)
    expect(missing.body.error).toEqual({
      code: 'MissingApiVersionParameter',
      message: 'The api-version query parameter (?api-version=) is required for all requests.'
    })
    const unknown = await arm('GET', site('front'), undefined, '2026-02-01')
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.code).toBe('NoRegisteredProviderFound')
    expect(unknown.body.error.message).toContain(
      "API version '2026-02-01' for type 'sites'. The supported api-versions are '2025-05-01, "
    )
    const subs = await arm('GET', '/subscriptions', undefined, '2099-01-01')
    expect(subs.body.error.code).toBe('InvalidApiVersionParameter')
  })
  it('lists the subscription and reads resource groups', async () => {
    const subs = await arm('GET', '/subscriptions', undefined, '2022-12-01')
    expect(subs.body.value.map((s: { subscriptionId: string }) => s.subscriptionId)).toEqual([fake.subscriptionId])
    const rg = await arm('GET', `/subscriptions/${fake.subscriptionId}/resourcegroups/SHOP-RG`, undefined, '2021-04-01')
    expect(rg.body.name).toBe('shop-rg')
  })
  it('404s with ARM codes and messages', async () => {
    const sub = await arm(
      'GET',
      `/subscriptions/00000000-0000-0000-0000-00000000dead/resourceGroups/x/providers/Microsoft.Web/sites/y`
    )
    expect(sub.status).toBe(404)
    expect(sub.body.error).toEqual({
      code: 'SubscriptionNotFound',
      message: "The subscription '00000000-0000-0000-0000-00000000dead' could not be found."
    })
    const rg = await arm('GET', site('y', 'nope-rg'))
    expect(rg.body.error).toEqual({
      code: 'ResourceGroupNotFound',
      message: "Resource group 'nope-rg' could not be found."
    })
    const res = await arm('GET', site('missing'))
    expect(res.body.error).toEqual({
      code: 'ResourceNotFound',
      message:
        "The Resource 'Microsoft.Web/sites/missing' under resource group 'shop-rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    })
    const slot = await arm('GET', `${site('front')}/slots/nope`)
    expect(slot.body.error.message).toContain("'Microsoft.Web/sites/front/slots/nope' under resource group 'shop-rg'")
  })
  it('403 AuthorizationFailed for a denied action, with the real message', async () => {
    fake.addSite({ resourceGroup: 'locked-rg', name: 'locked' })
    fake.deny('Microsoft.Web/sites/write', `/subscriptions/${fake.subscriptionId}/resourceGroups/LOCKED-RG`)
    expect((await arm('GET', site('locked', 'locked-rg'))).status).toBe(200)
    const r = await arm('PATCH', site('locked', 'locked-rg'), { identity: { type: 'SystemAssigned' } })
    expect(r.status).toBe(403)
    expect(r.body.error.code).toBe('AuthorizationFailed')
    expect(r.body.error.message).toMatch(
      new RegExp(
        `^The client '${fake.clientId}' with object id '[0-9a-f-]{36}' does not have authorization to perform action 'Microsoft.Web/sites/write' over scope '${site('locked', 'locked-rg')}' or the scope is invalid. If access was recently granted, please refresh your credentials.$`
      )
    )
    expect(fake.getSite('locked-rg', 'locked')!.identity).toBeUndefined()
  })
})

describe('sites', () => {
  it('GET returns the full site, case-insensitively, with stored casing', async () => {
    fake.addSite({
      resourceGroup: 'shop-rg',
      name: 'Shop-Api',
      kind: 'functionapp,linux',
      tags: { team: 'a' },
      appSettings: { A: '1' }
    })
    const r = await arm('GET', site('shop-api').toLowerCase())
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({
      name: 'Shop-Api',
      type: 'Microsoft.Web/sites',
      kind: 'functionapp,linux',
      tags: { team: 'a' },
      properties: {
        state: 'Running',
        enabled: true,
        defaultHostName: 'Shop-Api.azurewebsites.net',
        siteConfig: { appSettings: null, connectionStrings: null }, // values need POST …/list
        keyVaultReferenceIdentity: 'SystemAssigned'
      }
    })
    expect(fake.appSettings('shop-rg', 'Shop-Api')).toEqual({ A: '1' })
    expect(r.body.id).toBe(site('Shop-Api'))
    expect(r.body.identity).toBeUndefined()
  })
  it('PATCH SystemAssigned mints a principal, keeps it when kept, and keeps tags and settings', async () => {
    fake.addSite({ resourceGroup: 'shop-rg', name: 'sys', tags: { t: '1' }, appSettings: { S: 'x' } })
    const r = await arm('PATCH', site('sys'), { identity: { type: 'SystemAssigned' } })
    expect(r.status).toBe(200)
    expect(r.body.identity).toEqual({
      type: 'SystemAssigned',
      principalId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tenantId: fake.tenantId
    })
    expect(r.body.tags).toEqual({ t: '1' })
    expect(fake.appSettings('shop-rg', 'sys')).toEqual({ S: 'x' })
    // An identity change is a configuration change: the app restarts and refetches its references.
    expect(fake.restarts('shop-rg', 'sys')).toBe(1)
    const again = await arm('PATCH', site('sys'), { identity: { type: 'systemassigned' } })
    expect(again.body.identity.principalId).toBe(r.body.identity.principalId)
    await arm('PATCH', site('sys'), { identity: { type: 'None' } })
    expect(fake.getSite('shop-rg', 'sys')!.identity).toBeUndefined()
    const back = await arm('PATCH', site('sys'), { identity: { type: 'SystemAssigned' } })
    expect(back.body.identity.principalId).not.toBe(r.body.identity.principalId)
  })
  it('PATCH with a type without UserAssigned drops the user-assigned identities', async () => {
    fake.addSite({ resourceGroup: 'shop-rg', name: 'uai', userAssignedIdentities: [UAI1] })
    const r = await arm('PATCH', site('uai'), { identity: { type: 'SystemAssigned' } })
    expect(r.body.identity.type).toBe('SystemAssigned')
    expect(r.body.identity.userAssignedIdentities).toBeUndefined()
  })
  it('PATCH "SystemAssigned, UserAssigned" without the map keeps them; with it adds; null removes', async () => {
    const seeded = fake.addSite({ resourceGroup: 'shop-rg', name: 'both', userAssignedIdentities: [UAI1] })
    // Attaching needs an identity that exists (identities.test.ts).
    fake.addUserAssignedIdentity({ subscriptionId: UAI2.split('/')[2], resourceGroup: 'ids', name: 'two' })
    const kept = await arm('PATCH', site('both'), { identity: { type: 'SystemAssigned,UserAssigned' } })
    expect(kept.body.identity.type).toBe('SystemAssigned, UserAssigned')
    expect(kept.body.identity.userAssignedIdentities).toEqual(seeded.identity!.userAssignedIdentities)
    const added = await arm('PATCH', site('both'), {
      identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [UAI2]: {} } }
    })
    expect(Object.keys(added.body.identity.userAssignedIdentities)).toEqual([UAI1, UAI2])
    expect(added.body.identity.principalId).toBe(kept.body.identity.principalId)
    const removed = await arm('PATCH', site('both'), {
      identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [UAI1.toLowerCase()]: null } }
    })
    expect(Object.keys(removed.body.identity.userAssignedIdentities)).toEqual([UAI2])
  })
  it('rejects an unknown identity type', async () => {
    fake.addSite({ resourceGroup: 'shop-rg', name: 'badtype' })
    const r = await arm('PATCH', site('badtype'), { identity: { type: 'Managed' } })
    expect(r.status).toBe(400)
  })
  it('PUT replaces the site: tags, settings and identities not in the body are gone', async () => {
    fake.addSite({
      resourceGroup: 'shop-rg',
      name: 'put',
      tags: { keep: 'me' },
      appSettings: { K: 'v' },
      systemAssigned: true,
      userAssignedIdentities: [UAI1]
    })
    const r = await arm('PUT', site('put'), { location: 'West Europe', properties: {} })
    expect(r.status).toBe(200)
    const after = fake.getSite('shop-rg', 'put')!
    expect(after.tags).toEqual({})
    expect(after.identity).toBeUndefined()
    expect(after.properties.siteConfig).toBeUndefined()
    expect(after.properties.defaultHostName).toBe('put.azurewebsites.net')
  })
  it('slots are separate resources; production is untouched by a slot PATCH', async () => {
    fake.addSite({ resourceGroup: 'shop-rg', name: 'slotted' })
    fake.addSlot({ resourceGroup: 'shop-rg', site: 'slotted', slot: 'staging', tags: { s: '1' } })
    const r = await arm('PATCH', `${site('slotted')}/slots/staging`, { identity: { type: 'SystemAssigned' } })
    expect(r.body).toMatchObject({ name: 'slotted/staging', type: 'Microsoft.Web/sites/slots', tags: { s: '1' } })
    expect(r.body.identity.principalId).toBeDefined()
    expect(fake.getSite('shop-rg', 'slotted')!.identity).toBeUndefined()
    expect(fake.getSite('shop-rg', 'slotted', 'staging')!.identity!.principalId).toBe(r.body.identity.principalId)
    fake.deny('Microsoft.Web/sites/slots/*', `${site('slotted')}/slots/staging`)
    expect((await arm('GET', `${site('slotted')}/slots/staging`)).status).toBe(403)
    expect((await arm('GET', site('slotted'))).status).toBe(200)
  })
})
