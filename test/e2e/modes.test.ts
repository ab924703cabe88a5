// mode: plan, verify and revoke, end to end: read-only modes write nothing (even with a read-only
// caller), plan prints what apply then does, revoke takes back only what this action grants.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction, targetInputs } from './run-action.ts'

let fake: FakeAzure
const RG = 'modes-rg'
const OTHER = '22222222-3333-4444-5555-666666666666'
const UAI = `/subscriptions/x/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/keep-me`
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6'
const CRYPTO_USER = '12338af0-0e69-4776-bea7-57ae8d297424'

beforeAll(async () => {
  fake = await startFakeAzure()
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())
beforeEach(() => fake.clearLog())

const armWrites = (): string[] =>
  fake.requests
    // POST …/list reads settings (revoke with disable-identity looks for App Configuration references).
    .filter((r) => r.server === 'arm' && r.method !== 'GET' && !r.path.endsWith('/list'))
    .map((r) => `${r.method} ${r.path.replace(/^.*\/providers\//, '')}`)
const inputs = (app: string, vault: string, extra: Record<string, string> = {}) => targetInputs(RG, app, vault, extra)
/** The "- …" change lines of the plan printed in the log. */
const planLines = (stdout: string): string[] => stdout.split('\n').filter((l) => l.startsWith('  - '))

describe('mode: plan', () => {
  it('writes nothing, prints the plan that apply then carries out, and sets changed', async () => {
    fake.addSite({ resourceGroup: RG, name: 'plan-app' })
    fake.addVault({ resourceGroup: RG, name: 'kv-plan' })
    const plan = await runAction(fake, inputs('plan-app', 'kv-plan', { mode: 'plan' }))
    expect(plan.error).toBe('')
    expect(armWrites()).toEqual([])
    expect(plan.outputs.changed).toBe('true')
    expect(plan.outputs['principal-id']).toBe('')
    const planned = planLines(plan.stdout)
    expect(planned).toEqual([
      '  - turn on the system-assigned identity of plan-app (identity type None → SystemAssigned; the app restarts)',
      '  - add to the access policies of vault kv-plan: plan-app (new identity) secrets: get, list'
    ])
    expect(plan.summary).toContain('Apply would make 2 change(s)')

    fake.clearLog()
    const apply = await runAction(fake, inputs('plan-app', 'kv-plan'))
    expect(planLines(apply.stdout)).toEqual(planned)
    expect(armWrites()).toEqual([
      'PATCH Microsoft.Web/sites/plan-app',
      'PUT Microsoft.KeyVault/vaults/kv-plan/accessPolicies/add'
    ])

    fake.clearLog()
    const again = await runAction(fake, inputs('plan-app', 'kv-plan', { mode: 'plan' }))
    expect(again.outputs).toMatchObject({ changed: 'false', 'principal-id': apply.outputs['principal-id'] })
    expect(armWrites()).toEqual([])
  })
})

describe('mode: verify', () => {
  it('fails with exactly what is missing, and passes once granted — with a read-only caller', async () => {
    const site = fake.addSite({ resourceGroup: RG, name: 'verify-app', systemAssigned: true })
    const vault = fake.addVault({ resourceGroup: RG, name: 'kv-verify', enableRbacAuthorization: true })
    const principalId = fake.getSite(RG, 'verify-app')!.identity!.principalId!
    fake.addRoleAssignment({ scope: vault.id, roleDefinitionGuid: SECRETS_USER, principalId })
    const gate = inputs('verify-app', 'kv-verify', {
      mode: 'verify',
      'key-permissions': 'sign',
      'secret-permissions': 'get'
    })

    // The verifying identity may only read the app and the vault (and their role assignments).
    for (const scope of [site.id, vault.id]) {
      fake.deny('*/write', scope)
      fake.deny('*/delete', scope)
      fake.deny('*/action', scope)
    }
    const failed = await runAction(fake, gate)
    expect(failed.exitCode).toBe(1)
    expect(failed.error).toContain('Verify failed: 1 thing(s) missing:')
    expect(failed.error).toContain('verify-app on vault kv-verify (rbac): missing role(s) Key Vault Crypto User')
    expect(failed.error).not.toContain('Secrets User')
    expect(failed.error).toContain("'mode: apply'")
    expect(failed.outputs['principal-id']).toBe(principalId)
    expect(armWrites()).toEqual([])

    fake.addRoleAssignment({
      scope: `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}`,
      roleDefinitionGuid: CRYPTO_USER,
      principalId
    })
    fake.clearLog()
    const passed = await runAction(fake, gate)
    expect(passed.error).toBe('')
    expect(passed.exitCode).toBe(0)
    expect(passed.outputs.changed).toBe('false')
    expect(armWrites()).toEqual([])
  })

  it('fails when the identity is off, listing the identity and the access', async () => {
    fake.addSite({ resourceGroup: RG, name: 'verify-off' })
    fake.addVault({ resourceGroup: RG, name: 'kv-verify-off' })
    const run = await runAction(fake, inputs('verify-off', 'kv-verify-off', { mode: 'verify' }))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain('verify-off: the system-assigned identity is off')
    expect(run.error).toContain('verify-off on vault kv-verify-off (access-policy): missing secrets: get, list')
    expect(armWrites()).toEqual([])
  })
})

describe('mode: revoke', () => {
  it('access policies: removes only the requested permissions, keeps other principals, and is idempotent', async () => {
    fake.addSite({ resourceGroup: RG, name: 'revoke-app', userAssignedIdentities: [UAI] })
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-revoke',
      accessPolicies: [{ tenantId: fake.tenantId, objectId: OTHER, permissions: { secrets: ['get', 'list'] } }]
    })
    const granted = await runAction(fake, inputs('revoke-app', 'kv-revoke', { 'secret-permissions': 'get,list,set' }))
    const principalId = granted.outputs['principal-id']

    fake.clearLog()
    const revoked = await runAction(
      fake,
      inputs('revoke-app', 'kv-revoke', { mode: 'revoke', 'secret-permissions': 'set' })
    )
    expect(revoked.error).toBe('')
    expect(revoked.outputs.changed).toBe('true')
    expect(armWrites()).toEqual(['PUT Microsoft.KeyVault/vaults/kv-revoke/accessPolicies/remove'])
    const policies = fake.getVault(RG, 'kv-revoke')!.properties.accessPolicies
    expect(policies.find((p) => p.objectId === OTHER)?.permissions).toEqual({ secrets: ['get', 'list'] })
    expect(policies.find((p) => p.objectId === principalId)?.permissions.secrets).toEqual(['get', 'list'])

    fake.clearLog()
    const disabled = await runAction(
      fake,
      inputs('revoke-app', 'kv-revoke', {
        mode: 'revoke',
        'secret-permissions': 'get,list,set',
        'disable-identity': 'true'
      })
    )
    expect(disabled.error).toBe('')
    expect(armWrites()).toEqual([
      'PUT Microsoft.KeyVault/vaults/kv-revoke/accessPolicies/remove',
      'PATCH Microsoft.Web/sites/revoke-app'
    ])
    expect(fake.getVault(RG, 'kv-revoke')!.properties.accessPolicies.map((p) => p.objectId)).toEqual([OTHER])
    const identity = fake.getSite(RG, 'revoke-app')!.identity!
    expect(identity.type).toBe('UserAssigned')
    expect(Object.keys(identity.userAssignedIdentities ?? {})).toEqual([UAI])

    fake.clearLog()
    const again = await runAction(
      fake,
      inputs('revoke-app', 'kv-revoke', { mode: 'revoke', 'disable-identity': 'true' })
    )
    expect(again.error).toBe('')
    expect(again.outputs.changed).toBe('false')
    expect(armWrites()).toEqual([])
  })

  it('RBAC: deletes only the assignments this action created, never others', async () => {
    fake.addSite({ resourceGroup: RG, name: 'revoke-rbac' })
    const vault = fake.addVault({ resourceGroup: RG, name: 'kv-revoke-rbac', enableRbacAuthorization: true })
    const granted = await runAction(fake, inputs('revoke-rbac', 'kv-revoke-rbac'))
    const principalId = granted.outputs['principal-id']
    // Someone else gave the same principal the same role under another name, and another role.
    fake.addRoleAssignment({
      scope: `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}`,
      roleDefinitionGuid: SECRETS_USER,
      principalId
    })
    fake.addRoleAssignment({ scope: vault.id, roleDefinitionGuid: CRYPTO_USER, principalId })
    const before = fake.roleAssignments().filter((a) => a.properties.principalId === principalId)
    expect(before).toHaveLength(3)

    fake.clearLog()
    const revoked = await runAction(fake, inputs('revoke-rbac', 'kv-revoke-rbac', { mode: 'revoke' }))
    expect(revoked.error).toBe('')
    expect(armWrites()).toHaveLength(1)
    const deleted = fake.requests.find((r) => r.method === 'DELETE')!
    expect(deleted.path).toMatch(
      /\/vaults\/kv-revoke-rbac\/providers\/Microsoft\.Authorization\/roleAssignments\/[0-9a-f-]{36}$/
    )
    const after = fake.roleAssignments().filter((a) => a.properties.principalId === principalId)
    expect(after.map((a) => a.name).sort()).toEqual(
      before
        .filter((a) => !armWrites()[0].endsWith(a.name))
        .map((a) => a.name)
        .sort()
    )
    expect(after).toHaveLength(2)

    fake.clearLog()
    const again = await runAction(fake, inputs('revoke-rbac', 'kv-revoke-rbac', { mode: 'revoke' }))
    expect(again.outputs.changed).toBe('false')
    expect(armWrites()).toEqual([])
  })
})
