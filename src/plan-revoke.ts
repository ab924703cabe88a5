// The revoke plan: take back exactly what this action grants, and nothing else. Access policies
// lose only the requested permissions the principal holds (`accessPolicies/remove`); on RBAC
// vaults only the assignments under this action's deterministic names are deleted (the user or
// officer role of each requested kind), never one a person or another tool made. With `disable-identity` the system identity is turned off last,
// keeping user-assigned identities. Like the apply plan, an already-revoked state plans nothing.
import { withSystemAssigned } from './identity-type.js'
import { grantees, planDetach, sharedBy } from './plan-identity.js'
import {
  describePermissions,
  emptyPermissions,
  isEmpty,
  PERMISSION_INPUTS,
  PERMISSION_KINDS,
  type Permissions
} from './permissions.js'
import {
  type Change,
  type Grant,
  heldPermissions,
  PlanError,
  type PolicyEntry,
  resolveModel,
  type Plan,
  type Wanted
} from './plan.js'
import { assignmentName, revocableRoles, rolesFor } from './rbac.js'
import type { CurrentState } from './read.js'

export function makeRevokePlan(wanted: Wanted, state: CurrentState, disableIdentity: boolean): Plan {
  const shared = sharedBy(state)
  const apps = grantees(state)
  const changes: Change[] = []
  const grants: Grant[] = []
  for (const vault of state.vaults) {
    const model = resolveModel(wanted.accessModel, vault)
    const entries: PolicyEntry[] = []
    // Apply may have created the user or the officer role of a kind, depending on what was asked
    // then: look for ours of both.
    const roles = model === 'rbac' ? revocableRoles(wanted.permissions, vault.name) : []
    const assignments = state.assignments.get(vault.id.toLowerCase()) ?? []
    for (const app of apps) {
      const principalId = app.principalId
      if (model === 'access-policy') {
        const remove = principalId
          ? heldOfWanted(heldPermissions(vault.accessPolicies, principalId), wanted.permissions, {
              app: app.target.key,
              vault: vault.name
            })
          : emptyPermissions()
        grants.push({
          app: app.target.key,
          vault: vault.name,
          model,
          requested: describePermissions(wanted.permissions),
          delta: isEmpty(remove) ? '' : describePermissions(remove)
        })
        // Apps sharing one user-assigned identity share one entry.
        const planned = entries.some((e) => e.principalId?.toLowerCase() === principalId?.toLowerCase())
        if (principalId && !isEmpty(remove) && !planned)
          entries.push({
            app: app.target.key,
            principalId,
            tenantId: vault.tenantId,
            permissions: remove,
            ...(shared ? { sharedBy: shared } : {})
          })
        continue
      }
      const ours = principalId
        ? roles.flatMap((role) => {
            const name = assignmentName(vault.id, role.guid, principalId)
            return assignments.some((a) => a.name.toLowerCase() === name) ? [{ role, name }] : []
          })
        : []
      grants.push({
        app: app.target.key,
        vault: vault.name,
        model,
        requested: rolesFor(wanted.permissions, vault.name)
          .map((r) => r.name)
          .join(', '),
        delta: ours.map((o) => o.role.name).join(', ')
      })
      for (const { role, name } of ours) {
        if (changes.some((c) => c.kind === 'delete-role-assignment' && c.assignmentName === name)) continue
        changes.push({
          kind: 'delete-role-assignment',
          vault: vault.name,
          vaultId: vault.id,
          app: app.target.key,
          principalId: principalId!,
          role,
          assignmentName: name,
          ...(shared ? { sharedBy: shared } : {})
        })
      }
    }
    if (entries.length > 0)
      changes.push({ kind: 'remove-access-policy', vault: vault.name, vaultId: vault.id, entries })
  }
  // With a user-assigned identity, disable-identity detaches it (the identity resource is kept).
  if (disableIdentity && state.userIdentity) changes.push(...planDetach(state))
  else if (disableIdentity) {
    for (const app of state.apps.filter((a) => a.systemAssigned)) {
      changes.push({
        kind: 'disable-identity',
        app: app.target.key,
        from: app.identityType,
        to: withSystemAssigned(app.identityType, false),
        keepsUserAssigned: app.userAssignedIds.length
      })
    }
  }
  return { changes, grants }
}

/**
 * What to remove, kind by kind, spelled as the vault holds it: `accessPolicies/remove` matches
 * names case-sensitively and silently keeps a name spelled otherwise (`get` does not remove a
 * portal-made `Get`). Every held spelling of a requested name is taken; `all` requested takes
 * every name held of that kind. A held `all` cannot lose a part of itself, so asking for less
 * than `all` then is an error rather than a silent "nothing held".
 */
export function heldOfWanted(
  held: Partial<Permissions> | undefined,
  wanted: Permissions,
  where: { app: string; vault: string }
): Permissions {
  const result = emptyPermissions()
  for (const kind of PERMISSION_KINDS) {
    const heldNames = held?.[kind] ?? []
    const have = heldNames.map((p) => p.toLowerCase())
    const asked = wanted[kind].map((p) => p.toLowerCase())
    if (asked.includes('all')) {
      result[kind] = [...new Set(heldNames)]
    } else if (have.includes('all') && asked.length > 0) {
      throw new PlanError(
        `'${where.app}' holds 'all' ${kind} permissions on Key Vault '${where.vault}'; revoking ${wanted[kind].join(', ')} cannot take away part of 'all'.\n` +
          `Fix: set '${PERMISSION_INPUTS[kind]}' to 'all' to remove them, then apply the ${kind} permissions it should keep.`
      )
    } else {
      result[kind] = [...new Set(heldNames.filter((p) => asked.includes(p.toLowerCase())))]
    }
  }
  return result
}
