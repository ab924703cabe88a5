// The secrets of a Microsoft.App container app or job (`properties.configuration.secrets`), checked
// as the service checks them when a write carries them: names, "value or keyVaultUrl and
// identity", the Key Vault URL's form, every `secretRef` of the template, and — synchronously,
// with the app's own managed identity — whether each Key Vault secret can be read right now.
//
// That last check is what users trip over (microsoft/azure-container-apps #722, #733, #1159,
// #1174, #1454): the write fails with 400 InvalidParameterValueInContainerTemplate while the
// identity has no access yet — including while a just-made role assignment is still propagating
// (modelled by `rbacDelayMs`: an assignment younger than that does not count yet; role changes
// "can sometimes take up to 30 minutes" to take effect, Microsoft Q&A 524792 quoting "Troubleshoot
// Azure RBAC"), when the vault's firewall shuts out public access (Container Apps is not a trusted
// service: a comment on microsoft/azure-container-apps #739), or when the secret is missing.
// The vault, its RBAC mode, access policies, role assignments and secrets are the fake's own
// (vaults.ts, role-assignments.ts, secrets.ts).
import { armError } from './common.ts'
import { holdsRole, ROLE_DEFINITIONS } from './role-assignments.ts'
import { findSecret, findVaultByName } from './secrets.ts'
import type { FakeResponse } from '../core/server.ts'
import type { State } from '../core/state.ts'
import type { ManagedIdentity, VaultRecord } from '../core/types.ts'

/** One entry of `configuration.secrets`: a plain value, or a Key Vault reference with its resolved value. */
export interface AppSecret {
  name: string
  value?: string
  keyVaultUrl?: string
  identity?: string
}

/** What the checks need of the app: its identity and the template that references secrets. */
export interface SecretsHolder {
  identity?: ManagedIdentity
  properties: { configuration: { secrets: AppSecret[] }; template: unknown }
}

const lc = (s: string): string => s.toLowerCase()
const bad = (code: string, message: string): FakeResponse => armError(400, code, message)

// Built-in roles whose data actions include secrets/getSecret (the fake's role table).
const SECRET_READERS = Object.keys(ROLE_DEFINITIONS).filter((g) =>
  ['Key Vault Secrets User', 'Key Vault Secrets Officer', 'Key Vault Administrator'].includes(ROLE_DEFINITIONS[g])
)

/**
 * Text of Azure/container-apps-deploy-action#116 (ContainerAppInvalidSecretName, 2024). It names
 * only '-', yet an older wording of the same rule (ContainerAppInvalidPropertyValue, "… '-' or
 * '.' …", Azure/container-apps-deploy-action#102) and microsoft/vscode-azurecontainerapps#421 say
 * dots are accepted by the service: the fake accepts them.
 */
function badName(name: string): FakeResponse | undefined {
  if (name.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) return undefined
  return bad(
    'ContainerAppInvalidSecretName',
    `Secret name has an invalid value '${name}'. A value must consist of lower case alphanumeric characters, '-', and must start and end with an alphanumeric character. The length must not be more than 253 characters.`
  )
}

/** `https://{vault}.vault.azure.net/secrets/{name}[/{32-hex version}]` and the sovereign clouds' suffixes. */
const KEY_VAULT_URL =
  /^https:\/\/([a-z0-9-]{3,24})\.vault\.(?:azure\.net|azure\.cn|usgovcloudapi\.net|microsoftazure\.de)\/secrets\/([a-z0-9-]{1,127})(?:\/([0-9a-f]{32}))?\/?$/i

export function parseKeyVaultUrl(url: string): { vault: string; secret: string; version?: string } | undefined {
  const m = KEY_VAULT_URL.exec(url)
  return m ? { vault: m[1], secret: m[2], version: m[3] } : undefined
}

/**
 * Shape checks of a submitted secrets array, in the order the errors are known to come
 * (no source for the order when several apply).
 */
export function checkSecretShapes(secrets: unknown): AppSecret[] | FakeResponse {
  if (!Array.isArray(secrets)) return bad('InvalidRequestContent', "The property 'secrets' must be an array.")
  const out: AppSecret[] = []
  for (const s of secrets as unknown[]) {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>
    const str = (k: string): string | undefined => (typeof o[k] === 'string' && o[k] ? o[k] : undefined)
    const name = str('name') ?? ''
    const invalidName = badName(name)
    if (invalidName) return invalidName
    out.push({ name, value: str('value'), keyVaultUrl: str('keyVaultUrl'), identity: str('identity') })
  }
  // pulumi/pulumi-azure-native#2673, #2807; microsoft/azure-container-apps#654: a secret sent back
  // without its value (as a GET lists it) is refused with these words. Names joined by ',': no
  // capture shows several.
  const empty = out.filter((s) => !s.value && !(s.keyVaultUrl && s.identity)).map((s) => s.name)
  if (empty.length)
    return bad(
      'ContainerAppSecretInvalid',
      `Invalid Request: Container app secret(s) with name(s) '${empty.join(',')}' are invalid: value or keyVaultUrl and identity should be provided.`
    )
  // Azure/bicep-registry-modules#4868 (the message is cut short there; the fake ends it at the formats).
  const badUrl = out.filter((s) => s.keyVaultUrl && !parseKeyVaultUrl(s.keyVaultUrl)).map((s) => s.name)
  if (badUrl.length)
    return bad(
      'ContainerAppSecretKeyVaultUrlInvalid',
      `Invalid keyVaultUrl value for container app secret(s) with name(s) '${badUrl.join(',')}'. The value should follow the format 'https://mykeyvault.vault.azure.net/secrets/mysecret' or 'https://mykeyvault.vault.azure.net/secrets/mysecret/994e967bb9b5468b92a4737aeee97276'.`
    )
  return out
}

