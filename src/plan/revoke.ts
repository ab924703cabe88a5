// The revoke plan: take back what this action grants and was asked for, and nothing else, and
// say what access to it stays. Access policies lose only the requested permissions the principal
// holds in its own entries (`accessPolicies/remove`); on RBAC vaults an assignment is deleted only
// when this action made it (its deterministic name) and its role grants nothing beyond what is
// revoked — the two models take the same. What stays (a broader role, a person's or an inherited
// or conditioned assignment, a held `all`, a compound entry) is listed per app and vault, for the
// warnings and the summary. With `disable-identity` the system identity is turned off last,
// keeping user-assigned identities. Like the apply plan, an already-revoked state plans nothing.
import type { AppState } from '../model/state.js'
import type { RoleAssignment } from '../model/state.js'
import type { VaultState } from '../model/state.js'
import type { AccessPolicy } from '../model/state.js'
import { withSystemAssigned } from '../model/identity-type.js'
import { grantees, planDetach, sharedBy } from './identity.js'
import {
  describePermissions,
  describeWithAll,
  emptyPermissions,
  isEmpty,
  PERMISSION_INPUTS,
  PERMISSION_KINDS,
  type Permissions,
  splitBy
} from '../model/permissions.js'
import { heldPermissions, isAtOrAbove, resolveModel, type Wanted } from './plan.js'
import { type Plan } from '../model/changes.js'
import { type Change } from '../model/changes.js'
import { type StillHeld } from '../model/changes.js'
import { type Grant } from '../model/changes.js'
import { type PolicyEntry } from '../model/changes.js'
import { assignmentName, isSameScope, keyVaultRole, roleGuidOf, rolesFor } from '../model/roles.js'
import type { CurrentState } from '../model/state.js'

