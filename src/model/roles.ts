// Access-policy permissions → the least-privileged built-in Key Vault data roles, for vaults that
// use Azure RBAC, and the deterministic names that make role assignment creation idempotent.
import { createHash } from 'node:crypto'
import type { RoleAssignment } from './state.js'
import { PlanError } from './plan-error.js'
import {
  canonicalPermission,
  emptyPermissions,
  everyPermission,
  PERMISSION_INPUTS,
  type PermissionKind,
  type Permissions
} from './permissions.js'

export interface KeyVaultRole {
  name: string
  guid: string
}

export const ROLES = {
  secretsUser: { name: 'Key Vault Secrets User', guid: '4633458b-17de-408a-b874-0445c86b69e6' },
  secretsOfficer: { name: 'Key Vault Secrets Officer', guid: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' },
  cryptoUser: { name: 'Key Vault Crypto User', guid: '12338af0-0e69-4776-bea7-57ae8d297424' },
  cryptoOfficer: { name: 'Key Vault Crypto Officer', guid: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603' },
  certificateUser: { name: 'Key Vault Certificate User', guid: 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba' },
  certificatesOfficer: { name: 'Key Vault Certificates Officer', guid: 'a4417e6f-fecd-4de8-b567-7b0420556985' },
  reader: { name: 'Key Vault Reader', guid: '21090545-7ca7-4776-b22c-e363652d74d2' },
  administrator: { name: 'Key Vault Administrator', guid: '00482a5a-887f-4fb3-b363-3b7fe8e74483' }
} as const satisfies Record<string, KeyVaultRole>

/** What the reader role of each kind allows; anything else needs the kind's officer role. */
const READ_ONLY: Record<
  Exclude<PermissionKind, 'storage'>,
  { names: string[]; user: KeyVaultRole; officer: KeyVaultRole }
> = {
  secrets: { names: ['get', 'list'], user: ROLES.secretsUser, officer: ROLES.secretsOfficer },
  keys: {
    names: ['get', 'list', 'encrypt', 'decrypt', 'wrapkey', 'unwrapkey', 'sign', 'verify'],
    user: ROLES.cryptoUser,
    officer: ROLES.cryptoOfficer
  },
  certificates: { names: ['get', 'list'], user: ROLES.certificateUser, officer: ROLES.certificatesOfficer }
}

const DATA_KINDS = ['secrets', 'keys', 'certificates'] as const

/**
 * What each built-in Key Vault data role grants, in access-policy names: a user role its kind's
 * read-only names, an officer role every name of its kind, Administrator every name of the three
 * kinds (the mapping of the README's "Permissions on RBAC vaults"); Reader reads metadata only,
 * which is `list` (the role's description: "Cannot read sensitive values"). Source for each role's
 * dataActions: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security
 * (the fake has no role definitions; it checks the same guids). Revoke deletes a role
 * only when all of it lies within what is revoked.
 */
function grantsOf(role: KeyVaultRole): Permissions {
  const grants = emptyPermissions()
  if (role.guid === ROLES.administrator.guid) for (const kind of DATA_KINDS) grants[kind] = everyPermission(kind)
  if (role.guid === ROLES.reader.guid) for (const kind of DATA_KINDS) grants[kind] = ['list']
  for (const kind of DATA_KINDS) {
    const { names, user, officer } = READ_ONLY[kind]
    if (role.guid === user.guid) grants[kind] = names.map((n) => canonicalPermission(kind, n) ?? n)
    if (role.guid === officer.guid) grants[kind] = everyPermission(kind)
  }
  return grants
}

/** A built-in Key Vault data role by its GUID, with what it grants; undefined for any other role. */
export function keyVaultRole(roleGuid: string): { role: KeyVaultRole; grants: Permissions } | undefined {
  const role = Object.values(ROLES).find((r) => r.guid === roleGuid.toLowerCase())
  return role && { role, grants: grantsOf(role) }
}

/** Roles that grant at least what the key role grants (Administrator grants every data action). */
const SATISFIED_BY: Record<string, string[]> = {
  [ROLES.secretsUser.guid]: [ROLES.secretsOfficer.guid, ROLES.administrator.guid],
  [ROLES.secretsOfficer.guid]: [ROLES.administrator.guid],
  [ROLES.cryptoUser.guid]: [ROLES.cryptoOfficer.guid, ROLES.administrator.guid],
  [ROLES.cryptoOfficer.guid]: [ROLES.administrator.guid],
  [ROLES.certificateUser.guid]: [ROLES.certificatesOfficer.guid, ROLES.administrator.guid],
  [ROLES.certificatesOfficer.guid]: [ROLES.administrator.guid]
}

export class StorageOnRbacVaultError extends Error {
  constructor(vault: string) {
    super(
      `'${PERMISSION_INPUTS.storage}' cannot be granted on Key Vault '${vault}': it uses Azure RBAC, ` +
        `and managed storage account permissions exist only in access policies.\n` +
        `Fix: remove '${PERMISSION_INPUTS.storage}', or use a vault with the access-policy permission model.`
    )
    this.name = 'StorageOnRbacVaultError'
  }
}

/** The smallest set of built-in roles that grants every requested permission. */
export function rolesFor(permissions: Permissions, vaultName: string): KeyVaultRole[] {
  if (permissions.storage.length > 0) throw new StorageOnRbacVaultError(vaultName)
  const roles: KeyVaultRole[] = []
  for (const kind of ['secrets', 'keys', 'certificates'] as const) {
    const wanted = permissions[kind].map((p) => p.toLowerCase())
    if (wanted.length === 0) continue
    const { names, user, officer } = READ_ONLY[kind]
    roles.push(wanted.every((p) => names.includes(p)) ? user : officer)
  }
  return roles
}

/** Does holding `heldRoleGuids` already give what `role` gives? */
export function isSatisfied(role: KeyVaultRole, heldRoleGuids: readonly string[]): boolean {
  const held = new Set(heldRoleGuids.map((g) => g.toLowerCase()))
  return held.has(role.guid) || (SATISFIED_BY[role.guid] ?? []).some((g) => held.has(g))
}

/** Is `scope` the resource itself (not an ancestor)? ARM answers either case and may add a trailing slash. */
export function isSameScope(scope: string, resourceId: string): boolean {
  return scope.toLowerCase().replace(/\/+$/, '') === resourceId.toLowerCase().replace(/\/+$/, '')
}

/** The principal's assignment of the role at exactly `scope` that carries an ABAC condition, if any. */
export function conditionedAssignment(
  assignments: readonly RoleAssignment[],
  scope: string,
  role: KeyVaultRole,
  principalId: string
): RoleAssignment | undefined {
  return assignments.find(
    (a) =>
      a.condition &&
      isSameScope(a.scope, scope) &&
      roleGuidOf(a.roleDefinitionId) === role.guid &&
      a.principalId.toLowerCase() === principalId.toLowerCase()
  )
}

/**
 * ARM keeps one assignment per scope, role and principal, whatever its condition: another one
 * answers 409 RoleAssignmentExists (hashicorp/terraform-provider-azurerm#24045: a second,
 * differently conditioned assignment is refused so; azure-cli role/custom.py
 * create_role_assignment answers that 409 with the assignment listed for scope, role and
 * assignee). A conditioned assignment of the role at the vault therefore blocks the unconditioned
 * one apply would add, and a condition may narrow the role, so it does not count as granting it.
 */
export class ConditionedAssignmentError extends PlanError {
  constructor(app: string, principalId: string, role: KeyVaultRole, vaultName: string, assignment: RoleAssignment) {
    super(
      `'${app}' (principal ${principalId}) cannot be granted '${role.name}' on Key Vault '${vaultName}': it already holds that role there through role assignment ${assignment.name}, which carries an ABAC condition. ` +
        `Azure keeps one assignment of a role per principal and scope whatever its condition (another answers 409 RoleAssignmentExists), and a condition may narrow the role, so the action can neither count it as granted nor add an unconditioned one.\n` +
        `Fix: if the app needs the whole role, remove the condition from that assignment or delete it (az role assignment delete --ids ${assignment.id}) and re-run; if the condition is intended, leave this vault out of 'vault-name' and grant its access outside this action.`
    )
    this.name = 'ConditionedAssignmentError'
  }
}

export function roleDefinitionId(subscriptionId: string, role: KeyVaultRole): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role.guid}`
}

/** The last path segment of a role definition id is its GUID. */
export function roleGuidOf(roleDefinitionId: string): string {
  return (roleDefinitionId.split('/').pop() ?? '').toLowerCase()
}

const NAMESPACE = '5f0d6a0e-4c1b-4b8e-9a51-6f1f2d0b7c3a'

/**
 * A name-based (version 5 style) UUID from scope, role and principal: a retry or a concurrent run
 * PUTs the same assignment name, so creation is idempotent and revoke finds exactly ours.
 */
export function assignmentName(scope: string, roleGuid: string, principalId: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(NAMESPACE.replaceAll('-', ''), 'hex'))
    .update(`${scope.toLowerCase()}|${roleGuid.toLowerCase()}|${principalId.toLowerCase()}`)
    .digest()
  const bytes = hash.subarray(0, 16)
  bytes[6] = (bytes[6] & 0x0f) | 0x50
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
