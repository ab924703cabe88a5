// The fake's whole world, in memory. Keys are lower-cased resource ids because ARM ids are
// case-insensitive; the records keep the casing they were created with.
import { randomUUID } from 'node:crypto'
import type {
  FaultRule,
  RequestLogEntry,
  RoleAssignmentRecord,
  SecretRecord,
  SiteRecord,
  SlotConfigNames,
  UserAssignedIdentityRecord,
  UserAssignedIdentityValue,
  VaultRecord
} from './types.ts'

export interface Application {
  clientId: string
  tenantId: string
  spObjectId: string
}
export interface FederatedCredential {
  clientId: string
  issuer: string
  subject: string
  audience: string
}
export interface Principal {
  objectId: string
  createdAt: number
  type: string
}
/** A management lock (Microsoft.Authorization/locks) at a scope: ARM enforces it on every request below. */
export interface Lock {
  scope: string // lower-case, no trailing slash
  level: 'ReadOnly' | 'CanNotDelete'
}
export interface Deny {
  action: RegExp
  scope: string
}
export interface TokenGrant {
  tenantId: string
  clientId: string
  spObjectId: string
}
/** A managed identity the runner's VM holds (imds.ts): what IMDS signs it in as. */
export interface RunnerMi {
  resourceId: string // the VM for the system identity, the identity itself for a user-assigned one
  principalId: string
  clientId: string
  tenantId: string
}
export interface ResourceGroup {
  id: string
  name: string
  location: string
  subscriptionId: string
}

/** One resolved Key Vault reference, as App Service caches it (kv-references.ts). */
export interface RefEntry {
  reference: string
  properties: Record<string, unknown>
}
/** A site's or slot's reference cache: pending after a config change, then resolved entries by setting name. */
export interface RefCache {
  pendingUntil?: number
  /** After a configuration change, the statuses from before it, still served until `until`. */
  stale?: { until: number; entries: Map<string, RefEntry> }
  timer?: ReturnType<typeof setTimeout>
  entries: Map<string, RefEntry>
  /** The refetch of the last configuration change, made at that moment, shown once pendingUntil passes. */
  fetched?: Map<string, RefEntry>
}

export interface OidcClaims {
  sub: string
  aud: string
  iss: string
  repository: string
  ref: string
  exp?: number
  nbf?: number
  iat?: number
}

export interface State {
  tenantId: string
  subscriptionId: string
  clientId: string
  location: string
  tenants: Set<string> // lower-case tenant ids
  subscriptions: Map<string, { subscriptionId: string; tenantId: string; displayName: string }>
  resourceGroups: Map<string, ResourceGroup>
  sites: Map<string, SiteRecord> // sites and slots, by lower-case id
  siteAsync: Map<string, { delayMs: number; emptyBody: boolean }> // sites whose updates answer 202
  sitePending: Map<string, { operationId: string; createdAt: string }> // updates under way
  siteIdentityTenant: Map<string, string> // sites whose new system identity lands in another tenant
  siteRestarts: Map<string, number> // by lower-case site or slot id
  slotConfigNames: Map<string, SlotConfigNames> // by lower-case production site id
  kvRefs: Map<string, RefCache> // by lower-case site or slot id
  referenceResolveDelayMs: number
  staleReferenceStatusMs: number
  /** Key Vault's DNS suffix in the fake's cloud (kv-references.ts VAULT_SUFFIXES): vault URIs and SecretUri references. */
  keyVaultSuffix: string
  /** ApiKVReference.identityType as the spec's object instead of the string live answers carry (kv-references.ts). */
  referenceIdentityTypeAsObject: boolean
  vaults: Map<string, VaultRecord>
  secrets: Map<string, Map<string, SecretRecord>> // lower-case vault id -> lower-case secret name
  roleAssignments: Map<string, RoleAssignmentRecord>
  principals: Map<string, Principal>
  userAssigned: Map<string, UserAssignedIdentityValue> // stable ids per user-assigned identity
  identities: Map<string, UserAssignedIdentityRecord> // created with addUserAssignedIdentity, by lower-case id
  /** The identities of the VM the runner is on, and how its IMDS says one is missing. */
  runner: { system?: RunnerMi; userAssigned: RunnerMi[]; notFoundAnswer?: 'identity-not-found' | 'no-user-assigned' }
  applications: Map<string, Application> // by lower-case client id
  federatedCredentials: FederatedCredential[]
  oidcClaims: OidcClaims
  denies: Deny[]
  locks: Lock[]
  managementGroups: Map<string, Set<string>> // lower-case management group name -> lower-case subscription ids
  faults: FaultRule[]
  tokens: Map<string, TokenGrant>
  log: RequestLogEntry[]
  latencyMs: number
  principalReplicationDelayMs: number
  vaultPageSize: number
}

export const DEFAULT_CLAIMS: OidcClaims = {
  sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
  aud: 'api://AzureADTokenExchange',
  iss: 'https://token.actions.githubusercontent.com',
  repository: 'octo-org/octo-repo',
  ref: 'refs/heads/main'
}

