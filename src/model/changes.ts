// The change vocabulary: what a plan is made of (each change apply may make, and each app × vault
// grant), shared by plan, apply, report and diagnosis. Plain data, no logic beyond naming which
// apps a shared identity's change serves.
import type { IdentityType } from './identity-type.js'
import type { Permissions } from './permissions.js'
import type { KeyVaultRole } from './roles.js'

export type AccessModel = 'access-policy' | 'rbac'
export interface PolicyEntry {
  app: string
  /** Undefined until the identity this run turns on exists. */
  principalId?: string
  tenantId: string
  permissions: Permissions
  /** A user-assigned identity's entry serves every app that uses it: those apps. */
  sharedBy?: string[]
}
export interface IdentityChange {
  app: string
  from: string
  to: IdentityType
  keepsUserAssigned: number
  /**
   * A container app or job: an identity change makes no new revision and no restart
   * (CommonDefinitions.json: `configuration` is not versioned), and there is no keyVaultReferenceIdentity.
   */
  noRestart?: true
}
export interface PolicyChange {
  vault: string
  vaultId: string
  entries: PolicyEntry[]
}
/** One app × vault pair: what was asked and what is missing (empty when already granted). */

export interface Grant {
  app: string
  vault: string
  model: AccessModel
  requested: string
  /** What this run changes for the pair: missing access (apply, plan, verify) or held access to remove (revoke); empty when nothing. */
  delta: string
  /** Revoke: what of the revoked access the principal keeps after the run, and through what. */
  stillHeld?: StillHeld[]
}
/** Access revoke leaves in place: a role assignment or access-policy entry it does not take. */

export interface StillHeld {
  /** The revoked permissions it still grants ("secrets: get, list"). */
  grants: string
  /** The role assignment or entry, with its scope. */
  through: string
  /** Why revoke left it, and the fix. */
  reason: string
}
export interface AttachChange {
  kind: 'attach-identity'
  app: string
  identityId: string
  identityName: string
  /** Not attached yet. */
  attach: boolean
  /** keyVaultReferenceIdentity is something else (e.g. 'SystemAssigned'). */
  setReference: boolean
  referenceFrom: string
  /**
   * A container app or job: an identity change makes no new revision and no restart
   * (CommonDefinitions.json: `configuration` is not versioned), and there is no keyVaultReferenceIdentity.
   */
  noRestart?: true
}
export interface DetachChange {
  kind: 'detach-identity'
  app: string
  identityId: string
  identityName: string
  detach: boolean
  /** keyVaultReferenceIdentity points at the identity: back to 'SystemAssigned' first (detaching does not reset it). */
  resetReference: boolean
  /**
   * A container app or job: an identity change makes no new revision and no restart
   * (CommonDefinitions.json: `configuration` is not versioned), and there is no keyVaultReferenceIdentity.
   */
  noRestart?: true
}
/** The apps a grant serves: every app sharing its user-assigned identity, else its own app. */

export function appsServed(grant: { app: string; sharedBy?: string[] }): string[] {
  return grant.sharedBy ?? [grant.app]
}
/** Container targets: Key Vault secrets and the env variables that read them (container-secrets.ts). */
export interface ContainerSecretsChange {
  kind: 'set-container-secrets'
  app: string
  /** Container Apps secrets to set to their Key Vault URL and identity. */
  secrets: string[]
  /** Environment variables to point at those secrets in every container (a template change: a new revision). */
  env: string[]
}

export interface SettingsChange {
  kind: 'set-app-settings'
  app: string
  /** Settings whose value is to be written (new, another value, or another spelling of the name). */
  names: string[]
  /** References already right whose resolution failed: App Service is asked to resolve them anew (refresh). */
  refresh: { setting: string; status: string }[]
}
export type Change =
  | ({ kind: 'enable-identity' } & IdentityChange)
  | ({ kind: 'disable-identity' } & IdentityChange)
  | ({ kind: 'add-access-policy' } & PolicyChange)
  | ({ kind: 'remove-access-policy' } & PolicyChange)
  | {
      kind: 'delete-role-assignment'
      vault: string
      vaultId: string
      app: string
      principalId: string
      role: KeyVaultRole
      assignmentName: string
      sharedBy?: string[]
    }
  | {
      kind: 'assign-role'
      vault: string
      vaultId: string
      app: string
      principalId?: string
      role: KeyVaultRole
      roleDefinitionId: string
      /** A user-assigned identity's assignment serves every app that uses it: those apps. */
      sharedBy?: string[]
    }
  | SettingsChange
  | ContainerSecretsChange
  | AttachChange
  | DetachChange
export interface Plan {
  changes: Change[]
  grants: Grant[]
}
