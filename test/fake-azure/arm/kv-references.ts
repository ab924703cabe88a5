// Key Vault references in app settings and connection strings, as App Service reports them:
// parse, resolve against the fake's real state (identity, vault, secret, access), cache, and answer
// GET {site|slot}/config/configreferences/appsettings[/{name}] (WebApps_GetAppSettingsKeyVaultReferences)
// and …/configreferences/connectionstrings[/{name}] (WebApps_GetKeyVaultReferencesForConnectionStrings,
// WebApps.json; @azure/arm-appservice 19 listSiteConnectionStringKeyVaultReferences[Slot]): both
// `{value: ApiKVReference[], nextLink?}`, each `{id, name, type, properties: {reference, status,
// vaultName, secretName, secretVersion, identityType, details, source, activeVersion}}`;
// ResolveStatus from the SDK's models.d.ts. References "as values of app settings or connection
// strings" (app-service-key-vault-references.md, first paragraph).
//
// Caching (learn.microsoft.com/azure/app-service/app-service-key-vault-references, "Understand
// rotation"): "App Service caches the values of the Key Vault references … Any configuration change
// to the app causes an app restart and an immediate refetch of all referenced secrets." A restart
// alone does not refetch (MicrosoftDocs/azure-docs#100848). No source says failures are cached
// differently, so a failure stays until the next configuration change, as a success does.
//
// App Configuration references (`@Microsoft.AppConfiguration(…)`, app-service-configuration-references.md)
// resolve through the same keyVaultReferenceIdentity, but no source shows App Service listing them
// here: the spec's `source` enum has only "KeyVault" (SDK models.d.ts `source?: "KeyVault"`), and
// the article documents no status for them. The fake lists none of them.
import { webError, ok, page, type ArmContext } from './common.ts'
import { holdsRole } from './role-assignments.ts'
import { findSecret, findVaultByName } from './secrets.ts'
import type { FakeResponse } from '../core/server.ts'
import type { RefCache, RefEntry, State } from '../core/state.ts'
import type { SiteRecord, VaultRecord } from '../core/types.ts'

// Key Vault Secrets User, Secrets Officer, Administrator: the built-in roles with secrets/getSecret.
const SECRET_READERS = [
  '4633458b-17de-408a-b874-0445c86b69e6',
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  '00482a5a-887f-4fb3-b363-3b7fe8e74483'
]
const lc = (s: string): string => s.toLowerCase()

// Portal texts as users quote them in public issues where known; the others are the fake's own wording.
const DETAILS = {
  Initialized: 'Reference has not been resolved yet.',
  Resolved: 'Reference was successfully resolved.',
  InvalidSyntax: 'Reference was not able to be resolved because of a syntax error.',
  MSINotEnabled: 'Reference was not able to be resolved because site Managed Identity not enabled.',
  VaultNotFound:
    "Key Vault reference was not able to be resolved because the Key Vault reference's vault could not be found.",
  SecretNotFound: 'Key Vault reference was not able to be resolved because the secret could not be found.',
  SecretVersionNotFound:
    'Key Vault reference was not able to be resolved because the secret version could not be found.',
  AccessToKeyVaultDenied:
    "Key Vault reference was not able to be resolved because site was denied access to Key Vault reference's vault."
}
type Status = keyof typeof DETAILS

export interface ParsedReference {
  vaultName?: string
  secretName?: string
  secretVersion?: string
  invalid?: boolean
  /** A SecretUri outside the cloud's Key Vault DNS suffix: not a vault App Service there can find. */
  foreignHost?: boolean
}

const PREFIX = '@microsoft.keyvault('

/**
 * Key Vault's DNS suffix per cloud (azure-cli src/azure-cli-core/azure/cli/core/cloud.py,
 * `keyvault_dns` of AZURE_PUBLIC_CLOUD, AZURE_US_GOV_CLOUD, AZURE_CHINA_CLOUD): a SecretUri must
 * name a vault of the cloud the app runs in.
 */
export const VAULT_SUFFIXES = {
  AzureCloud: 'vault.azure.net',
  AzureUSGovernment: 'vault.usgovcloudapi.net',
  AzureChinaCloud: 'vault.azure.cn'
} as const
const PUBLIC_VAULT_SUFFIX = VAULT_SUFFIXES.AzureCloud