export function makeRevokePlan(wanted: Wanted, state: CurrentState, disableIdentity: boolean): Plan {
  const shared = sharedBy(state)
  const apps = grantees(state)
  const changes: Change[] = []
  const grants: Grant[] = []
  // A system identity turned off by this run holds nothing afterwards: nothing stays to warn about.
  const goes = (app: AppState): boolean => disableIdentity && !state.userIdentity && app.systemAssigned
  for (const vault of state.vaults) {
    const model = resolveModel(wanted.accessModel, vault)
    const entries: PolicyEntry[] = []
    const assignments = state.assignments.get(vault.id.toLowerCase()) ?? []
    for (const app of apps) {
      const principalId = app.principalId
      const stillHeld: StillHeld[] = []
      if (model === 'access-policy') {
        const remove = principalId
          ? heldOfWanted(heldPermissions(vault.accessPolicies, principalId), wanted.permissions, stillHeld)
          : emptyPermissions()
        if (principalId) stillHeld.push(...compoundEntries(vault.accessPolicies, principalId, wanted.permissions))
        grants.push({
          app: app.target.key,
          vault: vault.name,
          model,
          requested: describePermissions(wanted.permissions),
          delta: isEmpty(remove) ? '' : describePermissions(remove),
          ...(stillHeld.length > 0 && !goes(app) ? { stillHeld } : {})
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
      const requested = rolesFor(wanted.permissions, vault.name) // also refuses storage permissions
      const deletable: Extract<Change, { kind: 'delete-role-assignment' }>[] = []
      for (const a of principalId ? heldAssignments(assignments, vault, principalId) : []) {
        const known = keyVaultRole(roleGuidOf(a.roleDefinitionId))
        if (!known) continue
        const { covered, rest } = splitBy(known.grants, wanted.permissions)
        if (isEmpty(covered)) continue
        const name = assignmentName(vault.id, known.role.guid, principalId!)
        const ours = isSameScope(a.scope, vault.id) && a.name.toLowerCase() === name
        if (ours && isEmpty(rest)) {
          deletable.push({
            kind: 'delete-role-assignment',
            vault: vault.name,
            vaultId: vault.id,
            app: app.target.key,
            principalId: principalId!,
            role: known.role,
            assignmentName: name,
            ...(shared ? { sharedBy: shared } : {})
          })
        } else stillHeld.push(keptAssignment(a, known.role.name, covered, ours ? known.grants : undefined))
      }
      grants.push({
        app: app.target.key,
        vault: vault.name,
        model,
        requested: requested.map((r) => r.name).join(', '),
        delta: deletable.map((d) => d.role.name).join(', '),
        ...(stillHeld.length > 0 && !goes(app) ? { stillHeld } : {})
      })
      for (const change of deletable) {
        const planned = changes.some(
          (c) => c.kind === 'delete-role-assignment' && c.assignmentName === change.assignmentName
        )
        if (!planned) changes.push(change)
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
        keepsUserAssigned: app.userAssignedIds.length,
        ...(app.target.kind ? { noRestart: true as const } : {})
      })
    }
  }
  return { changes, grants }
}

/** The principal's assignments that reach the vault: at it, or inherited from a scope above it. */
function heldAssignments(assignments: readonly RoleAssignment[], vault: VaultState, principalId: string) {
  return assignments.filter(
    (a) => a.principalId.toLowerCase() === principalId.toLowerCase() && isAtOrAbove(a.scope, vault.id)
  )
}

/**
 * An assignment revoke leaves although its role grants some of what is revoked: this action's own
 * one whose role grants more (`ownGrants`), or one a person or another tool made.
 */
function keptAssignment(
  a: RoleAssignment,
  roleName: string,
  covered: Permissions,
  ownGrants: Permissions | undefined
): StillHeld {
  const through = `role '${roleName}' at scope ${a.scope || '/'} (assignment ${a.name}${a.condition ? ', with an ABAC condition' : ''})`
  const reason = ownGrants
    ? `this action assigned it, but the role grants more than is being revoked (${describeWithAll(ownGrants)}), and revoke takes a role only when all of it is revoked. ` +
      `Fix: to remove it, revoke everything it grants (${describeWithAll(ownGrants)}), then apply what the app should keep.`
    : `revoke deletes only role assignments this action created. ` +
      `Fix: if this access should go too, delete that assignment (az role assignment delete --ids ${a.id}).`
  return { grants: describePermissions(covered), through, reason }
}

/**
 * Compound (application + principal) entries for the principal that grant some of what is
 * revoked: the action does not manage them, so they are only reported.
 */
function compoundEntries(policies: AccessPolicy[], principalId: string, wanted: Permissions): StillHeld[] {
  return policies
    .filter((p) => p.applicationId && p.objectId.toLowerCase() === principalId.toLowerCase())
    .flatMap((p) => {
      const held = emptyPermissions()
      for (const kind of PERMISSION_KINDS) held[kind] = p.permissions[kind] ?? []
      const covered = coveredBy(held, wanted)
      if (isEmpty(covered)) return []
      return [
        {
          grants: describePermissions(covered),
          through: `the compound access-policy entry of application ${p.applicationId} with this principal`,
          reason:
            'the action manages only the principal’s own entries. ' +
            'Fix: if this access should go too, remove that entry (portal: the vault → Access policies).'
        }
      ]
    })
}

/** Of what an entry holds, what the revoke asks for; a held `all` covers every asked name. */
function coveredBy(held: Permissions, wanted: Permissions): Permissions {
  const { covered } = splitBy(held, wanted)
  for (const kind of PERMISSION_KINDS) {
    if (held[kind].some((p) => p.toLowerCase() === 'all')) covered[kind] = wanted[kind]
  }
  return covered
}

/**
 * What to remove, kind by kind, spelled as the vault holds it: `accessPolicies/remove` matches
 * names case-sensitively and silently keeps a name spelled otherwise (`get` does not remove a
 * portal-made `Get`). Every held spelling of a requested name is taken; `all` requested takes
 * every name held of that kind. A held `all` cannot lose a part of itself: asking for less than
 * `all` then removes nothing of that kind and adds to `stillHeld`, as a broader role does on RBAC.
 */
export function heldOfWanted(
  held: Partial<Permissions> | undefined,
  wanted: Permissions,
  stillHeld: StillHeld[] = []
): Permissions {
  const result = emptyPermissions()
  for (const kind of PERMISSION_KINDS) {
    const heldNames = held?.[kind] ?? []
    const have = heldNames.map((p) => p.toLowerCase())
    const asked = wanted[kind].map((p) => p.toLowerCase())
    if (asked.includes('all')) {
      result[kind] = [...new Set(heldNames)]
    } else if (have.includes('all') && asked.length > 0) {
      stillHeld.push({
        grants: `${kind}: ${wanted[kind].join(', ')}`,
        through: `its own access-policy entry, which holds 'all' ${kind} permissions`,
        reason:
          `'all' is one name in the entry and cannot lose a part of itself. ` +
          `Fix: set '${PERMISSION_INPUTS[kind]}' to 'all' to remove them, then apply the ${kind} permissions it should keep.`
      })
    } else {
      result[kind] = [...new Set(heldNames.filter((p) => asked.includes(p.toLowerCase())))]
    }
  }
  return result
}
