// What the real service does that a fake written from the happy path would not: each behaviour
// here was found in Azure's specs, recorded traffic or issues (sources in the handlers' comments).
import https from 'node:https'
import { randomUUID } from 'node:crypto'
import { startFakeAzure, type FakeAzure } from '../index.ts'
import { armCaller, call, type Reply } from './helpers.ts'

let fake: FakeAzure
let arm: (method: string, path: string, body?: unknown, apiVersion?: string | null) => Promise<Reply>
const KV = '2026-02-01'
const WEB = '2025-05-01'
const RG = 'real-rg'
const P = 'aaaaaaaa-0000-0000-0000-000000000001'
const rgId = (): string => `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}`
const vault = (name: string): string => `${rgId()}/providers/Microsoft.KeyVault/vaults/${name}`
const site = (name: string): string => `${rgId()}/providers/Microsoft.Web/sites/${name}`
const policies = (name: string, op: string, permissions: Record<string, string[]>): Promise<Reply> =>
  arm(
    'PUT',
    `${vault(name)}/accessPolicies/${op}`,
    { properties: { accessPolicies: [{ tenantId: fake.tenantId, objectId: P, permissions }] } },
    KV
  )
const held = (name: string): Record<string, string[]> | undefined =>
  fake.getVault(RG, name)!.properties.accessPolicies.find((p) => p.objectId === P)?.permissions as
    Record<string, string[]> | undefined

beforeAll(async () => {
  fake = await startFakeAzure()
  arm = await armCaller(fake)
  fake.addResourceGroup(RG)
})
afterAll(async () => {
  await fake.close()
})

describe('Key Vault access policies: spelling', () => {
  it('stores names as written: a portal-made Get stays Get; add merges other spellings without duplicates', async () => {
    fake.addVault({ resourceGroup: RG, name: 'kv-spell', accessPolicies: [] })
    await policies('kv-spell', 'add', { secrets: ['Get', 'List'] })
    expect(held('kv-spell')).toEqual({ secrets: ['Get', 'List'] })
    const added = await policies('kv-spell', 'add', { secrets: ['get', 'set'], keys: ['unwrapKey'] })
    expect(added.status).toBe(200)
    expect(held('kv-spell')).toEqual({ secrets: ['Get', 'List', 'set'], keys: ['unwrapKey'] })
  })

  it('remove is case-sensitive: `get` against a stored `Get` answers 200 and removes nothing', async () => {
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-remove',
      accessPolicies: [{ tenantId: fake.tenantId, objectId: P, permissions: { secrets: ['Get', 'List'] } }]
    })
    const wrong = await policies('kv-remove', 'remove', { secrets: ['get', 'list'] })
    expect(wrong.status).toBe(200)
    expect(held('kv-remove')).toEqual({ secrets: ['Get', 'List'] })
    await policies('kv-remove', 'remove', { secrets: ['Get'] })
    expect(held('kv-remove')).toEqual({ secrets: ['List'] })
    await policies('kv-remove', 'remove', { secrets: ['List'] })
    expect(held('kv-remove')).toBeUndefined() // an emptied entry is gone
  })

  it('`all` in a remove is a name like any other: it removes a stored `all`, not every permission', async () => {
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-all',
      accessPolicies: [
        { tenantId: fake.tenantId, objectId: P, permissions: { secrets: ['get', 'list'], keys: ['all'] } }
      ]
    })
    await policies('kv-all', 'remove', { secrets: ['all'], keys: ['All'] })
    expect(held('kv-all')).toEqual({ secrets: ['get', 'list'], keys: ['all'] })
    await policies('kv-all', 'remove', { keys: ['all'] })
    expect(held('kv-all')).toEqual({ secrets: ['get', 'list'] })
  })

  it('an older vault GETs without enableRbacAuthorization at all', async () => {
    fake.addVault({ resourceGroup: RG, name: 'kv-old', enableRbacAuthorization: null })
    const got = await arm('GET', vault('kv-old'), undefined, KV)
    expect(got.status).toBe(200)
    expect('enableRbacAuthorization' in got.body.properties).toBe(false)
    expect(got.body.properties.accessPolicies).toEqual([])
  })
})