/**
 * undefined: not a reference (the docs: "If you don't see the status message, it means that the
 * syntax is invalid and not recognized as a Key Vault reference"). The two documented forms are
 * `VaultName=v;SecretName=s[;SecretVersion=x]` and `SecretUri=https://v.vault.azure.net/secrets/s[/x]`.
 * A versionless SecretUri ending in '/' (`…/secrets/s/`) was the docs' own example for years and
 * resolves to the newest version in live use (MicrosoftDocs/azure-docs#41917, #63017); a 2024 docs
 * change says it does not (MicrosoftDocs/azure-docs PR #124163, no capture given). The sources
 * disagree: the fake resolves it, as the captures show. Case of the prefix and keys is
 * undocumented: both are accepted in any case here.
 */
export function parseReference(value: string, vaultSuffix: string = PUBLIC_VAULT_SUFFIX): ParsedReference | undefined {
  if (!lc(value).startsWith(PREFIX)) return undefined
  const invalid = { invalid: true }
  if (!value.endsWith(')')) return invalid
  const pairs = new Map<string, string>()
  for (const part of value.slice(PREFIX.length, -1).split(';')) {
    if (!part.trim()) continue
    const eq = part.indexOf('=')
    const key = lc(part.slice(0, eq).trim())
    if (eq <= 0 || pairs.has(key)) return invalid
    pairs.set(key, part.slice(eq + 1).trim())
  }
  const uri = pairs.get('secreturi')
  if (uri !== undefined) return pairs.size === 1 ? parseSecretUri(uri, vaultSuffix) : invalid
  const [vaultName, secretName, secretVersion] = ['vaultname', 'secretname', 'secretversion'].map((k) => pairs.get(k))
  const known = [vaultName, secretName, secretVersion].filter((v) => v !== undefined).length
  if (!vaultName || !secretName || known !== pairs.size) return invalid
  return { vaultName, secretName, secretVersion: secretVersion || undefined }
}

function parseSecretUri(text: string, vaultSuffix: string): ParsedReference {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return { invalid: true }
  }
  const segs = u.pathname.split('/').slice(1)
  if (u.protocol !== 'https:' || u.search || u.hash || lc(segs[0] ?? '') !== 'secrets') return { invalid: true }
  // `…/secrets/s/`: versionless (see parseReference).
  if (segs.length === 3 && segs[2] === '') segs.pop()
  if ((segs.length !== 2 && segs.length !== 3) || segs.some((s) => !s)) return { invalid: true }
  const dot = u.hostname.indexOf('.')
  return {
    vaultName: u.hostname.slice(0, dot),
    secretName: decodeURIComponent(segs[1]),
    secretVersion: segs[2],
    foreignHost: lc(u.hostname.slice(dot + 1)) !== lc(vaultSuffix)
  }
}

// properties.keyVaultReferenceIdentity: "SystemAssigned" (the default) or a user-assigned identity's
// resource id, which must be attached to the site (KV references doc, "Access vaults with a
// user-assigned identity").
//
// identityType: the spec declares a ManagedServiceIdentity object, but a live answer quoted as
// "verbatim from a Reader-only call" (a third-party Go project's test fixture found by code search)
// carries the string "UserAssigned"; project issue 17 item 10 reports the same of live captures.
// The fake answers the string (state.referenceIdentityTypeAsObject: the spec's object instead).
function identityFor(
  state: State,
  site: SiteRecord
): { identityType: string | Record<string, unknown>; principalId?: string } {
  const wanted = site.properties.keyVaultReferenceIdentity ?? 'SystemAssigned'
  const asObject = state.referenceIdentityTypeAsObject
  if (lc(wanted) === 'systemassigned')
    return {
      identityType: asObject ? { type: 'SystemAssigned' } : 'SystemAssigned',
      principalId: site.identity?.principalId
    }
  const hit = Object.entries(site.identity?.userAssignedIdentities ?? {}).find(([id]) => lc(id) === lc(wanted))
  return {
    identityType: asObject ? { type: 'UserAssigned', userAssignedIdentities: { [wanted]: {} } } : 'UserAssigned',
    principalId: hit?.[1].principalId
  }
}

