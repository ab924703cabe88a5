// Inputs about who signs in (`auth-type`, `client-id`, `tenant-id`, `audience`) and which identity
// the apps use (`identity`, `identity-resource-group`). No I/O: problems are collected, like the
// rest of the settings.
import { isGuid, validateResourceGroup } from './names.js'

const AUTH_TYPES = ['oidc', 'managed-identity', 'azure-cli'] as const
export type AuthType = (typeof AUTH_TYPES)[number]

/** The identity the apps get and that is granted on the vaults. */
export type AppIdentity =
  { kind: 'system' } | { kind: 'user'; id: string; subscriptionId: string; resourceGroup: string; name: string }

export interface SignInSettings {
  authType: AuthType
  /** oidc: the app registration or identity to sign in as; managed-identity: the runner's user-assigned identity ('' = its system one). */
  clientId: string
  /** oidc: required; otherwise known after sign-in (from the token) and '' before. */
  tenantId: string
  audience: string
}

type Reader = (name: string) => string

/** User-assigned identity names: 3–128 letters, digits, '-' and '_', starting with a letter or digit. */
const IDENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/
const IDENTITY_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)$/i

export function parseSignIn(input: Reader, env: NodeJS.ProcessEnv, problems: string[]): SignInSettings {
  const raw = input('auth-type') || 'oidc'
  const authType = raw.toLowerCase() as AuthType
  if (!AUTH_TYPES.includes(authType)) {
    problems.push(`'auth-type' must be one of ${AUTH_TYPES.join(', ')} (case-insensitive), got '${raw}'.`)
  }
  const fromEnv = (name: string): string => (env[name] ?? '').trim()
  let clientId = input('client-id')
  let tenantId = input('tenant-id')
  if (authType === 'oidc') {
    clientId ||= fromEnv('AZURE_CLIENT_ID')
    tenantId ||= fromEnv('AZURE_TENANT_ID')
    if (!clientId) problems.push(`'client-id' is required (or set the AZURE_CLIENT_ID environment variable).`)
    if (!tenantId) problems.push(`'tenant-id' is required (or set the AZURE_TENANT_ID environment variable).`)
  } else if (authType === 'managed-identity') {
    // As DefaultAzureCredential reads it: AZURE_CLIENT_ID picks a user-assigned identity of the runner.
    clientId ||= fromEnv('AZURE_CLIENT_ID')
  } else if (authType === 'azure-cli' && clientId) {
    problems.push(
      `'client-id' is not used with 'auth-type: azure-cli': the az session decides who signs in. Remove it, or use 'auth-type: oidc'.`
    )
  }
  if (authType !== 'oidc' && tenantId && AUTH_TYPES.includes(authType)) {
    // The token's own tenant is the one signed in to; an input that could disagree with it is refused.
    problems.push(
      `'tenant-id' is not used with 'auth-type: ${authType}': the tenant is the one of the ${authType === 'azure-cli' ? 'az session' : "runner's identity"} (the log shows it). Remove it, or use 'auth-type: oidc'.`
    )
  }
  for (const [name, value] of [
    ['client-id', clientId],
    ['tenant-id', tenantId]
  ] as const) {
    if (value && !isGuid(value)) {
      problems.push(`'${name}' must be a GUID such as 00000000-0000-0000-0000-000000000000, got '${value}'.`)
    }
  }
  const audience = input('audience') || 'api://AzureADTokenExchange'
  if (/\s/.test(audience)) problems.push(`'audience' must not contain white space, got '${audience}'.`)
  return {
    authType,
    clientId: authType === 'azure-cli' ? '' : clientId.toLowerCase(),
    tenantId: tenantId.toLowerCase(),
    audience
  }
}

export function parseIdentity(
  input: Reader,
  defaults: { subscriptionId: string; resourceGroup: string },
  problems: string[]
): AppIdentity {
  const value = input('identity') || 'system'
  const groupInput = input('identity-resource-group')
  if (groupInput) {
    const problem = validateResourceGroup('identity-resource-group', groupInput)
    if (problem) problems.push(problem)
  }
  if (value.toLowerCase() === 'system') {
    if (groupInput)
      problems.push(`'identity-resource-group' is only used with a user-assigned 'identity', not 'system'.`)
    return { kind: 'system' }
  }
  const byId = IDENTITY_ID.exec(value)
  if (byId) {
    const [, subscriptionId, resourceGroup, name] = byId
    const bad = [
      isGuid(subscriptionId) ? '' : 'its subscription is not a GUID',
      validateResourceGroup('identity', resourceGroup) ? 'its resource group is not a valid name' : '',
      IDENTITY_NAME.test(name) ? '' : 'its name is not 3–128 letters, digits, - and _'
    ].filter(Boolean)
    if (bad.length > 0) problems.push(`'identity' has resource id '${value}', but ${bad.join(' and ')}.`)
    if (groupInput) problems.push(`'identity-resource-group' is not used when 'identity' is a resource id.`)
    return { kind: 'user', id: value, subscriptionId: subscriptionId.toLowerCase(), resourceGroup, name }
  }
  if (value.startsWith('/') || !IDENTITY_NAME.test(value)) {
    problems.push(
      `'identity' must be 'system', a user-assigned identity's name (3–128 letters, digits, - and _) or its resource id ` +
        `(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>), got '${value}'.`
    )
    return { kind: 'system' }
  }
  const resourceGroup = groupInput || defaults.resourceGroup
  const id = `/subscriptions/${defaults.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${value}`
  return { kind: 'user', id, subscriptionId: defaults.subscriptionId, resourceGroup, name: value }
}
