// The bundled action, run as the runner runs it, against the fake Azure over HTTPS with the real
// SDKs: the behaviours users depend on, checked on the fake's state and request log.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction, targetInputs } from './run-action.ts'

let fake: FakeAzure
const RG = 'shop-rg'
const OTHER = '11111111-2222-3333-4444-555555555555'
const UAI = `/subscriptions/x/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shop-uai`

beforeAll(async () => {
  fake = await startFakeAzure()
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())
beforeEach(() => fake.clearLog())

const armWrites = (): { method: string; path: string }[] =>
  fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET')

const inputs = (app: string, vault: string, extra: Record<string, string> = {}) => targetInputs(RG, app, vault, extra)

describe('access-policy vault', () => {
  it('turns the identity on, adds one policy, and a re-run writes nothing', async () => {
    fake.addSite({ resourceGroup: RG, name: 'web-1', tags: { team: 'shop' }, appSettings: { LOG_LEVEL: 'info' } })
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-one',
      tags: { env: 'prod' },
      accessPolicies: [{ tenantId: fake.tenantId, objectId: OTHER, permissions: { secrets: ['get'], keys: ['sign'] } }]
    })
    const siteBefore = fake.getSite(RG, 'web-1')!
    const first = await runAction(fake, inputs('web-1', 'kv-one'))
    expect(first.error).toBe('')
    expect(first.exitCode).toBe(0)

    const site = fake.getSite(RG, 'web-1')!
    const principalId = site.identity?.principalId
    expect(principalId).toMatch(/^[0-9a-f-]{36}$/)
    expect(first.outputs).toMatchObject({
      'principal-id': principalId,
      'tenant-id': fake.tenantId,
      'access-model': 'access-policy',
      changed: 'true'
    })
    expect(JSON.parse(first.outputs['principal-ids'])).toEqual({ 'web-1': principalId })

    // Exactly two writes: the identity PATCH (identity only) and one accessPolicies/add.
    const writes = fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET')
    expect(writes.map((w) => `${w.method} ${w.path.replace(/^.*\/providers\//, '')}`)).toEqual([
      'PATCH Microsoft.Web/sites/web-1',
      'PUT Microsoft.KeyVault/vaults/kv-one/accessPolicies/add'
    ])
    expect(Object.keys(writes[0].requestBody as object)).toEqual(['identity'])

    const vault = fake.getVault(RG, 'kv-one')!
    expect(vault.properties.accessPolicies).toEqual([
      { tenantId: fake.tenantId, objectId: OTHER, permissions: { secrets: ['get'], keys: ['sign'] } },
      expect.objectContaining({
        objectId: principalId,
        permissions: expect.objectContaining({ secrets: ['get', 'list'] })
      })
    ])
    // Nothing else about the site or vault changed.
    expect(site.tags).toEqual(siteBefore.tags)
    expect(site.properties.siteConfig).toEqual(siteBefore.properties.siteConfig)
    expect(vault.tags).toEqual({ env: 'prod' })
    expect(first.summary).toContain('web-1')
    expect(first.summary).toContain(principalId)

    fake.clearLog()
    const second = await runAction(fake, inputs('web-1', 'kv-one'))
    expect(second.exitCode).toBe(0)
    expect(second.outputs).toMatchObject({ 'principal-id': principalId, changed: 'false' })
    expect(armWrites()).toEqual([])
    expect(second.summary).toContain('nothing was written')
  })

  it('grants a function app', async () => {
    fake.addSite({ resourceGroup: RG, name: 'func-1', kind: 'functionapp,linux' })
    fake.addVault({ resourceGroup: RG, name: 'kv-func' })
    const run = await runAction(fake, inputs('func-1', 'kv-func', { 'key-permissions': 'Get, UNWRAPKEY' }))
    expect(run.error).toBe('')
    const principalId = fake.getSite(RG, 'func-1')!.identity?.principalId
    const entry = fake.getVault(RG, 'kv-func')!.properties.accessPolicies.find((p) => p.objectId === principalId)
    // Only key permissions were asked for: no secrets default sneaks in.
    expect(entry?.permissions).toEqual({ keys: ['get', 'unwrapKey'] })
  })

  it('grants a slot and leaves production untouched', async () => {
    fake.addSite({ resourceGroup: RG, name: 'web-slot' })
    fake.addSlot({ resourceGroup: RG, site: 'web-slot', slot: 'staging' })
    fake.addVault({ resourceGroup: RG, name: 'kv-slot' })
    const run = await runAction(fake, inputs('web-slot', 'kv-slot', { slot: 'staging' }))
    expect(run.error).toBe('')
    expect(fake.getSite(RG, 'web-slot', 'staging')!.identity?.principalId).toBe(run.outputs['principal-id'])
    expect(fake.getSite(RG, 'web-slot')!.identity?.type ?? 'None').toBe('None')
    expect(armWrites().some((w) => /\/sites\/web-slot$/i.test(w.path))).toBe(false)
  })

  it('keeps user-assigned identities', async () => {
    fake.addSite({ resourceGroup: RG, name: 'web-uai', userAssignedIdentities: [UAI] })
    fake.addVault({ resourceGroup: RG, name: 'kv-uai' })
    const run = await runAction(fake, inputs('web-uai', 'kv-uai'))
    expect(run.error).toBe('')
    const identity = fake.getSite(RG, 'web-uai')!.identity!
    expect(identity.type).toBe('SystemAssigned, UserAssigned')
    expect(Object.keys(identity.userAssignedIdentities ?? {})).toEqual([UAI])
  })

  it('finds the vault by name when no resource group is given', async () => {
    fake.addResourceGroup('vaults-rg')
    fake.addSite({ resourceGroup: RG, name: 'web-find' })
    fake.addVault({ resourceGroup: 'vaults-rg', name: 'kv-elsewhere' })
    const run = await runAction(fake, { 'app-name': 'web-find', 'resource-group': RG, 'vault-name': 'kv-elsewhere' })
    expect(run.error).toBe('')
    const principalId = run.outputs['principal-id']
    expect(fake.getVault('vaults-rg', 'kv-elsewhere')!.properties.accessPolicies.map((p) => p.objectId)).toContain(
      principalId
    )
  })

  it('loses nothing when eight runs for eight apps hit one vault at once', async () => {
    fake.addVault({ resourceGroup: RG, name: 'kv-busy' })
    const apps = Array.from({ length: 8 }, (_, i) => `web-busy-${i}`)
    for (const name of apps) fake.addSite({ resourceGroup: RG, name })
    const runs = await Promise.all(apps.map((name) => runAction(fake, inputs(name, 'kv-busy'))))
    expect(runs.map((r) => r.exitCode)).toEqual(apps.map(() => 0))
    const holders = fake
      .getVault(RG, 'kv-busy')!
      .properties.accessPolicies.map((p) => p.objectId)
      .sort()
    expect(holders).toEqual(runs.map((r) => r.outputs['principal-id']).sort())
  })
})