// What the data plane would allow: RBAC roles at the secret or above, or a Get/All access policy
// for the identity itself (an entry with an applicationId is a compound identity, not this one).
function canGetSecret(state: State, vault: VaultRecord, secretName: string, principalId: string): boolean {
  if (vault.properties.enableRbacAuthorization === true)
    return holdsRole(state, principalId, SECRET_READERS, `${vault.id}/secrets/${secretName}`)
  return vault.properties.accessPolicies.some(
    (p) =>
      lc(p.objectId) === lc(principalId) &&
      !p.applicationId &&
      (p.permissions.secrets ?? []).some((s) => lc(s) === 'get' || lc(s) === 'all')
  )
}

function report(
  state: State,
  site: SiteRecord,
  value: string,
  p: ParsedReference,
  status: Status
): Record<string, unknown> {
  const { vaultName, secretName, secretVersion } = p
  const { identityType } = identityFor(state, site)
  return {
    reference: value,
    status,
    vaultName,
    secretName,
    secretVersion,
    identityType,
    details: DETAILS[status],
    source: 'KeyVault'
  }
}

function resolve(state: State, site: SiteRecord, value: string, p: ParsedReference): Record<string, unknown> {
  const { principalId } = identityFor(state, site)
  const done = (status: Status, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...report(state, site, value, p, status),
    ...extra
  })
  if (p.invalid) return done('InvalidSyntax')
  if (!principalId) return done('MSINotEnabled')
  const vault = p.foreignHost ? undefined : findVaultByName(state, p.vaultName!)
  if (!vault) return done('VaultNotFound')
  // Key Vault authorizes before it looks the secret up: without access every name is a 403.
  if (!canGetSecret(state, vault, p.secretName!, principalId)) return done('AccessToKeyVaultDenied')
  const secret = findSecret(state, vault, p.secretName!)
  // A disabled secret answers 403 on the data plane; App Service's status for it is unknown.
  if (!secret?.enabled) return done('SecretNotFound')
  const version = p.secretVersion
    ? secret.versions.find((v) => lc(v) === lc(p.secretVersion!))
    : secret.versions[secret.versions.length - 1]
  if (!version) return done('SecretVersionNotFound')
  return done('Resolved', { activeVersion: version })
}

export type Collection = 'appsettings' | 'connectionstrings'
const COLLECTIONS: Collection[] = ['appsettings', 'connectionstrings']

const settingsOf = (site: SiteRecord, collection: Collection): { name: string; value: string }[] =>
  collection === 'appsettings'
    ? (site.properties.siteConfig?.appSettings ?? [])
    : (site.properties.siteConfig?.connectionStrings ?? []).map((c) => ({ name: c.name, value: c.connectionString }))

// Cache entries by collection and name: a connection string and an app setting may share a name.
const entryKey = (collection: Collection, name: string): string => `${collection}/${name}`

function cacheOf(state: State, key: string): RefCache {
  let c = state.kvRefs.get(key)
  if (!c) state.kvRefs.set(key, (c = { entries: new Map() }))
  return c
}

// Every reference of the site resolved against the state of this moment.
function fetchAll(state: State, key: string): Map<string, RefEntry> {
  const entries = new Map<string, RefEntry>()
  const site = state.sites.get(key)
  for (const collection of site ? COLLECTIONS : []) {
    for (const { name, value } of settingsOf(site!, collection)) {
      const p = parseReference(value, state.keyVaultSuffix)
      if (p) entries.set(entryKey(collection, name), { reference: value, properties: resolve(state, site!, value, p) })
    }
  }
  return entries
}

// The refetch a configuration change started becomes visible once it is due.
function settle(state: State, key: string, force = false): void {
  const c = state.kvRefs.get(key)
  if (c?.pendingUntil === undefined || (!force && Date.now() < c.pendingUntil)) return
  clearTimeout(c.timer)
  c.entries = c.fetched ?? fetchAll(state, key)
  c.pendingUntil = c.timer = c.stale = c.fetched = undefined
}

