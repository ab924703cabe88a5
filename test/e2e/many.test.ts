// Many targets in one step: 20 apps (some slots) × 2 vaults (one per access model). One
// accessPolicies/add per vault carries every principal; the re-run writes nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction } from './run-action.ts'

let fake: FakeAzure
const RG = 'fleet-rg'
const APPS = Array.from({ length: 16 }, (_, i) => `svc-${i}`)
const SLOT_APPS = ['svc-0/staging', 'svc-1/staging', 'svc-2/canary', 'svc-3/staging']
const ALL = [...APPS, ...SLOT_APPS]

beforeAll(async () => {
  fake = await startFakeAzure()
  fake.addResourceGroup(RG)
  for (const name of APPS) fake.addSite({ resourceGroup: RG, name, tags: { fleet: name } })
  for (const entry of SLOT_APPS) {
    const [site, slot] = entry.split('/')
    fake.addSlot({ resourceGroup: RG, site, slot })
  }
  fake.addVault({ resourceGroup: RG, name: 'fleet-kv' })
  fake.addVault({ resourceGroup: RG, name: 'fleet-kv-rbac', enableRbacAuthorization: true })
})
afterAll(async () => fake?.close())

const inputs = {
  // Newlines and commas mixed, as people write them in YAML.
  'app-name': `${APPS.slice(0, 8).join('\n')}\n${APPS.slice(8).join(', ')}\n${SLOT_APPS.join('\n')}`,
  'resource-group': RG,
  'vault-name': 'fleet-kv, fleet-kv-rbac',
  'vault-resource-group': RG
}

describe('20 apps and slots × 2 vaults in one step', () => {
  it('grants every app on every vault with one access-policy write, and the re-run writes nothing', async () => {
    const run = await runAction(fake, inputs)
    expect(run.error).toBe('')
    const ids = JSON.parse(run.outputs['principal-ids']) as Record<string, string>
    expect(Object.keys(ids).sort()).toEqual([...ALL].sort())
    expect(new Set(Object.values(ids)).size).toBe(ALL.length)
    expect(run.outputs['principal-id']).toBe('')
    expect(run.outputs['access-model']).toBe('access-policy,rbac')

    // Each principal id is the identity of its own site or slot.
    for (const key of ALL) {
      const [name, slot] = key.split('/')
      expect(fake.getSite(RG, name, slot)!.identity!.principalId).toBe(ids[key])
    }

    const writes = fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET')
    expect(writes.filter((w) => w.method === 'PATCH')).toHaveLength(ALL.length)
    expect(writes.filter((w) => w.path.endsWith('/accessPolicies/add'))).toHaveLength(1)
    expect(writes.filter((w) => w.path.includes('/roleAssignments/'))).toHaveLength(ALL.length)
    expect(writes.filter((w) => w.method === 'PUT' && /\/(sites|vaults)\/[^/]+$/i.test(w.path))).toEqual([])

    const holders = fake
      .getVault(RG, 'fleet-kv')!
      .properties.accessPolicies.map((p) => p.objectId)
      .sort()
    expect(holders).toEqual(Object.values(ids).sort())
    const assigned = fake
      .roleAssignments()
      .map((a) => a.properties.principalId)
      .sort()
    expect(assigned).toEqual(Object.values(ids).sort())
    // Production sites with slots keep their own state: only the slot's identity was asked for.
    expect(fake.getSite(RG, 'svc-0')!.tags).toEqual({ fleet: 'svc-0' })
    // The summary has one row per app × vault.
    expect(run.summary.match(/<tr>/g)).toHaveLength(1 + ALL.length * 2)

    fake.clearLog()
    const again = await runAction(fake, inputs)
    expect(again.outputs.changed).toBe('false')
    expect(JSON.parse(again.outputs['principal-ids'])).toEqual(ids)
    expect(fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET')).toEqual([])
  })
})

describe('one write fails, the others go through', () => {
  it('grants on the vault that allows it, reports it in outputs and summary, and fails naming the other', async () => {
    fake.addSite({ resourceGroup: RG, name: 'half-app' })
    fake.addVault({ resourceGroup: RG, name: 'half-kv-ok' })
    fake.addVault({ resourceGroup: RG, name: 'half-kv-denied' })
    fake.addFault({
      server: 'arm',
      method: 'PUT',
      path: '/vaults/half-kv-denied/accessPolicies/add',
      status: 403,
      body: {
        error: {
          code: 'AuthorizationFailed',
          message: `The client 'c' with object id 'o' does not have authorization to perform action 'Microsoft.KeyVault/vaults/accessPolicies/write' over scope '/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/half-kv-denied' or the scope is invalid.`
        }
      }
    })
    const run = await runAction(fake, { ...inputs, 'app-name': 'half-app', 'vault-name': 'half-kv-ok, half-kv-denied' })
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain("Could not add access policies to Key Vault 'half-kv-denied'")
    expect(run.error).toContain('Key Vault Contributor')
    const principalId = fake.getSite(RG, 'half-app')!.identity!.principalId!
    expect(run.outputs).toMatchObject({ 'principal-id': principalId, changed: 'true' })
    expect(fake.getVault(RG, 'half-kv-ok')!.properties.accessPolicies.map((p) => p.objectId)).toEqual([principalId])
    expect(fake.getVault(RG, 'half-kv-denied')!.properties.accessPolicies).toEqual([])
    expect(run.summary).toContain('Granted half-app on vault half-kv-ok')

    // The re-run (the fault fired once) completes the job with just the missing grant.
    fake.clearLog()
    const again = await runAction(fake, {
      ...inputs,
      'app-name': 'half-app',
      'vault-name': 'half-kv-ok, half-kv-denied'
    })
    expect(again.error).toBe('')
    expect(
      fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET').map((r) => r.path.split('/vaults/')[1])
    ).toEqual(['half-kv-denied/accessPolicies/add'])
  })
})
