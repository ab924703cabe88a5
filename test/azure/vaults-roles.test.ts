// src/azure/vaults.ts and role-assignments.ts with the real SDKs and the action's pipeline against the fake.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { RetryBudget } from '../../src/azure/http/budget.js'
import { RoleAssignments } from '../../src/azure/role-assignments.js'
import { Vaults } from '../../src/azure/vaults.js'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { captureCommands, cloudOf, credentialFor } from './helpers.ts'

let fake: FakeAzure
const RG = 'kv-rg'
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6'
const output = captureCommands()
const vaults = (): Vaults => new Vaults(credentialFor(fake), cloudOf(fake), new RetryBudget(60), fake.subscriptionId)
const roles = (): RoleAssignments => new RoleAssignments(credentialFor(fake), cloudOf(fake), new RetryBudget(60))
const target = (name: string, resourceGroup?: string) => ({ name, resourceGroup, subscriptionId: fake.subscriptionId })
const roleDef = (): string =>
  `/subscriptions/${fake.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_USER}`

beforeAll(async () => {
  fake = await startFakeAzure()
})
afterAll(async () => {
  await fake.close()
})

describe('Vaults', () => {
  it('finds a vault by name across listing pages, and reads one by resource group', async () => {
    for (let i = 0; i < 5; i++) fake.addVault({ resourceGroup: RG, name: `kv-page-${i}` })
    fake.setPageSize(2)
    try {
      fake.clearLog()
      const found = await vaults().read(target('KV-PAGE-4'))
      expect(found).toMatchObject({ name: 'kv-page-4', resourceGroup: RG, rbac: false })
      expect(fake.requests.filter((r) => r.path.endsWith('/vaults'))).toHaveLength(3)
    } finally {
      fake.setPageSize(1000)
    }
    expect((await vaults().read(target('kv-page-1', RG))).id).toBe(fake.getVault(RG, 'kv-page-1')!.id)
  })

  it('an older vault without enableRbacAuthorization uses access policies', async () => {
    fake.addVault({ resourceGroup: RG, name: 'kv-older', enableRbacAuthorization: null })
    expect((await vaults().read(target('kv-older', RG))).rbac).toBe(false)
  })

  it('refuses to follow a page link off the ARM origin: the token never leaves', async () => {
    const foreign = `https://evil.example/subscriptions/${fake.subscriptionId}/providers/Microsoft.KeyVault/vaults?$skiptoken=x`
    fake.addFault({
      server: 'arm',
      method: 'GET',
      path: /\/providers\/Microsoft\.KeyVault\/vaults$/,
      status: 200,
      body: { value: [], nextLink: foreign }
    })
    await expect(vaults().read(target('kv-anything'))).rejects.toThrow(
      'Refusing to send a request to https://evil.example: an answer from Azure pointed the action there (a page link), but the access token is only ever sent to'
    )
  })

  it('refuses a vault whose id is not the one asked for (another name, resource group or type)', async () => {
    fake.addVault({ resourceGroup: RG, name: 'kv-asked' })
    const other = fake.getVault(RG, 'kv-asked')!
    fake.addFault({
      server: 'arm',
      method: 'GET',
      path: '/vaults/kv-asked',
      status: 200,
      body: {
        ...other,
        id: `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/kv-other`
      }
    })
    await expect(vaults().read(target('kv-asked', RG))).rejects.toThrow(
      /Azure returned the vault id '.*kv-other', which is not the id of Key Vault 'kv-asked'/
    )
    fake.addFault({ server: 'arm', method: 'GET', path: '/vaults/kv-asked', status: 200, body: { ...other, id: '/' } })
    await expect(vaults().read(target('kv-asked', RG))).rejects.toThrow(/Azure returned the vault id '\/'/)
  })

  it('removes exactly the spelling it is given and reads the vault back fresh', async () => {
    const p = randomUUID()
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-spelling',
      accessPolicies: [{ tenantId: fake.tenantId, objectId: p, permissions: { secrets: ['Get', 'List'] } }]
    })
    const client = vaults()
    const vault = await client.read(target('kv-spelling'))
    await client.changeAccessPolicies(vault, 'remove', [
      { tenantId: fake.tenantId, objectId: p, permissions: { secrets: ['get'] } }
    ])
    expect((await client.reread(vault)).accessPolicies[0].permissions.secrets).toEqual(['Get', 'List'])
    await client.changeAccessPolicies(vault, 'remove', [
      { tenantId: fake.tenantId, objectId: p, permissions: { secrets: ['Get'] } }
    ])
    expect((await client.reread(vault)).accessPolicies[0].permissions.secrets).toEqual(['List'])
  })
})

