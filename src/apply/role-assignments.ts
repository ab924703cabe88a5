// Azure RBAC vaults: one role assignment created or deleted per change, under the action's
// deterministic name. The pipeline waits out PrincipalNotFound while a new identity replicates.
// ARM keeps one assignment per scope, role and principal: a 409 RoleAssignmentExists means one is
// there under another name, which is the access asked for only when it carries no condition.
import { done, grantee } from '../model/change-text.js'
import { during } from '../azure/operation.js'
import { info } from '../log/log.js'
import { assignmentName, ConditionedAssignmentError, isSameScope, roleGuidOf } from '../model/roles.js'
import { type ApplyContext, type Of, onVault, principalFor } from './context.js'

export async function assignRole(change: Of<'assign-role'>, ctx: ApplyContext): Promise<void> {
  const vault = ctx.vault(change.vaultId)
  const principalId = principalFor(ctx, change.app, change.principalId, vault)
  const roles = await ctx.azure.roles()
  const name = assignmentName(vault.id, change.role.guid, principalId)
  const outcome = await during(onVault(ctx, vault, `assign '${change.role.name}' on`), () =>
    roles.create(vault.id, name, change.roleDefinitionId, principalId)
  )
  if (outcome === 'created') {
    ctx.record(done.roleGranted(grantee(change), change.vault, change.role.name))
    return
  }
  // Another writer may have assigned the role since the read, or a conditioned assignment of it
  // may stand there: look at what ARM holds before calling it granted.
  const listed = await during(onVault(ctx, vault, 'list role assignments of'), () => roles.listAtOrAbove(vault.id))
  const same = listed.filter(
    (a) =>
      isSameScope(a.scope, vault.id) &&
      roleGuidOf(a.roleDefinitionId) === change.role.guid &&
      a.principalId.toLowerCase() === principalId.toLowerCase()
  )
  const conditioned = same.find((a) => a.condition)
  if (conditioned) throw new ConditionedAssignmentError(change.app, principalId, change.role, change.vault, conditioned)
  if (same.length === 0) {
    throw new Error(
      `Could not assign '${change.role.name}' on Key Vault '${change.vault}' to ${grantee(change)} (principal ${principalId}): Azure answered 409 RoleAssignmentExists, but lists no assignment of that role for the principal at the vault.\n` +
        `Fix: re-run the job in a minute (the list can lag a write made elsewhere); if it fails again, check the vault's Access control (IAM) for an assignment of '${change.role.name}' to ${principalId}.`
    )
  }
  info(
    `${grantee(change)} already holds '${change.role.name}' on vault ${change.vault} through role assignment ${same[0].name}, made by another writer since the read: nothing to add.`
  )
}

export async function deleteRoleAssignment(change: Of<'delete-role-assignment'>, ctx: ApplyContext): Promise<void> {
  const vault = ctx.vault(change.vaultId)
  const roles = await ctx.azure.roles()
  const deleted = await during(onVault(ctx, vault, `delete the '${change.role.name}' assignment on`), () =>
    roles.delete(vault.id, change.assignmentName)
  )
  if (deleted) ctx.record(done.roleRevoked(grantee(change), change.vault, change.role.name))
}
