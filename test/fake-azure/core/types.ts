// Records as they travel on the wire: the fake stores ARM bodies, so GET returns what was stored.

export interface UserAssignedIdentityValue {
  principalId: string
  clientId: string
}

/** A Microsoft.ManagedIdentity/userAssignedIdentities resource (arm/user-assigned-identities.ts); `id` as created. */
export interface UserAssignedIdentityRecord {
  id: string
  name: string
  location: string
  type: string
  tags: Record<string, string>
  properties: { principalId: string; clientId: string; tenantId: string }
}

export interface ManagedIdentity {
  type: string // 'SystemAssigned' | 'UserAssigned' | 'SystemAssigned, UserAssigned'
  principalId?: string
  tenantId?: string
  userAssignedIdentities?: Record<string, UserAssignedIdentityValue>
}

export interface NameValue {
  name: string
  value: string
}

/** How SiteConfig.connectionStrings stores one (ConnStringInfo in the spec). */
export interface ConnStringInfo {
  name: string
  connectionString: string
  type: string
}

export interface SiteRecord {
  id: string
  name: string
  type: string
  kind: string
  location: string
  tags: Record<string, string>
  identity?: ManagedIdentity
  properties: {
    state?: string
    enabled?: boolean
    defaultHostName?: string
    hostNames?: string[]
    serverFarmId?: string
    /** The stored settings; GET answers them as null (sites.ts siteView). */
    siteConfig?: { appSettings?: NameValue[] | null; connectionStrings?: ConnStringInfo[] | null; [k: string]: unknown }
    keyVaultReferenceIdentity?: string
    [k: string]: unknown
  }
}

export interface AccessPolicyPermissions {
  keys?: string[]
  secrets?: string[]
  certificates?: string[]
  storage?: string[]
}

export interface AccessPolicyEntry {
  tenantId: string
  objectId: string
  applicationId?: string
  permissions: AccessPolicyPermissions
}

export interface VaultRecord {
  id: string
  name: string
  type: string
  location: string
  tags: Record<string, string>
  properties: {
    tenantId: string
    sku: { family: string; name: string }
    accessPolicies: AccessPolicyEntry[]
    enableRbacAuthorization?: boolean
    vaultUri: string
    provisioningState: string
    [k: string]: unknown
  }
}

/** Control-plane metadata of a Key Vault secret: its versions (oldest first), never a value. */
export interface SecretRecord {
  name: string
  versions: string[]
  enabled: boolean
  created: number // unix seconds, as the wire has them
  updated: number
}

/** Names sticky to a slot; null where never set, as the service answers (see arm/site-config.ts). */
export interface SlotConfigNames {
  appSettingNames: string[] | null
  connectionStringNames: string[] | null
  azureStorageConfigNames: string[] | null
}

export interface RoleAssignmentRecord {
  id: string
  name: string
  type: string
  properties: {
    roleDefinitionId: string
    principalId: string
    principalType: string
    scope: string
    /** An ABAC condition; ARM answers null when there is none. */
    condition?: string | null
    conditionVersion?: string | null
    createdOn: string
    updatedOn: string
  }
}

export type ServerName = 'arm' | 'entra' | 'oidc' | 'imds' | 'github'

export interface RequestLogEntry {
  server: ServerName
  method: string
  path: string
  query: Record<string, string>
  status: number // 0 when the connection was dropped
  start: number // performance.now() milliseconds
  end: number
  requestBody?: unknown
  responseBody?: unknown
}

export interface FaultRule {
  server?: ServerName
  method?: string
  path?: string | RegExp // string: case-insensitive substring of the path
  status?: number
  retryAfter?: string
  body?: unknown
  /** Destroy the connection before handling the request: nothing happened. */
  drop?: boolean
  /** Handle the request, then destroy the connection instead of answering: it happened, the answer is lost. */
  dropAnswer?: boolean
  delayMs?: number
  times?: number
  /** Let this many matching requests through before the fault applies. */
  skip?: number
  /** Answer in Microsoft.Web's top-level {Code, Message, …} shape (default: 400/409 on Microsoft.Web paths). */
  webShape?: boolean
  /**
   * A second writer (a deployment, a slot swap, the portal, another workflow) acting at this
   * moment: `before` runs when the matching request arrives, before it is handled or faulted;
   * `after` runs once it has been handled, before the answer leaves. A rule with only these (no
   * status, body or drop) lets the request through as it is.
   */
  before?: () => void
  after?: () => void
}
