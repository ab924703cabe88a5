// What the action knows of Azure after its read: apps (or slots), vaults, role assignments, the
// user-assigned identity and the secrets `app-settings` names. Plain data shared by every stage
// above the clients (read builds it, plan compares it, apply and report use it), so it lives here
// and not in the files that wire or call the clients.
import type { ContainerConfig } from './container-secrets.js'
import type { AppConfigurationReferences } from './app-configuration-references.js'
import type { Permissions } from './permissions.js'
import type { ReferenceState } from './references.js'
import type { AppTarget, VaultTarget } from './targets.js'

export interface AppState {
  target: AppTarget
  id: string
  kind: string
  identityType: string
  systemAssigned: boolean
  /** Resource ids of the user-assigned identities, exactly as ARM returned them. */
  userAssignedIds: string[]
  principalId?: string
  tenantId?: string
  /** The identity App Service resolves Key Vault references with: 'SystemAssigned' or a user-assigned identity's id. */
  keyVaultReferenceIdentity?: string
  /**
   * A Functions app hosted on Container Apps the older way (a Microsoft.Web site on a managed
   * environment): it does not support Key Vault references in app settings.
   */
  managedEnvironmentId?: string
  /** When it was read (ms since the epoch): a write built from an old read reads it again first. */
  readAt?: number
}
export interface AccessPolicy {
  tenantId: string
  objectId: string
  applicationId?: string
  permissions: Partial<Permissions>
}
export interface VaultState {
  target: VaultTarget
  id: string
  name: string
  resourceGroup: string
  subscriptionId: string
  tenantId: string
  rbac: boolean
  accessPolicies: AccessPolicy[]
}
export interface RoleAssignment {
  id: string
  name: string
  scope: string
  roleDefinitionId: string
  principalId: string
  principalType?: string
  /** An ABAC condition narrows the role: such an assignment does not count as holding it. */
  condition?: string
}
export interface UserIdentity {
  /** The resource id as the action was given it (ARM may return it with other casing). */
  id: string
  name: string
  principalId: string
  clientId: string
  tenantId: string
}
/** A secret `app-settings` names, as the vault's control plane knows it. */

export interface SecretCheck {
  vault: string
  secret: string
  exists: boolean
  enabled: boolean
  currentVersion?: string
}
export interface CurrentState {
  apps: AppState[]
  vaults: VaultState[]
  /** Role assignments at or above each RBAC vault's scope, by vault id (lower case). */
  assignments: Map<string, RoleAssignment[]>
  /** App Service's Key Vault references of each app, by app key; only when the run concerns them. */
  references: Map<string, ReferenceState[]>
  /** The secrets `app-settings` names (apply and plan). */
  secrets: SecretCheck[]
  /** With a user-assigned `identity`: that identity, whose principal is granted. */
  userIdentity?: UserIdentity
  /** Container targets' secrets (no values) and templates, by app key, when `app-settings` concerns them. */
  containerConfigs?: Map<string, ContainerConfig>
  /** Settings and connection strings that are App Configuration references, when the run may change their identity. */
  appConfigReferences?: AppConfigurationReferences
}