describe('Microsoft.Web: 202 on PATCH and its own error shape', () => {
  it('a function app on Container Apps answers 202 with Azure-AsyncOperation and the old site; the change shows later', async () => {
    fake.addSite({ resourceGroup: RG, name: 'aca-fn', kind: 'functionapp,linux,container,azurecontainerapps' })
    const patched = await arm('PATCH', site('aca-fn'), { identity: { type: 'SystemAssigned' } }, WEB)
    expect(patched.status).toBe(202)
    // UpdateWebApp.json: only Azure-AsyncOperation, at the subscription level; no Location, no Retry-After.
    const prefix = `${fake.armEndpoint}/subscriptions/${fake.subscriptionId}/providers/Microsoft.Web/sites/aca-fn/operationResults/`
    const asyncUrl = patched.headers['azure-asyncoperation'] as string
    expect(asyncUrl.startsWith(prefix)).toBe(true)
    expect(asyncUrl.slice(prefix.length)).toMatch(/^[0-9a-f-]{36}\?api-version=2025-05-01$/)
    expect(patched.headers.location).toBeUndefined()
    expect(patched.headers['retry-after']).toBeUndefined()
    expect(patched.body.identity).toBeUndefined() // the site as it was
    const operation = new URL(patched.headers['azure-asyncoperation'] as string)
    expect((await arm('GET', operation.pathname, undefined, WEB)).body.status).toBe('InProgress')
    expect((await arm('GET', site('aca-fn'), undefined, WEB)).body.identity).toBeUndefined()

    // While the update runs, another write is refused in Microsoft.Web's own shape.
    const busy = await arm('PATCH', site('aca-fn'), { tags: { a: 'b' } }, WEB)
    expect(busy.status).toBe(409)
    expect(busy.body).toMatchObject({ Code: 'Conflict', Target: null, Innererror: null })
    expect(busy.body.Message).toMatch(
      /^Cannot modify this site because another operation is in progress\. Details: Id: /
    )
    expect(busy.body.error).toBeUndefined()
    // The live entity: ExtendedCode 59203, the template, and the details as its one parameter.
    const entity = busy.body.Details[2].ErrorEntity
    expect(entity).toMatchObject({
      Code: 'Conflict',
      ExtendedCode: '59203',
      MessageTemplate: 'Cannot modify this site because another operation is in progress. Details: {0}'
    })
    expect(entity.Parameters).toHaveLength(1)
    expect(entity.Parameters[0]).toMatch(
      /^Id: [0-9a-f-]{36}, OperationName: Update, CreatedTime: \d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M, RequestId: /
    )
    expect(busy.body.Message).toBe(
      `Cannot modify this site because another operation is in progress. Details: ${entity.Parameters[0]}`
    )

    await new Promise((r) => setTimeout(r, 1600))
    expect((await arm('GET', operation.pathname, undefined, WEB)).body.status).toBe('Succeeded')
    const after = await arm('GET', site('aca-fn'), undefined, WEB)
    expect(after.body.identity).toMatchObject({ type: 'SystemAssigned', principalId: expect.any(String) })
    expect(after.body.tags).toEqual({}) // the refused write changed nothing
  })

  it('a 202 may come without a body; other sites answer 200 as before', async () => {
    fake.addSite({ resourceGroup: RG, name: 'empty-202', asyncUpdates: { delayMs: 50, emptyBody: true } })
    const patched = await arm('PATCH', site('empty-202'), { identity: { type: 'SystemAssigned' } }, WEB)
    expect(patched.status).toBe(202)
    expect(patched.body).toBeUndefined()
    fake.addSite({ resourceGroup: RG, name: 'plain' })
    expect((await arm('PATCH', site('plain'), { identity: { type: 'SystemAssigned' } }, WEB)).status).toBe(200)
  })

  it('a bad identity body is a Microsoft.Web 400; a missing site is the gateway 404 in ARM shape', async () => {
    fake.addSite({ resourceGroup: RG, name: 'bad-id' })
    const bad = await arm('PATCH', site('bad-id'), { identity: { type: 'Sometimes' } }, WEB)
    expect(bad.status).toBe(400)
    expect(bad.body.Code).toBe('BadRequest')
    const missing = await arm('GET', site('nope'), undefined, WEB)
    expect(missing.body.error.code).toBe('ResourceNotFound')
  })
})

