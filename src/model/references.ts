// Key Vault references in App Service app settings and connection strings: what the action writes,
// what App Service reports back, and what each status means. Pure: no I/O.
// Syntax: learn.microsoft.com/azure/app-service/app-service-key-vault-references
// (`@Microsoft.KeyVault(VaultName=v;SecretName=s)`, `@Microsoft.KeyVault(SecretUri=https://…)`);
// references are values "of app settings or connection strings" (same article).

/** One app setting the run is asked to make a Key Vault reference. */
export interface WantedSetting {
  name: string
  vault: string
  secret: string
  /** Only with a versioned secret URI. */
  version?: string
  /** The exact setting value: the reference string. */
  value: string
}

/** Where a reference lives: App Service lists each collection's statuses apart (config/configreferences/{collection}). */
export type ReferenceCollection = 'appsettings' | 'connectionstrings'

/** A Key Vault reference of an app as App Service reports it (config/configreferences/{collection}). */
export interface ReferenceState {
  /** The app setting's or connection string's name. */
  setting: string
  /** Absent: an app setting (the action writes only those). */
  collection?: ReferenceCollection
  reference: string
  status: string
  vaultName?: string
  secretName?: string
  secretVersion?: string
  details?: string
  /** The identity App Service resolved it with (SystemAssigned, UserAssigned), when it says. */
  identity?: string
}

export const isConnectionString = (ref: { collection?: ReferenceCollection }): boolean =>
  ref.collection === 'connectionstrings'

/**
 * The reference's key in the `references` output: an app setting's name as it is, a connection
 * string's marked `connectionStrings/NAME` (a `/` is no character of an app setting name that
 * App Service turns into an environment variable, so the two cannot collide in practice).
 */
export function referenceKey(ref: Pick<ReferenceState, 'setting' | 'collection'>): string {
  return isConnectionString(ref) ? `connectionStrings/${ref.setting}` : ref.setting
}

/** "DB_PASSWORD", "connection string Main", "FONT (App Configuration)", for messages. */
export function referenceLabel(ref: { setting: string; collection?: ReferenceCollection; reference?: string }): string {
  const name = isConnectionString(ref) ? `connection string ${ref.setting}` : ref.setting
  return ref.reference !== undefined && isAppConfigurationReference(ref.reference)
    ? `${name} (App Configuration)`
    : name
}

/**
 * App Configuration references resolve through the app's keyVaultReferenceIdentity too
 * (app-service-configuration-references.md: "Although the property has keyVault in the name, the
 * identity also applies to App Configuration references").
 */
export function isAppConfigurationReference(value: string): boolean {
  return value.trimStart().toLowerCase().startsWith('@microsoft.appconfiguration(')
}

/** Versionless by name, so rotation is picked up within 24 h. */
export function referenceByName(vault: string, secret: string): string {
  return `@Microsoft.KeyVault(VaultName=${vault};SecretName=${secret})`
}

export function referenceByUri(uri: string): string {
  return `@Microsoft.KeyVault(SecretUri=${uri})`
}

/** App Service reports the setting's value as the reference; compared leniently, as identifiers are. */
export function sameReference(reported: string, wanted: string): boolean {
  return reported.trim().toLowerCase() === wanted.trim().toLowerCase()
}

export const RESOLVED = 'Resolved'
export const PENDING = 'Initialized'

/** Not App Service's: the setting holds another reference than the one this run asked for. */
export const OTHER_VALUE = 'OtherValue'

/**
 * What each status means and what fixes it. App Service's docs list no per-status fixes; these
 * follow from what the status names (inferred: no public per-status guidance found) and from the
 * access the action manages.
 */
const STATUS_FIXES: Record<string, string> = {
  MSINotEnabled:
    "the app has no managed identity for Key Vault references: turn on its system-assigned identity (this action does, in 'mode: apply'), or set keyVaultReferenceIdentity to a user-assigned identity attached to it",
  AccessToKeyVaultDenied:
    "the app's identity may not read the secret: grant it (this action's 'mode: apply' on that vault: an access policy with secrets get, or Key Vault Secrets User), and check the vault's firewall lets the app in",
  VaultNotFound: 'no vault of that name: check the vault name in the reference (and its cloud)',
  SecretNotFound: 'no enabled secret of that name in the vault: create it, or fix the secret name in the reference',
  SecretVersionNotFound:
    'the vault has no such version of the secret: drop the version from the reference (versionless references follow rotation) or use one that exists',
  InvalidSyntax:
    'the value is not a valid reference: use @Microsoft.KeyVault(VaultName=v;SecretName=s) or @Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/s) (vault.usgovcloudapi.net or vault.azure.cn in those clouds)',
  [OTHER_VALUE]:
    "the setting holds another value than the reference asked for: another writer (a deployment, a slot swap, another workflow) set it after this run's write; find who writes this app's settings, then re-run",
  FetchTimedOut:
    'App Service timed out reaching the vault: check the vault firewall, private endpoints and DNS; re-run',
  OtherReasons: "App Service could not say why: see its 'details', the vault's firewall and the app's outbound network",
  UnauthorizedClient:
    "Entra ID refused the app's identity: check that the identity exists and belongs to the vault's tenant",
  [PENDING]: 'App Service had not finished resolving it: re-run, or raise retry-timeout'
}

/** A failure a fresh resolution may heal: the action then asks App Service to resolve again (refresh). */
export function isRefreshable(status: string): boolean {
  return status !== RESOLVED && status !== PENDING && status !== 'InvalidSyntax'
}

export function describeReference(ref: ReferenceState): string {
  const target = ref.vaultName && ref.secretName ? `${ref.vaultName}/${ref.secretName}` : ref.reference
  return `${referenceLabel(ref)} → ${target}${ref.secretVersion ? ` (version ${ref.secretVersion})` : ''}`
}

/** "  - DB → kv/db: AccessToKeyVaultDenied (App Service: …). Fix: …" */
export function failureLine(ref: ReferenceState): string {
  const said = ref.details ? ` (App Service says: ${ref.details})` : ''
  const fix = STATUS_FIXES[ref.status] ?? 'see App Service’s details for the reference'
  return `  - ${describeReference(ref)}: ${ref.status}${said}. Fix: ${fix}.`
}

/** The app setting's reference of that name (a connection string of the same name is another one). */
export function findReference(refs: readonly ReferenceState[], setting: string): ReferenceState | undefined {
  return refs.find((r) => !isConnectionString(r) && r.setting.toLowerCase() === setting.toLowerCase())
}