/**
 * A configuration change of a site or slot (lower-case id): the app restarts (`restart`) and every
 * reference is fetched again with the identity and access of this moment; each reports
 * Initialized for state.referenceResolveDelayMs, then that result. An identity or
 * keyVaultReferenceIdentity PATCH is such a change (sites.ts).
 *
 * With state.staleReferenceStatusMs, the statuses from before the change are still reported for
 * that long first. The KV references doc (ARM section) says "the app setting update behaves
 * asynchronously" unless WEBSITE_ENABLE_SYNC_UPDATE_SITE is set: a status read
 * right after the write may predate it. No recording shows that window; it is modelled so that
 * the action's wait for a settled status (SETTLE_MS) is exercised.
 */
export function configChanged(state: State, key: string, restart: boolean): void {
  if (restart) state.siteRestarts.set(key, (state.siteRestarts.get(key) ?? 0) + 1)
  const c = cacheOf(state, key)
  clearTimeout(c.timer)
  // The restarted app fetches with the identity and access in force now (an identity change made
  // before its grant fetches without access, and that failure stays cached): reported once due.
  c.fetched = fetchAll(state, key)
  const staleMs = state.staleReferenceStatusMs
  if (staleMs > 0 && c.pendingUntil === undefined) c.stale = { until: Date.now() + staleMs, entries: c.entries }
  c.entries = new Map()
  const wait = (c.stale ? staleMs : 0) + state.referenceResolveDelayMs
  c.pendingUntil = Date.now() + wait
  if (wait <= 0) return settle(state, key, true)
  c.timer = setTimeout(() => settle(state, key, true), wait)
  c.timer.unref()
}

function items(state: State, site: SiteRecord, collection: Collection): Record<string, unknown>[] {
  const key = lc(site.id)
  settle(state, key)
  const c = cacheOf(state, key)
  return settingsOf(site, collection).flatMap(({ name, value }) => {
    const p = parseReference(value, state.keyVaultSuffix)
    if (!p) return []
    const entry = entryKey(collection, name)
    let props = report(state, site, value, p, 'Initialized')
    const before = c.stale && Date.now() < c.stale.until ? c.stale.entries.get(entry) : undefined
    if (before?.reference === value) props = before.properties
    else if (c.pendingUntil === undefined) {
      // Seeded settings resolve lazily on the first read, then stay cached like the others.
      let e = c.entries.get(entry)
      if (e?.reference !== value)
        c.entries.set(entry, (e = { reference: value, properties: resolve(state, site, value, p) }))
      props = e.properties
    }
    const type = `${site.type}/config/configreferences`
    return [
      {
        id: `${site.id}/config/configreferences/${collection}/${name}`,
        name,
        type,
        properties: structuredClone(props)
      }
    ]
  })
}

/**
 * GET …/configreferences/{appsettings|connectionstrings} (list) and …/{name} (one; 404 when that
 * setting or connection string is not a reference).
 */
export function configReferences(
  ctx: ArmContext,
  site: SiteRecord,
  collection: Collection,
  name?: string
): FakeResponse {
  const all = items(ctx.state, site, collection)
  if (name === undefined) return ok(page(ctx, all))
  const one = all.find((i) => i.name === name) ?? all.find((i) => lc(i.name as string) === lc(name))
  const what = collection === 'appsettings' ? 'App setting' : 'Connection string'
  return one
    ? ok(one)
    : webError(404, 'NotFound', `${what} '${name}' of site '${site.name}' is not a Key Vault reference.`)
}

/**
 * POST …/config/configreferences/appsettings/refresh: "To force resolution of your app's Key Vault
 * references, make an authenticated POST request to …/config/configreferences/appsettings/refresh"
 * (app-service-key-vault-references.md, "Understand rotation"); in neither the REST spec nor the
 * SDK. It is what the portal's "Fetch latest values" button calls (MicrosoftDocs/azure-docs PR
 * #126435: "discovered using the browser developer tools … the button that initiates a rotation"),
 * and that button restarts the app and refetches (Azure/app-service-linux-docs#233). So: a restart
 * and a refetch of every reference of the app (connection strings too: "your app's Key Vault
 * references"; inferred). The answer body is undocumented; the fake answers the app settings'
 * list as it stands (pending), which a user's script reads as `.value[].properties.status`
 * (inferred; callers should read the status again).
 */
export function refreshReferences(ctx: ArmContext, site: SiteRecord): FakeResponse {
  configChanged(ctx.state, lc(site.id), true)
  return ok({ value: items(ctx.state, site, 'appsettings') })
}
