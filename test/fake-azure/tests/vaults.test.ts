// Key Vault management plane, called directly: GET/PUT/PATCH, accessPolicies/{op}, listings.
import { startFakeAzure, type AccessPolicyEntry, type FakeAzure } from '../index.ts'
import { armCaller, type Reply } from './helpers.ts'

let fake: FakeAzure
let arm: (method: string, path: string, body?: unknown, apiVersion?: string | null) => Promise<Reply>
const V = '2026-02-01'
const vault = (name: string, rg = 'kv-rg'): string =>
  `/subscriptions/${fake.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`
const A = 'aaaaaaaa-0000-0000-0000-000000000001'
const B = 'bbbbbbbb-0000-0000-0000-000000000002'
const policy = (objectId: string, permissions: AccessPolicyEntry['permissions']): AccessPolicyEntry => ({
  tenantId: fake.tenantId,
  objectId,
  permissions
})
const update = (name: string, op: string, accessPolicies: unknown[]): Promise<Reply> =>
  arm('PUT', `${vault(name)}/accessPolicies/${op}`, { properties: { accessPolicies } }, V)

beforeAll(async () => {
  fake = await startFakeAzure()
  arm = await armCaller(fake)
})
afterAll(async () => {
  await fake.close()
})

it('GET returns sku, tenantId, access policies and the RBAC flag', async () => {
  fake.addVault({
    resourceGroup: 'kv-rg',
    name: 'get-kv',
    tags: { env: 'prod' },
    accessPolicies: [policy(A, { secrets: ['get'] })]
  })
  const r = await arm('GET', vault('GET-KV'), undefined, V)
  expect(r.status).toBe(200)
  expect(r.body).toMatchObject({
    id: vault('get-kv'),
    name: 'get-kv',
    type: 'Microsoft.KeyVault/vaults',
    tags: { env: 'prod' },
    properties: {
      tenantId: fake.tenantId,
      sku: { family: 'A', name: 'standard' },
      enableRbacAuthorization: false,
      vaultUri: 'https://get-kv.vault.azure.net/',
      provisioningState: 'Succeeded',
      accessPolicies: [policy(A, { secrets: ['get'] })]
    }
  })
  const old = await arm('GET', vault('get-kv'), undefined, '2019-09-01')
  expect(old.body.error.code).toBe('NoRegisteredProviderFound')
  expect((await arm('GET', vault('nope'), undefined, V)).body.error.message).toBe(
    "The Resource 'Microsoft.KeyVault/vaults/nope' under resource group 'kv-rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
  )
})

it('accessPolicies/add merges per principal and appends new principals', async () => {
  fake.addVault({
    resourceGroup: 'kv-rg',
    name: 'add-kv',
    accessPolicies: [policy(A, { secrets: ['get'], keys: ['sign'] })]
  })
  const r = await update('add-kv', 'add', [
    policy(A.toUpperCase(), { secrets: ['GET', 'list'] }),
    policy(B, { certificates: ['get'] })
  ])
  expect(r.status).toBe(200)
  expect(r.body).toMatchObject({
    id: `${vault('add-kv')}/accessPolicies/add`,
    name: 'add',
    type: 'Microsoft.KeyVault/vaults/accessPolicies'
  })
  expect(r.body.properties.accessPolicies).toEqual([
    policy(A, { secrets: ['get', 'list'], keys: ['sign'] }),
    policy(B, { certificates: ['get'] })
  ])
  expect(fake.getVault('kv-rg', 'add-kv')!.properties.accessPolicies).toHaveLength(2)
})

it('accessPolicies/remove removes permissions and drops an emptied entry; replace sets them', async () => {
  fake.addVault({
    resourceGroup: 'kv-rg',
    name: 'rm-kv',
    accessPolicies: [policy(A, { secrets: ['get', 'list'] }), policy(B, { secrets: ['get'] })]
  })
  await update('rm-kv', 'remove', [policy(A, { secrets: ['list'] }), policy(B, { secrets: ['get'] })])
  expect(fake.getVault('kv-rg', 'rm-kv')!.properties.accessPolicies).toEqual([policy(A, { secrets: ['get'] })])
  await update('rm-kv', 'replace', [policy(A, { keys: ['get'] })])
  expect(fake.getVault('kv-rg', 'rm-kv')!.properties.accessPolicies).toEqual([policy(A, { keys: ['get'] })])
})

it('rejects an unknown permission, naming it, and changes nothing', async () => {
  fake.addVault({ resourceGroup: 'kv-rg', name: 'bad-kv' })
  const r = await update('bad-kv', 'add', [policy(A, { secrets: ['get'] }), policy(B, { secrets: ['get', 'read'] })])
  expect(r.status).toBe(400)
  expect(r.body.error).toEqual({
    code: 'BadRequest',
    message: 'Invalid value found at accessPolicies[1].permissions.secrets[1]: read'
  })
  expect(fake.getVault('kv-rg', 'bad-kv')!.properties.accessPolicies).toEqual([])
  expect((await update('bad-kv', 'merge', [policy(A, { secrets: ['get'] })])).status).toBe(400)
})