export function createState(): State {
  const s: State = {
    tenantId: randomUUID(),
    subscriptionId: randomUUID(),
    clientId: randomUUID(),
    location: 'westeurope',
    tenants: new Set(),
    subscriptions: new Map(),
    resourceGroups: new Map(),
    sites: new Map(),
    siteAsync: new Map(),
    sitePending: new Map(),
    siteIdentityTenant: new Map(),
    siteRestarts: new Map(),
    slotConfigNames: new Map(),
    kvRefs: new Map(),
    referenceResolveDelayMs: 1000,
    staleReferenceStatusMs: 0,
    keyVaultSuffix: 'vault.azure.net',
    referenceIdentityTypeAsObject: false,
    vaults: new Map(),
    secrets: new Map(),
    roleAssignments: new Map(),
    principals: new Map(),
    userAssigned: new Map(),
    identities: new Map(),
    runner: { userAssigned: [] },
    applications: new Map(),
    federatedCredentials: [],
    oidcClaims: { ...DEFAULT_CLAIMS },
    denies: [],
    locks: [],
    managementGroups: new Map(),
    faults: [],
    tokens: new Map(),
    log: [],
    latencyMs: 0,
    principalReplicationDelayMs: 0,
    vaultPageSize: 1000
  }
  s.tenants.add(s.tenantId)
  addSubscription(s, s.subscriptionId)
  addApplication(s, s.clientId, s.tenantId)
  s.federatedCredentials.push({
    clientId: s.clientId,
    issuer: DEFAULT_CLAIMS.iss,
    subject: DEFAULT_CLAIMS.sub,
    audience: DEFAULT_CLAIMS.aud
  })
  return s
}

export function addSubscription(s: State, subscriptionId: string, tenantId = s.tenantId): void {
  if (s.subscriptions.has(subscriptionId.toLowerCase())) return
  s.subscriptions.set(subscriptionId.toLowerCase(), {
    subscriptionId,
    tenantId,
    displayName: `Fake subscription ${subscriptionId.slice(0, 8)}`
  })
}

export function addApplication(s: State, clientId: string, tenantId = s.tenantId): Application {
  s.tenants.add(tenantId.toLowerCase())
  const app: Application = { clientId, tenantId, spObjectId: randomUUID() }
  s.applications.set(clientId.toLowerCase(), app)
  addPrincipal(s, app.spObjectId, 0)
  return app
}

export function addPrincipal(s: State, objectId: string, createdAt = Date.now(), type = 'ServicePrincipal'): void {
  s.principals.set(objectId.toLowerCase(), { objectId, createdAt, type })
}

export function rgId(subscriptionId: string, rg: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${rg}`
}

export function addResourceGroup(s: State, name: string, subscriptionId = s.subscriptionId): ResourceGroup {
  addSubscription(s, subscriptionId)
  const id = rgId(subscriptionId, name)
  const existing = s.resourceGroups.get(id.toLowerCase())
  if (existing) return existing
  const rg: ResourceGroup = { id, name, location: s.location, subscriptionId }
  s.resourceGroups.set(id.toLowerCase(), rg)
  return rg
}

// A user-assigned identity keeps its principal and client id wherever it is attached.
export function userAssignedValue(s: State, resourceId: string): UserAssignedIdentityValue {
  const key = resourceId.toLowerCase()
  let v = s.userAssigned.get(key)
  if (!v) {
    v = { principalId: randomUUID(), clientId: randomUUID() }
    s.userAssigned.set(key, v)
    addPrincipal(s, v.principalId, 0)
  }
  return { ...v }
}

/** A user-assigned identity the fake knows (created, or seeded on a site), by resource id or client id. */
export function findUserAssigned(s: State, idOrClientId: string): (RunnerMi & { id: string }) | undefined {
  const key = idOrClientId.toLowerCase()
  const rec =
    s.identities.get(key) ?? [...s.identities.values()].find((r) => r.properties.clientId.toLowerCase() === key)
  if (rec) return { id: rec.id, resourceId: rec.id, ...rec.properties }
  // Seeded through addSite: only the lower-cased id survives; its tenant is the fake's.
  for (const [id, v] of s.userAssigned)
    if (id === key || v.clientId.toLowerCase() === key) return { id, resourceId: id, ...v, tenantId: s.tenantId }
  return undefined
}

export function newSystemPrincipal(s: State): string {
  const id = randomUUID()
  addPrincipal(s, id)
  return id
}

// "*/write" style globs over action names, case-insensitive like ARM.
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${body}$`, 'i')
}

/**
 * The lock that refuses `action` at `scope`, if any. A ReadOnly lock refuses every write and
 * delete at or below its scope (POST actions too), a CanNotDelete lock only deletes.
 */
export function lockedBy(s: State, action: string, scope: string): Lock | undefined {
  const verb = action.split('/').pop()!.toLowerCase()
  if (verb !== 'write' && verb !== 'delete' && verb !== 'action') return undefined
  const target = scope.toLowerCase()
  return s.locks.find(
    (l) => (target === l.scope || target.startsWith(l.scope + '/')) && (l.level === 'ReadOnly' || verb === 'delete')
  )
}

export function deniedBy(s: State, action: string, scope: string): boolean {
  const target = scope.toLowerCase()
  // d.scope is stored lower-case without a trailing slash; '' denies everywhere.
  return s.denies.some(
    (d) => d.action.test(action) && (d.scope === '' || target === d.scope || target.startsWith(d.scope + '/'))
  )
}
