// Revoke takes only what was asked and this action made, and never reads as "access gone" when it
// is not; a conditioned role assignment is never taken for a grant. End to end against the fake:
// what stays is named in a ::warning:: and in the summary, and the write that ARM would refuse as a
// duplicate of a conditioned assignment fails naming it (before any write, or when a second writer
// adds one meanwhile).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { type ActionRun, runAction, targetInputs } from './run-action.ts'

let fake: FakeAzure
const RG = 'held-rg'
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6'
const SECRETS_OFFICER = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
const CONDITION = "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'only-this-one'"

beforeAll(async () => {
  fake = await startFakeAzure()
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())
beforeEach(() => fake.clearLog())

const inputs = (app: string, vault: string, extra: Record<string, string> = {}) => targetInputs(RG, app, vault, extra)
const warnings = (run: ActionRun): string[] =>
  run.stdout
    .split('\n')
    .filter((l) => l.startsWith('::warning::'))
    .map((l) => l.slice('::warning::'.length).replaceAll('%0A', '\n').replaceAll('%25', '%'))
const roleWrites = (): string[] =>
  fake.requests
    .filter((r) => r.server === 'arm' && r.method !== 'GET' && r.path.includes('/roleAssignments/'))
    .map((r) => r.method)
const rolesOf = (principalId: string): string[] =>
  fake
    .roleAssignments()
    .filter((a) => a.properties.principalId === principalId)
    .map((a) => a.properties.roleDefinitionId.split('/').pop()!)

describe('revoke takes only what was asked, the same on both models', () => {
  it("RBAC: revoking get,list keeps an officer role this action granted (it also grants set, delete, …), warns, and 'all' then takes it", async () => {
    fake.addSite({ resourceGroup: RG, name: 'officer-app' })
    const vault = fake.addVault({ resourceGroup: RG, name: 'kv-officer', enableRbacAuthorization: true })
    const granted = await runAction(fake, inputs('officer-app', 'kv-officer', { 'secret-permissions': 'get,list,set' }))
    const principalId = granted.outputs['principal-id']
    expect(rolesOf(principalId)).toEqual([SECRETS_OFFICER])

    fake.clearLog()
    const revoked = await runAction(fake, inputs('officer-app', 'kv-officer', { mode: 'revoke' }))
    expect(revoked.exitCode).toBe(0)
    expect(roleWrites()).toEqual([])
    expect(rolesOf(principalId)).toEqual([SECRETS_OFFICER])
    expect(revoked.outputs.changed).toBe('false')
    const [warning, ...more] = warnings(revoked)
    expect(more).toEqual([])
    expect(warning).toContain(
      `officer-app still holds secrets: get, list on vault kv-officer through role 'Key Vault Secrets Officer' at scope ${vault.id} (assignment `
    )
    expect(warning).toContain('revoke everything it grants (secrets: all)')
    expect(revoked.summary).not.toContain('nothing held')
    expect(revoked.summary).toContain("nothing revoked; still held through role 'Key Vault Secrets Officer'")

    fake.clearLog()
    const all = await runAction(
      fake,
      inputs('officer-app', 'kv-officer', { mode: 'revoke', 'secret-permissions': 'all' })
    )
    expect(all.exitCode).toBe(0)
    expect(roleWrites()).toEqual(['DELETE'])
    expect(rolesOf(principalId)).toEqual([])
    expect(warnings(all)).toEqual([])
  })

  it("access policies: revoking get,list from a held 'all' leaves it, warns and succeeds, as on RBAC", async () => {
    fake.addSite({ resourceGroup: RG, name: 'all-app' })
    fake.addVault({ resourceGroup: RG, name: 'kv-all' })
    const granted = await runAction(fake, inputs('all-app', 'kv-all', { 'secret-permissions': 'all' }))
    const principalId = granted.outputs['principal-id']

    fake.clearLog()
    const revoked = await runAction(fake, inputs('all-app', 'kv-all', { mode: 'revoke' }))
    expect(revoked.error).toBe('')
    expect(revoked.exitCode).toBe(0)
    expect(fake.requests.filter((r) => r.method === 'PUT')).toEqual([])
    const entry = fake.getVault(RG, 'kv-all')!.properties.accessPolicies.find((p) => p.objectId === principalId)
    expect(entry?.permissions.secrets).toEqual(['all'])
    expect(warnings(revoked)).toEqual([
      "all-app still holds secrets: get, list on vault kv-all through its own access-policy entry, which holds 'all' secrets permissions: 'all' is one name in the entry and cannot lose a part of itself. Fix: set 'secret-permissions' to 'all' to remove them, then apply the secrets permissions it should keep."
    ])
    expect(revoked.summary).not.toContain('nothing held')
  })
})

describe('revoke says what access stays', () => {
  it("RBAC: deletes its own assignment and names a person's and an inherited one that still grant the access", async () => {
    fake.addSite({ resourceGroup: RG, name: 'person-app' })
    const vault = fake.addVault({ resourceGroup: RG, name: 'kv-person', enableRbacAuthorization: true })
    const granted = await runAction(fake, inputs('person-app', 'kv-person'))
    const principalId = granted.outputs['principal-id']
    const rg = `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}`
    fake.addRoleAssignment({
      scope: vault.id,
      roleDefinitionGuid: SECRETS_USER,
      principalId,
      name: 'c1a55e5e-0000-4000-8000-000000000001'
    })
    fake.addRoleAssignment({
      scope: rg,
      roleDefinitionGuid: SECRETS_OFFICER,
      principalId,
      name: 'c1a55e5e-0000-4000-8000-000000000002'
    })

    fake.clearLog()
    const revoked = await runAction(fake, inputs('person-app', 'kv-person', { mode: 'revoke' }))
    expect(revoked.exitCode).toBe(0)
    expect(revoked.outputs.changed).toBe('true')
    expect(roleWrites()).toEqual(['DELETE'])
    expect(warnings(revoked)).toEqual([
      `person-app still holds secrets: get, list on vault kv-person through role 'Key Vault Secrets User' at scope ${vault.id} (assignment c1a55e5e-0000-4000-8000-000000000001): revoke deletes only role assignments this action created. Fix: if this access should go too, delete that assignment (az role assignment delete --ids ${vault.id}/providers/Microsoft.Authorization/roleAssignments/c1a55e5e-0000-4000-8000-000000000001).`,
      `person-app still holds secrets: get, list on vault kv-person through role 'Key Vault Secrets Officer' at scope ${rg} (assignment c1a55e5e-0000-4000-8000-000000000002): revoke deletes only role assignments this action created. Fix: if this access should go too, delete that assignment (az role assignment delete --ids ${rg}/providers/Microsoft.Authorization/roleAssignments/c1a55e5e-0000-4000-8000-000000000002).`
    ])
    expect(revoked.summary).toContain('Key Vault Secrets User; still held through')
  })

  it('access policies: names a compound (application + principal) entry the action does not manage, and never says "nothing held"', async () => {
    const site = fake.addSite({ resourceGroup: RG, name: 'compound-app', systemAssigned: true })
    const principalId = site.identity!.principalId!
    const application = '77777777-7777-4777-8777-777777777777'
    fake.addVault({
      resourceGroup: RG,
      name: 'kv-compound',
      accessPolicies: [
        {
          tenantId: fake.tenantId,
          objectId: principalId,
          applicationId: application,
          permissions: { secrets: ['get'] }
        }
      ]
    })
    const revoked = await runAction(fake, inputs('compound-app', 'kv-compound', { mode: 'revoke' }))
    expect(revoked.exitCode).toBe(0)
    expect(revoked.outputs.changed).toBe('false')
    expect(warnings(revoked)).toEqual([
      `compound-app still holds secrets: get on vault kv-compound through the compound access-policy entry of application ${application} with this principal: the action manages only the principal’s own entries. Fix: if this access should go too, remove that entry (portal: the vault → Access policies).`
    ])
    expect(revoked.summary).not.toContain('nothing held')
    expect(revoked.summary).toContain('nothing revoked; still held through the compound access-policy entry')
  })
})

describe('a conditioned role assignment is never taken for a grant', () => {
  it('apply fails before any write, naming the conditioned assignment at the vault and what to do; verify says the same', async () => {
    const site = fake.addSite({ resourceGroup: RG, name: 'abac-app', systemAssigned: true })
    const principalId = site.identity!.principalId!
    const vault = fake.addVault({ resourceGroup: RG, name: 'kv-abac', enableRbacAuthorization: true })
    const name = 'abac0000-0000-4000-8000-000000000001'
    fake.addRoleAssignment({
      scope: vault.id,
      roleDefinitionGuid: SECRETS_USER,
      principalId,
      name,
      condition: CONDITION
    })

    const apply = await runAction(fake, inputs('abac-app', 'kv-abac'))
    expect(apply.exitCode).toBe(1)
    expect(roleWrites()).toEqual([])
    expect(apply.error).toBe(
      `'abac-app' (principal ${principalId}) cannot be granted 'Key Vault Secrets User' on Key Vault 'kv-abac': it already holds that role there through role assignment ${name}, which carries an ABAC condition. ` +
        'Azure keeps one assignment of a role per principal and scope whatever its condition (another answers 409 RoleAssignmentExists), and a condition may narrow the role, so the action can neither count it as granted nor add an unconditioned one.\n' +
        `Fix: if the app needs the whole role, remove the condition from that assignment or delete it (az role assignment delete --ids ${vault.id}/providers/Microsoft.Authorization/roleAssignments/${name}) and re-run; if the condition is intended, leave this vault out of 'vault-name' and grant its access outside this action.`
    )
    expect(rolesOf(principalId)).toEqual([SECRETS_USER])

    const verify = await runAction(fake, inputs('abac-app', 'kv-abac', { mode: 'verify' }))
    expect(verify.exitCode).toBe(1)
    expect(verify.error).toContain(`through role assignment ${name}, which carries an ABAC condition`)
  })

  it('a conditioned assignment added by another writer between the read and the write fails the step by name; a plain one is accepted', async () => {
    const site = fake.addSite({ resourceGroup: RG, name: 'race-app', systemAssigned: true })
    const principalId = site.identity!.principalId!
    const vault = fake.addVault({ resourceGroup: RG, name: 'kv-race', enableRbacAuthorization: true })
    const name = 'abac0000-0000-4000-8000-000000000002'
    fake.addFault({
      method: 'PUT',
      path: '/roleAssignments/',
      times: 1,
      before: () =>
        fake.addRoleAssignment({
          scope: vault.id,
          roleDefinitionGuid: SECRETS_USER,
          principalId,
          name,
          condition: CONDITION
        })
    })
    const raced = await runAction(fake, inputs('race-app', 'kv-race'))
    expect(raced.exitCode).toBe(1)
    expect(raced.outputs.changed).toBe('false')
    expect(raced.error).toContain(
      `'race-app' (principal ${principalId}) cannot be granted 'Key Vault Secrets User' on Key Vault 'kv-race': it already holds that role there through role assignment ${name}, which carries an ABAC condition.`
    )
    expect(rolesOf(principalId)).toEqual([SECRETS_USER])

    // A plain assignment of the role made meanwhile is the access asked for: success, but not this run's write.
    fake.addSite({ resourceGroup: RG, name: 'race-plain', systemAssigned: true })
    const plainPrincipal = fake.getSite(RG, 'race-plain')!.identity!.principalId!
    fake.addVault({ resourceGroup: RG, name: 'kv-race-plain', enableRbacAuthorization: true })
    const plainVault = fake.getVault(RG, 'kv-race-plain')!
    fake.addFault({
      method: 'PUT',
      path: '/roleAssignments/',
      times: 1,
      before: () =>
        fake.addRoleAssignment({ scope: plainVault.id, roleDefinitionGuid: SECRETS_USER, principalId: plainPrincipal })
    })
    const plain = await runAction(fake, inputs('race-plain', 'kv-race-plain'))
    expect(plain.exitCode).toBe(0)
    expect(plain.outputs.changed).toBe('false')
    expect(plain.stdout).toContain(
      "race-plain already holds 'Key Vault Secrets User' on vault kv-race-plain through role assignment"
    )
    expect(rolesOf(plainPrincipal)).toEqual([SECRETS_USER])
  })
})
