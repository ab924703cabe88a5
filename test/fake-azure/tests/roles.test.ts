// Role assignments at any scope: create, idempotency, conflicts, replication delay, list filters.
import { randomUUID } from 'node:crypto'
import { startFakeAzure, type FakeAzure } from '../index.ts'
import { armCaller, type Reply } from './helpers.ts'

let fake: FakeAzure
let arm: (method: string, path: string, body?: unknown, apiVersion?: string | null) => Promise<Reply>
const V = '2022-04-01'
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6'
let vaultId: string
const roleDef = (guid: string): string =>
  `/subscriptions/${fake.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`
const put = (
  scope: string,
  name: string,
  principalId: string,
  principalType?: string,
  role = SECRETS_USER
): Promise<Reply> =>
  arm(
    'PUT',
    `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    { properties: { roleDefinitionId: roleDef(role), principalId, ...(principalType ? { principalType } : {}) } },
    V
  )

beforeAll(async () => {
  fake = await startFakeAzure({ principalReplicationDelayMs: 60_000 })
  arm = await armCaller(fake)
  vaultId = fake.addVault({ resourceGroup: 'rbac-rg', name: 'rbac-kv', enableRbacAuthorization: true }).id
})
afterAll(async () => {
  await fake.close()
})

it('creates with principalType even for a brand-new principal, and answers 201 with the record', async () => {
  const principal = randomUUID()
  fake.addPrincipal(principal) // created now: not replicated for 60 s
  const name = randomUUID()
  const r = await put(vaultId, name, principal, 'ServicePrincipal')
  expect(r.status).toBe(201)
  expect(r.body).toMatchObject({
    id: `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      roleDefinitionId: roleDef(SECRETS_USER),
      principalId: principal,
      principalType: 'ServicePrincipal',
      scope: vaultId
    }
  })
  expect(fake.roleAssignments().filter((a) => a.properties.principalId === principal)).toHaveLength(1)
  // same name, same content: idempotent
  expect((await put(vaultId, name, principal, 'ServicePrincipal')).status).toBe(201)
  // same scope+role+principal, other name
  const dup = await put(vaultId, randomUUID(), principal, 'ServicePrincipal')
  expect(dup.status).toBe(409)
  expect(dup.body.error).toEqual({
    code: 'RoleAssignmentExists',
    message: `The role assignment already exists. The ID of the existing role assignment is ${name.replaceAll('-', '')}.`
  })
  expect(r.body.properties).toMatchObject({ condition: null, conditionVersion: null })
})

it('keys duplicates on scope, role and principal, not the condition: a conditioned assignment blocks a plain one, and the reverse', async () => {
  const principal = randomUUID()
  const condition = "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'one'"
  const conditioned = await arm(
    'PUT',
    `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`,
    {
      properties: {
        roleDefinitionId: roleDef(SECRETS_USER),
        principalId: principal,
        principalType: 'ServicePrincipal',
        condition
      }
    },
    V
  )
  expect(conditioned.status).toBe(201)
  expect(conditioned.body.properties).toMatchObject({ condition, conditionVersion: '2.0' })
  const plain = await put(vaultId, randomUUID(), principal, 'ServicePrincipal')
  expect(plain.status).toBe(409)
  expect(plain.body.error.code).toBe('RoleAssignmentExists')
  expect(plain.body.error.message).toContain(conditioned.body.name.replaceAll('-', ''))

  const other = randomUUID()
  expect((await put(vaultId, randomUUID(), other, 'ServicePrincipal')).status).toBe(201)
  const second = await arm(
    'PUT',
    `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`,
    {
      properties: {
        roleDefinitionId: roleDef(SECRETS_USER),
        principalId: other,
        principalType: 'ServicePrincipal',
        condition
      }
    },
    V
  )
  expect(second.status).toBe(409)
  expect(second.body.error.code).toBe('RoleAssignmentExists')
})

it('a seeded conditioned assignment is listed with its condition', async () => {
  const principal = randomUUID()
  fake.addRoleAssignment({ scope: vaultId, roleDefinitionGuid: SECRETS_USER, principalId: principal, condition: 'c' })
  const list = await arm(
    'GET',
    `${vaultId}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`atScope() and assignedTo('${principal}')`)}`,
    undefined,
    V
  )
  expect(list.status).toBe(200)
  expect(list.body.value.map((a: { properties: { condition: string } }) => a.properties.condition)).toEqual(['c'])
})

