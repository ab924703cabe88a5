// Azure RBAC vaults: one role assignment created or deleted per change, under the action's
// deterministic name. The pipeline waits out PrincipalNotFound while a new identity replicates.
import { during } from '../errors.js'
import { grantee } from './access-policies.js'
import { assignmentName } from '../rbac.js'
import { type ApplyContext, type Of, onVault, principalFor } from './context.js'

export async function assignRole(change: Of<'assign-role'>, ctx: ApplyContext): Promise<void> {
  const vault = ctx.vault(change.vaultId)
  const principalId = principalFor(ctx, change.app, change.principalId, vault)
  const roles = await ctx.azure.roles()
  const name = assignmentName(vault.id, change.role.guid, principalId)
  const outcome = await during(onVault(ctx, vault, `assign '${change.role.name}' on`), () =>
    roles.create(vault.id, name, change.roleDefinitionId, principalId)
  )
  if (outcome === 'created')
    ctx.record(`Granted ${grantee(change)} on vault ${change.vault}: role '${change.role.name}'.`)
}

export async function deleteRoleAssignment(change: Of<'delete-role-assignment'>, ctx: ApplyContext): Promise<void> {
  const vault = ctx.vault(change.vaultId)
  const roles = await ctx.azure.roles()
  const deleted = await during(onVault(ctx, vault, `delete the '${change.role.name}' assignment on`), () =>
    roles.delete(vault.id, change.assignmentName)
  )
  if (deleted) ctx.record(`Revoked ${grantee(change)} on vault ${change.vault}: role '${change.role.name}'.`)
}