describe('RoleAssignments', () => {
  let scope: string
  beforeAll(() => {
    scope = fake.addVault({ resourceGroup: RG, name: 'kv-rbac', enableRbacAuthorization: true }).id
  })

  it('creates with principalType, and a second create under another name is "exists"', async () => {
    const principal = randomUUID()
    expect(await roles().create(scope, randomUUID(), roleDef(), principal)).toBe('created')
    expect(await roles().create(scope, randomUUID(), roleDef(), principal)).toBe('exists')
    const put = fake.requests.filter((r) => r.method === 'PUT' && r.path.includes('/roleAssignments/'))[0]
    expect(put.requestBody).toMatchObject({ properties: { principalType: 'ServicePrincipal', principalId: principal } })
  })

  it('waits out PrincipalNotFound (a new identity replicating) with a warning', async () => {
    const body = {
      error: { code: 'PrincipalNotFound', message: 'Principal 123 does not exist in the directory 456.' }
    }
    fake.addFault({ server: 'arm', method: 'PUT', path: '/roleAssignments/', status: 400, body, times: 1 })
    expect(await roles().create(scope, randomUUID(), roleDef(), randomUUID())).toBe('created')
    expect(output.warnings()).toEqual([
      expect.stringMatching(
        /the new identity has not reached the directory yet \(PrincipalNotFound\); retry 1 in 2 s\./
      )
    ])
  })

  it('lists assignments at the vault and above it: the root `/` and management groups included', async () => {
    const principal = randomUUID()
    fake.addManagementGroup('mg-list', [fake.subscriptionId])
    fake.addRoleAssignment({ scope: '/', roleDefinitionGuid: SECRETS_USER, principalId: principal })
    fake.addRoleAssignment({
      scope: '/providers/Microsoft.Management/managementGroups/mg-list',
      roleDefinitionGuid: SECRETS_USER,
      principalId: principal
    })
    const scopes = (await roles().listAtOrAbove(scope)).filter((a) => a.principalId === principal).map((a) => a.scope)
    expect(scopes.sort()).toEqual(['/', '/providers/Microsoft.Management/managementGroups/mg-list'])
  })

  it('delete: 200 deleted; 204 nothing there; 204 after a lost answer counts as deleted', async () => {
    const client = roles()
    const name = randomUUID()
    await client.create(scope, name, roleDef(), randomUUID())
    expect(await client.delete(scope, name)).toBe(true)
    expect(await client.delete(scope, name)).toBe(false)
    const lost = randomUUID()
    await client.create(scope, lost, roleDef(), randomUUID())
    fake.addFault({ server: 'arm', method: 'DELETE', path: lost, dropAnswer: true })
    expect(await client.delete(scope, lost)).toBe(true)
    expect(fake.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(lost)).map((r) => r.status)).toEqual([
      0, 204
    ])
  })

  it('never assigns or deletes at a scope wider than a vault', async () => {
    const client = roles()
    fake.clearLog()
    for (const bad of [
      '',
      '/',
      `/subscriptions/${fake.subscriptionId}`,
      `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}`
    ]) {
      await expect(client.create(bad, randomUUID(), roleDef(), randomUUID())).rejects.toThrow(
        /Refusing a role assignment at scope/
      )
      await expect(client.delete(bad, randomUUID())).rejects.toThrow(/only a Key Vault's own id is allowed/)
    }
    expect(fake.requests.filter((r) => r.server === 'arm')).toEqual([])
  })
})

describe('Vaults: not found', () => {
  it('says it searched the whole subscription when the vault is not there', async () => {
    await expect(vaults().read(target('kv-nowhere'))).rejects.toThrow(
      /Key Vault 'kv-nowhere' was not found in subscription .* \(searched every vault the sign-in identity can read there/
    )
  })
})
