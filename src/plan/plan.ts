// The plan: a pure function from what is there (read) and what is wanted (inputs) to the list
// of changes. Tests assert on it without a network; "nothing to do" is an empty list, which is
// why a re-run writes nothing.
import type { AppState } from '../model/state.js'
import type { RoleAssignment } from '../model/state.js'
import type { VaultState } from '../model/state.js'
import type { AccessPolicy } from '../model/state.js'
import { withSystemAssigned } from '../model/identity-type.js'
import { describePermissions, isEmpty, missingPermissions, type Permissions } from '../model/permissions.js'
import {
  conditionedAssignment,
  ConditionedAssignmentError,
  isSatisfied,
  roleDefinitionId,
  roleGuidOf,
  rolesFor
} from '../model/roles.js'
import { PlanError } from '../model/plan-error.js'
import { grantees, planAttach, sharedBy } from './identity.js'
import { planSettings } from './app-settings.js'
import { planContainerSecrets } from './container-secrets.js'
import type { CurrentState } from '../model/state.js'
import type { WantedSetting } from '../model/references.js'
import type { AccessModelInput } from '../inputs/inputs.js'
import type { AccessModel, Change, Grant, Plan, PolicyEntry } from '../model/changes.js'

export const MAX_ACCESS_POLICIES = 1024

export { PlanError } from '../model/plan-error.js'

export interface Wanted {
  permissions: Permissions
  accessModel: AccessModelInput
  /** Input `app-settings`: the Key Vault references to write. */
  appSettings?: readonly WantedSetting[]
  /** Container targets' Key Vault URLs name the vault with the cloud's DNS suffix. */
  cloud?: { keyVaultSuffix: string }
}

export function makePlan(wanted: Wanted, state: CurrentState): Plan {
  const changes: Change[] = [...planAttach(state)]
  const grants: Grant[] = []
  // With a user-assigned identity the system-assigned one is left as it is.
  for (const app of state.userIdentity ? [] : state.apps) {
    if (!app.systemAssigned) {
      changes.push({
        kind: 'enable-identity',
        app: app.target.key,
        from: app.identityType,
        to: withSystemAssigned(app.identityType, true),
        keepsUserAssigned: app.userAssignedIds.length,
        ...(app.target.kind ? { noRestart: true as const } : {})
      })
    }
  }
  const apps = grantees(state)
  const shared = sharedBy(state)
  for (const vault of state.vaults) {
    const model = resolveModel(wanted.accessModel, vault)
    if (model === 'access-policy') {
      const entries = planAccessPolicies(wanted.permissions, vault, apps, grants, shared)
      if (entries.length > 0) {
        changes.push({ kind: 'add-access-policy', vault: vault.name, vaultId: vault.id, entries })
      }
    } else {
      const assignments = state.assignments.get(vault.id.toLowerCase()) ?? []
      changes.push(...planRoles(wanted.permissions, vault, assignments, apps, grants, shared))
    }
  }
  changes.push(...planSettings(wanted.appSettings ?? [], state, changes))
  changes.push(
    ...planContainerSecrets(wanted.appSettings ?? [], state, wanted.cloud?.keyVaultSuffix ?? 'vault.azure.net')
  )
  return { changes, grants }
}

export function resolveModel(wanted: AccessModelInput, vault: VaultState): AccessModel {
  const actual: AccessModel = vault.rbac ? 'rbac' : 'access-policy'
  if (wanted !== 'auto' && wanted !== actual) {
    throw new PlanError(
      `'access-model' is '${wanted}', but Key Vault '${vault.name}' uses ${actual === 'rbac' ? 'Azure RBAC (enableRbacAuthorization: true)' : 'access policies (enableRbacAuthorization: false)'}.\n` +
        `Fix: set 'access-model' to '${actual}' or 'auto', or switch the vault's permission model ` +
        `(az keyvault update --name ${vault.name} --enable-rbac-authorization ${actual === 'rbac' ? 'false' : 'true'}) if that is what you intended.`
    )
  }
  return actual
}

