// Key Vault references in App Service app settings: what the action writes, what App Service
// reports back, and what each status means. Pure: no I/O.
// Syntax: learn.microsoft.com/azure/app-service/app-service-key-vault-references
// (`@Microsoft.KeyVault(VaultName=v;SecretName=s)`, `@Microsoft.KeyVault(SecretUri=https://…)`).

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

/** A Key Vault reference of an app as App Service reports it (config/configreferences/appsettings). */
export interface ReferenceState {
  setting: string
  reference: string
  status: string
  vaultName?: string
  secretName?: string
  secretVersion?: string
  details?: string
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

/**
 * What each status means and what fixes it. App Service's docs list no per-status fixes; these
 * follow from what the status names (research notes: tmp/research-11.md §6) and from the access
 * the action manages.
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
    'the value is not a valid reference: use @Microsoft.KeyVault(VaultName=v;SecretName=s) or @Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/s)',
  FetchTimedOut:
    'App Service timed out reaching the vault: check the vault firewall, private endpoints and DNS; re-run',
  OtherReasons: "App Service could not say why: see its 'details', the vault's firewall and the app's outbound network",
  UnauthorizedClient:
    "Entra ID refused the app's identity: check that the identity exists and belongs to the vault's tenant",
  [PENDING]: 'App Service had not finished resolving it: re-run, or raise retry-timeout'
}

/** A failure a fresh resolution may heal: the action then rewrites the settings so App Service resolves again. */
export function isRefreshable(status: string): boolean {
  return status !== RESOLVED && status !== PENDING && status !== 'InvalidSyntax'
}

export function describeReference(ref: ReferenceState): string {
  const target = ref.vaultName && ref.secretName ? `${ref.vaultName}/${ref.secretName}` : ref.reference
  return `${ref.setting} → ${target}${ref.secretVersion ? ` (version ${ref.secretVersion})` : ''}`
}

/** "  - DB → kv/db: AccessToKeyVaultDenied (App Service: …). Fix: …" */
export function failureLine(ref: ReferenceState): string {
  const said = ref.details ? ` (App Service says: ${ref.details})` : ''
  const fix = STATUS_FIXES[ref.status] ?? 'see App Service’s details for the reference'
  return `  - ${describeReference(ref)}: ${ref.status}${said}. Fix: ${fix}.`
}

export function findReference(refs: readonly ReferenceState[], setting: string): ReferenceState | undefined {
  return refs.find((r) => r.setting.toLowerCase() === setting.toLowerCase())
}