describe('resource locks', () => {
  it('ReadOnly refuses every write below it with 409 ScopeLocked naming the locked scope; reads pass', async () => {
    const rg = 'locked-rg'
    fake.addSite({ resourceGroup: rg, name: 'locked-app' })
    fake.addVault({ resourceGroup: rg, name: 'kv-locked' })
    const group = `/subscriptions/${fake.subscriptionId}/resourceGroups/${rg}`
    fake.addLock(group, 'ReadOnly')
    const patch = await arm('PATCH', `${group}/providers/Microsoft.Web/sites/locked-app`, { tags: {} }, WEB)
    expect(patch.status).toBe(409)
    expect(patch.body.error.code).toBe('ScopeLocked')
    expect(patch.body.error.message).toBe(
      `The scope '${group}/providers/Microsoft.Web/sites/locked-app' cannot perform write operation because following scope(s) are locked: '${group.toLowerCase()}'. Please remove the lock and try again.`
    )
    const add = await arm(
      'PUT',
      `${group}/providers/Microsoft.KeyVault/vaults/kv-locked/accessPolicies/add`,
      { properties: { accessPolicies: [{ tenantId: fake.tenantId, objectId: P, permissions: { secrets: ['get'] } }] } },
      KV
    )
    expect(add.body.error.code).toBe('ScopeLocked')
    expect((await arm('GET', `${group}/providers/Microsoft.Web/sites/locked-app`, undefined, WEB)).status).toBe(200)
  })

  it('CanNotDelete refuses only deletes', async () => {
    fake.addVault({ resourceGroup: 'nodelete-rg', name: 'kv-nodelete', enableRbacAuthorization: true })
    const scope = `/subscriptions/${fake.subscriptionId}/resourceGroups/nodelete-rg/providers/Microsoft.KeyVault/vaults/kv-nodelete`
    fake.addLock(scope, 'CanNotDelete')
    const path = `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`
    const body = {
      properties: {
        roleDefinitionId: `/subscriptions/${fake.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
        principalId: P,
        principalType: 'ServicePrincipal'
      }
    }
    expect((await arm('PUT', path, body, '2022-04-01')).status).toBe(201)
    const del = await arm('DELETE', path, undefined, '2022-04-01')
    expect(del.status).toBe(409)
    expect(del.body.error.message).toMatch(/cannot perform delete operation because following scope\(s\) are locked/)
  })
})

describe('role assignments above the subscription', () => {
  it('atScope() also lists assignments at the root `/` and at management groups holding the subscription', async () => {
    fake.addVault({ resourceGroup: RG, name: 'kv-inherit', enableRbacAuthorization: true })
    fake.addManagementGroup('platform', [fake.subscriptionId])
    fake.addManagementGroup('elsewhere', [randomUUID()])
    const role = '4633458b-17de-408a-b874-0445c86b69e6'
    fake.addRoleAssignment({ scope: '/', roleDefinitionGuid: role, principalId: P, name: 'root-one' })
    const mg = '/providers/Microsoft.Management/managementGroups/platform'
    fake.addRoleAssignment({ scope: mg, roleDefinitionGuid: role, principalId: P, name: 'mg-one' })
    fake.addRoleAssignment({
      scope: '/providers/Microsoft.Management/managementGroups/elsewhere',
      roleDefinitionGuid: role,
      principalId: P,
      name: 'other-mg'
    })
    const list = await arm(
      'GET',
      `${vault('kv-inherit')}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()`,
      undefined,
      '2022-04-01'
    )
    const byName = Object.fromEntries(
      (list.body.value as { name: string; id: string; properties: { scope: string; roleDefinitionId: string } }[]).map(
        (a) => [a.name, a]
      )
    )
    expect(byName['root-one']).toMatchObject({
      id: '/providers/Microsoft.Authorization/roleAssignments/root-one',
      properties: { scope: '/', roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${role}` }
    })
    expect(byName['mg-one'].properties.scope).toBe(mg)
    expect(byName['mg-one'].properties.roleDefinitionId).toMatch(
      /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleDefinitions\//
    )
    expect(byName['other-mg']).toBeUndefined()
  })
})

describe('the network', () => {
  it('an untrusted twin serves the same ARM behind a certificate from another CA', async () => {
    const url = await fake.startUntrusted('arm')
    await expect(call(fake, `${url}/subscriptions?api-version=2022-12-01`)).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
    })
    // Trusting nothing but the certificate itself shows it is the same server.
    const answer = await new Promise<number>((resolve, reject) =>
      https
        .get(`${url}/subscriptions?api-version=2022-12-01`, { rejectUnauthorized: false }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        .on('error', reject)
    )
    expect(answer).toBe(401) // no token: the ARM front door answered
  })

  it('an Entra ID that stays down keeps answering 503 with an AAD body', async () => {
    const down = await startFakeAzure()
    try {
      down.addFault({ server: 'entra', status: 503, times: Infinity })
      for (let i = 0; i < 3; i++) {
        const r = await call(down, `${down.authorityHost}/${down.tenantId}/v2.0/.well-known/openid-configuration`)
        expect(r.status).toBe(503)
        expect(r.body.error_codes).toEqual([90033])
      }
    } finally {
      await down.close()
    }
  })
})