function planAccessPolicies(
  wanted: Permissions,
  vault: VaultState,
  apps: AppState[],
  grants: Grant[],
  shared: string[] | undefined
): PolicyEntry[] {
  const entries: PolicyEntry[] = []
  let newPrincipals = 0
  for (const app of apps) {
    checkIdentityTenant(app.target.key, app.tenantId, vault)
    const held = app.principalId ? heldPermissions(vault.accessPolicies, app.principalId) : undefined
    const missing = missingPermissions(held, wanted)
    grants.push({
      app: app.target.key,
      vault: vault.name,
      model: 'access-policy',
      requested: describePermissions(wanted),
      delta: isEmpty(missing) ? '' : describePermissions(missing)
    })
    if (isEmpty(missing)) continue
    // Apps sharing one user-assigned identity share one entry.
    if (app.principalId && entries.some((e) => e.principalId?.toLowerCase() === app.principalId!.toLowerCase()))
      continue
    if (!held) newPrincipals++
    entries.push({
      app: app.target.key,
      principalId: app.principalId,
      tenantId: vault.tenantId,
      permissions: missing,
      ...(shared ? { sharedBy: shared } : {})
    })
  }
  if (vault.accessPolicies.length + newPrincipals > MAX_ACCESS_POLICIES) {
    throw new PlanError(
      `Key Vault '${vault.name}' has ${vault.accessPolicies.length} access policies; adding ${newPrincipals} more would pass the limit of ${MAX_ACCESS_POLICIES}.\n` +
        `Fix: remove policies of principals that no longer exist, or move the vault to Azure RBAC ` +
        `(az keyvault update --name ${vault.name} --enable-rbac-authorization true), which has no such limit.`
    )
  }
  return entries
}

/** The permissions an object holds through entries of its own (not compound application+user entries). */
export function heldPermissions(policies: AccessPolicy[], objectId: string): Partial<Permissions> | undefined {
  const own = policies.filter((p) => p.objectId.toLowerCase() === objectId.toLowerCase() && !p.applicationId)
  if (own.length === 0) return undefined
  const merged: Permissions = { secrets: [], keys: [], certificates: [], storage: [] }
  for (const entry of own) {
    for (const kind of Object.keys(merged) as (keyof Permissions)[])
      merged[kind].push(...(entry.permissions[kind] ?? []))
  }
  return merged
}

function planRoles(
  wanted: Permissions,
  vault: VaultState,
  assignments: readonly RoleAssignment[],
  apps: AppState[],
  grants: Grant[],
  shared: string[] | undefined
): Change[] {
  const roles = rolesFor(wanted, vault.name)
  const changes: Change[] = []
  for (const app of apps) {
    checkIdentityTenant(app.target.key, app.tenantId, vault)
    const held = app.principalId
      ? assignments
          .filter(
            (a) =>
              a.principalId.toLowerCase() === app.principalId!.toLowerCase() &&
              isAtOrAbove(a.scope, vault.id) &&
              !a.condition // a conditioned assignment grants only part of the role
          )
          .map((a) => roleGuidOf(a.roleDefinitionId))
      : []
    const missing = roles.filter((role) => !isSatisfied(role, held))
    grants.push({
      app: app.target.key,
      vault: vault.name,
      model: 'rbac',
      requested: roles.map((r) => r.name).join(', '),
      delta: missing.map((r) => r.name).join(', ')
    })
    for (const role of missing) {
      // ARM would refuse the new assignment as a duplicate of a conditioned one (409): say so before any write.
      const conditioned = app.principalId && conditionedAssignment(assignments, vault.id, role, app.principalId)
      if (conditioned)
        throw new ConditionedAssignmentError(app.target.key, app.principalId!, role, vault.name, conditioned)
      // Apps sharing one user-assigned identity share its role assignments.
      const planned = changes.some(
        (c) =>
          c.kind === 'assign-role' &&
          c.role.guid === role.guid &&
          c.principalId !== undefined &&
          c.principalId === app.principalId
      )
      if (planned) continue
      changes.push({
        kind: 'assign-role',
        vault: vault.name,
        vaultId: vault.id,
        app: app.target.key,
        principalId: app.principalId,
        role,
        roleDefinitionId: roleDefinitionId(vault.subscriptionId, role),
        ...(shared ? { sharedBy: shared } : {})
      })
    }
  }
  return changes
}

/** An assignment at `scope` reaches `resourceId` when the scope is the resource or an ancestor. */
export function isAtOrAbove(scope: string, resourceId: string): boolean {
  const s = scope.toLowerCase().replace(/\/+$/, '')
  const r = resourceId.toLowerCase()
  return (
    s === '' || s === r || r.startsWith(`${s}/`) || s.startsWith('/providers/microsoft.management/managementgroups/')
  )
}

/** Also called by apply for an identity it has just turned on, whose tenant the plan could not know. */
export function checkIdentityTenant(appKey: string, tenantId: string | undefined, vault: VaultState): void {
  if (tenantId && vault.tenantId && tenantId.toLowerCase() !== vault.tenantId.toLowerCase()) {
    throw new PlanError(
      `The identity of '${appKey}' belongs to tenant ${tenantId}, but Key Vault '${vault.name}' belongs to tenant ${vault.tenantId}: a vault only accepts principals of its own tenant.\n` +
        `Fix: use a vault in tenant ${tenantId}, or move the vault's subscription to that tenant.`
    )
  }
}