interface Container {
  name?: string
  env?: { name?: string; secretRef?: string }[]
}

/**
 * Every env `secretRef` must name a secret of the app: 400 ContainerAppSecretRefNotFound
 * "SecretRef 'x' defined for container 'c' not found." (microsoft/java-on-aca-with-ai#13).
 */
export function checkSecretRefs(app: SecretsHolder): FakeResponse | undefined {
  const names = new Set(app.properties.configuration.secrets.map((s) => s.name))
  const t = (app.properties.template ?? {}) as { containers?: Container[]; initContainers?: Container[] }
  for (const c of [...(t.initContainers ?? []), ...(t.containers ?? [])]) {
    const missing = (c.env ?? []).find((e) => e.secretRef !== undefined && !names.has(e.secretRef))
    if (missing)
      return bad(
        'ContainerAppSecretRefNotFound',
        `SecretRef '${missing.secretRef}' defined for container '${c.name}' not found.`
      )
  }
  return undefined
}

/** The principal behind a secret's `identity`: 'system' (any case) or an attached user-assigned identity's id. */
function principalOf(app: SecretsHolder, identity: string): string | undefined {
  if (lc(identity) === 'system') return app.identity?.principalId
  const hit = Object.entries(app.identity?.userAssignedIdentities ?? {}).find(([id]) => lc(id) === lc(identity))
  return hit?.[1].principalId
}

// Key Vault's own checks for a data-plane GET of the secret, as the app's identity.
function canRead(state: State, vault: VaultRecord, secret: string, principalId: string, rbacDelayMs: number): boolean {
  const p = vault.properties as VaultRecord['properties'] & {
    publicNetworkAccess?: string
    networkAcls?: { defaultAction?: string }
  }
  if (lc(p.publicNetworkAccess ?? 'enabled') === 'disabled' || lc(p.networkAcls?.defaultAction ?? 'allow') === 'deny')
    return false
  if (p.enableRbacAuthorization === true) {
    const settled = Date.now() - rbacDelayMs
    const propagated = new Map(
      [...state.roleAssignments].filter(([, r]) => Date.parse(r.properties.createdOn) <= settled)
    )
    return holdsRole(
      { ...state, roleAssignments: propagated },
      principalId,
      SECRET_READERS,
      `${vault.id}/secrets/${secret}`
    )
  }
  return p.accessPolicies.some(
    (a) =>
      lc(a.objectId) === lc(principalId) &&
      !a.applicationId &&
      (a.permissions.secrets ?? []).some((s) => ['get', 'all'].includes(lc(s)))
  )
}

/**
 * Fetches every Key Vault secret with the app's identity and stores what it got as the secret's
 * value (listSecrets shows it: Azure/azure-dev#3871). A failure is a 400
 * InvalidParameterValueInContainerTemplate in the words of microsoft/azure-container-apps#1174
 * (system identity) and #1159 (user-assigned: the identity's resource id); several failures are
 * joined with '; ' (no capture shows several). Why it failed is not in Azure's words.
 */
export function resolveKeyVaultSecrets(
  state: State,
  app: SecretsHolder,
  rbacDelayMs: number
): FakeResponse | undefined {
  const failed: string[] = []
  for (const s of app.properties.configuration.secrets) {
    if (!s.keyVaultUrl || !s.identity) continue
    const ref = parseKeyVaultUrl(s.keyVaultUrl)!
    const principal = principalOf(app, s.identity)
    const vault = findVaultByName(state, ref.vault)
    const secret = vault && findSecret(state, vault, ref.secret)
    const version = ref.version
      ? secret?.versions.find((v) => lc(v) === lc(ref.version!))
      : secret?.versions[secret.versions.length - 1]
    const ok =
      principal && vault && canRead(state, vault, ref.secret, principal, rbacDelayMs) && secret?.enabled && version
    if (ok) s.value = `fake-key-vault-value:${vault.name}/${secret.name}/${version}`
    else
      failed.push(
        `'Invalid value: "${s.name}": Unable to get value using Managed identity ${s.identity} for secret ${s.name}. Error: unable to fetch secret '${s.name}' using Managed identity '${s.identity}''`
      )
  }
  if (!failed.length) return undefined
  return bad(
    'InvalidParameterValueInContainerTemplate',
    `The following field(s) are either invalid or missing. Field 'configuration.secrets' is invalid with details: ${failed.join('; ')};.`
  )
}

/**
 * As a GET shows secrets: names, and for Key Vault secrets their URL and identity; never a value.
 * Inferred: the spec marks only the value write-only, and clients that read secrets back through
 * GET lose nothing but values (Azure/azure-dev#3871). null when there are none: inferred from the
 * nulls of unset properties in a live `az containerapp create` output (microsoft/azure-container-apps#1174).
 */
export function secretsView(secrets: AppSecret[]): AppSecret[] | null {
  if (!secrets.length) return null
  return secrets.map(({ name, keyVaultUrl, identity }) => (keyVaultUrl ? { name, keyVaultUrl, identity } : { name }))
}

/** As POST …/listSecrets answers: values included (ContainerApps_ListSecrets, Azure/azure-dev#3871). */
export function secretsWithValues(secrets: AppSecret[]): AppSecret[] {
  return secrets.map(({ name, value, keyVaultUrl, identity }) =>
    keyVaultUrl ? { name, value, keyVaultUrl, identity } : { name, value }
  )
}