it('PrincipalNotFound without principalType while the principal replicates', async () => {
  const principal = randomUUID()
  fake.addPrincipal(principal)
  const r = await put(vaultId, randomUUID(), principal)
  expect(r.status).toBe(400)
  expect(r.body.error.code).toBe('PrincipalNotFound')
  expect(r.body.error.message).toBe(
    `Principal ${principal.replace(/-/g, '')} does not exist in the directory ${fake.tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`
  )
  const old = randomUUID()
  fake.addPrincipal(old, Date.now() - 120_000)
  expect((await put(vaultId, randomUUID(), old)).status).toBe(201)
  expect((await put(vaultId, randomUUID(), randomUUID())).body.error.code).toBe('PrincipalNotFound')
})

it('validates the name, the role definition and the scope', async () => {
  expect((await put(vaultId, 'not-a-guid', randomUUID(), 'User')).body.error.code).toBe('InvalidRoleAssignmentId')
  const role = await put(vaultId, randomUUID(), randomUUID(), 'User', '99999999-9999-9999-9999-999999999999')
  expect(role.body.error).toEqual({
    code: 'RoleDefinitionDoesNotExist',
    message: "The specified role definition with ID '99999999-9999-9999-9999-999999999999' does not exist."
  })
  const missing = await put(vaultId.replace('rbac-kv', 'ghost-kv'), randomUUID(), randomUUID(), 'User')
  expect(missing.status).toBe(404)
  expect(
    (await arm('GET', `${vaultId}/providers/Microsoft.Authorization/roleAssignments`, undefined, '2018-01-01')).status
  ).toBe(400)
})

it('lists at, above and below a scope with $filter; tolerates a doubled slash', async () => {
  const p = randomUUID()
  const sub = `/subscriptions/${fake.subscriptionId}`
  const rg = `${sub}/resourceGroups/rbac-rg`
  fake.addRoleAssignment({ scope: sub, roleDefinitionGuid: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', principalId: p })
  fake.addRoleAssignment({ scope: vaultId, roleDefinitionGuid: SECRETS_USER, principalId: p })
  const names = (r: Reply): string[] => r.body.value.map((a: { properties: { scope: string } }) => a.properties.scope)
  const atRg = await arm(
    'GET',
    `${rg}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${p}'`)}`,
    undefined,
    V
  )
  expect(names(atRg).sort()).toEqual([sub, vaultId].sort())
  const atScope = await arm(
    'GET',
    `${rg}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`atScope() and principalId eq '${p}'`)}`,
    undefined,
    V
  )
  expect(names(atScope)).toEqual([sub])
  const doubled = await arm(
    'GET',
    `/${vaultId}/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()`,
    undefined,
    V
  )
  expect(doubled.status).toBe(200)
  expect(names(doubled)).toContain(vaultId)
  expect(names(doubled)).toContain(sub)
  expect(
    (
      await arm(
        'GET',
        `${rg}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent("roleName eq 'x'")}`,
        undefined,
        V
      )
    ).status
  ).toBe(400)
})

it('GET and DELETE one (200 with the body, then 204)', async () => {
  const name = randomUUID()
  const path = `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${name}`
  await put(vaultId, name, randomUUID(), 'Group')
  expect((await arm('GET', path, undefined, V)).body.properties.principalType).toBe('Group')
  const del = await arm('DELETE', path, undefined, V)
  expect(del.status).toBe(200)
  expect(del.body.name).toBe(name)
  expect((await arm('DELETE', path, undefined, V)).status).toBe(204)
  expect((await arm('GET', path, undefined, V)).status).toBe(404)
})

it('403 when role assignment writes are denied', async () => {
  fake.deny('Microsoft.Authorization/roleAssignments/write', `/subscriptions/${fake.subscriptionId}`)
  const r = await put(vaultId, randomUUID(), randomUUID(), 'User')
  expect(r.status).toBe(403)
  expect(r.body.error.message).toContain("perform action 'Microsoft.Authorization/roleAssignments/write'")
})