it('enforces the 1024 access-policy limit', async () => {
  const many = Array.from({ length: 1024 }, (_, i) =>
    policy(`00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, { secrets: ['get'] })
  )
  fake.addVault({ resourceGroup: 'kv-rg', name: 'full-kv', accessPolicies: many })
  expect((await update('full-kv', 'add', [policy(many[5].objectId, { secrets: ['list'] })])).status).toBe(200)
  const r = await update('full-kv', 'add', [policy(A, { secrets: ['get'] })])
  expect(r.status).toBe(400)
  expect(r.body.error.message).toContain('access policy limit (1024)')
  expect(fake.getVault('kv-rg', 'full-kv')!.properties.accessPolicies).toHaveLength(1024)
})

it('applies concurrent adds atomically: none is lost', async () => {
  fake.addVault({ resourceGroup: 'kv-rg', name: 'busy-kv' })
  const ids = Array.from({ length: 20 }, (_, i) => `cccccccc-0000-0000-0000-${String(i).padStart(12, '0')}`)
  const replies = await Promise.all(ids.map((id) => update('busy-kv', 'add', [policy(id, { secrets: ['get'] })])))
  expect(replies.every((r) => r.status === 200)).toBe(true)
  expect(
    fake
      .getVault('kv-rg', 'busy-kv')!
      .properties.accessPolicies.map((p) => p.objectId)
      .sort()
  ).toEqual(ids)
})

it('PUT replaces the vault (losing policies not in the body); PATCH merges properties', async () => {
  fake.addVault({
    resourceGroup: 'kv-rg',
    name: 'put-kv',
    tags: { a: '1' },
    accessPolicies: [policy(A, { secrets: ['get'] })]
  })
  const patched = await arm('PATCH', vault('put-kv'), { properties: { enableRbacAuthorization: true } }, V)
  expect(patched.body.properties).toMatchObject({
    enableRbacAuthorization: true,
    accessPolicies: [policy(A, { secrets: ['get'] })]
  })
  expect(patched.body.tags).toEqual({ a: '1' })
  const put = await arm(
    'PUT',
    vault('put-kv'),
    { location: 'westeurope', properties: { tenantId: fake.tenantId, sku: { family: 'A', name: 'premium' } } },
    V
  )
  expect(put.status).toBe(200)
  expect(fake.getVault('kv-rg', 'put-kv')!.properties).toMatchObject({
    accessPolicies: [],
    sku: { name: 'premium' },
    enableRbacAuthorization: true
  })
  expect(fake.getVault('kv-rg', 'put-kv')!.tags).toEqual({})
  const created = await arm(
    'PUT',
    vault('new-kv'),
    { location: 'westeurope', properties: { tenantId: fake.tenantId, sku: { family: 'A', name: 'standard' } } },
    '2023-07-01'
  )
  expect(created.status).toBe(201)
  expect(created.body.properties.enableRbacAuthorization).toBe(false)
})

it('lists vaults by subscription with nextLink paging, and via generic resources', async () => {
  fake.setPageSize(3)
  const page1 = await arm(
    'GET',
    `/subscriptions/${fake.subscriptionId}/providers/Microsoft.KeyVault/vaults`,
    undefined,
    V
  )
  expect(page1.body.value).toHaveLength(3)
  expect(page1.body.nextLink).toMatch(
    new RegExp(`^${fake.armEndpoint}/subscriptions/${fake.subscriptionId}/providers/Microsoft.KeyVault/vaults\\?`)
  )
  fake.setPageSize(1000)
  const all = await arm(
    'GET',
    `/subscriptions/${fake.subscriptionId}/providers/Microsoft.KeyVault/vaults`,
    undefined,
    V
  )
  expect(all.body.nextLink).toBeUndefined()
  expect(all.body.value.length).toBeGreaterThan(5)
  const top = await arm(
    'GET',
    `/subscriptions/${fake.subscriptionId}/providers/Microsoft.KeyVault/vaults?$top=2`,
    undefined,
    V
  )
  expect(top.body.value).toHaveLength(2)
  expect(top.body.nextLink).toContain('%24top=2')
  const generic = await arm(
    'GET',
    `/subscriptions/${fake.subscriptionId}/resources?$filter=${encodeURIComponent("resourceType eq 'Microsoft.KeyVault/vaults'")}`,
    undefined,
    '2015-11-01'
  )
  expect(generic.status).toBe(200)
  expect(generic.body.value.find((v: { name: string }) => v.name === 'get-kv')).toEqual({
    id: vault('get-kv'),
    name: 'get-kv',
    type: 'Microsoft.KeyVault/vaults',
    location: 'westeurope',
    tags: { env: 'prod' }
  })
  expect(generic.body.value.every((v: { type: string }) => v.type === 'Microsoft.KeyVault/vaults')).toBe(true)
})

it('403 on accessPolicies/write names the policy scope', async () => {
  fake.addVault({ resourceGroup: 'kv-rg', name: 'deny-kv' })
  fake.deny('Microsoft.KeyVault/vaults/accessPolicies/write', vault('deny-kv'))
  const r = await update('deny-kv', 'add', [policy(A, { secrets: ['get'] })])
  expect(r.status).toBe(403)
  expect(r.body.error.message).toContain(
    `perform action 'Microsoft.KeyVault/vaults/accessPolicies/write' over scope '${vault('deny-kv')}/accessPolicies/add'`
  )
})