describe('RBAC vault', () => {
  it('assigns Key Vault Secrets User with principalType and writes no access policy', async () => {
    fake.addSite({ resourceGroup: RG, name: 'web-rbac' })
    const vault = fake.addVault({ resourceGroup: RG, name: 'kv-rbac', enableRbacAuthorization: true })
    const run = await runAction(fake, inputs('web-rbac', 'kv-rbac'))
    expect(run.error).toBe('')
    expect(run.outputs['access-model']).toBe('rbac')
    const principalId = run.outputs['principal-id']
    const mine = fake.roleAssignments().filter((a) => a.properties.principalId === principalId)
    expect(mine).toHaveLength(1)
    expect(mine[0].properties.roleDefinitionId).toMatch(/4633458b-17de-408a-b874-0445c86b69e6$/)
    expect(mine[0].properties.scope.toLowerCase()).toBe(vault.id.toLowerCase())
    expect(mine[0].properties.principalType).toBe('ServicePrincipal')
    expect(armWrites().some((w) => w.path.includes('accessPolicies'))).toBe(false)

    fake.clearLog()
    const again = await runAction(fake, inputs('web-rbac', 'kv-rbac'))
    expect(again.outputs.changed).toBe('false')
    expect(armWrites()).toEqual([])
  })
})
