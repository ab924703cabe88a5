// Every failure becomes one actionable message: what failed, why, and the fix. Azure calls run
// inside `during(...)`, which records what the action was doing and to what, so a bare ARM error
// code can be turned into "the app 'x' was not found in resource group 'y'".
import type { OidcClaims } from './credential.js'
import type { AppTarget, Settings, VaultTarget } from './settings.js'

export type OperationContext =
  | { action: string; kind: 'app' | 'slot'; target: AppTarget; settings: Settings }
  | { action: string; kind: 'vault'; vault: VaultTarget; settings: Settings }

export class AzureOperationError extends Error {
  readonly context: OperationContext
  constructor(context: OperationContext, cause: unknown) {
    super(`Could not ${context.action} ${describeTarget(context)}`, { cause })
    this.name = 'AzureOperationError'
    this.context = context
  }
}

export async function during<T>(context: OperationContext, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    throw error instanceof AzureOperationError ? error : new AzureOperationError(context, error)
  }
}

export function describeTarget(context: OperationContext): string {
  if (context.kind === 'vault') {
    const { vault } = context
    const where = vault.resourceGroup ? `resource group '${vault.resourceGroup}', ` : ''
    return `Key Vault '${vault.name}' (${where}subscription ${vault.subscriptionId})`
  }
  const { target, settings } = context
  const what = target.slot ? `slot '${target.slot}' of app '${target.name}'` : `app '${target.name}'`
  return `${what} (resource group '${settings.resourceGroup}', subscription ${settings.subscriptionId})`
}

/** The built-in role that grants an ARM action the sign-in identity was refused. */
const ROLE_FOR_ACTION: [RegExp, string][] = [
  [/^microsoft\.web\/sites\/slots\/write/i, 'Website Contributor (or Contributor) on the app'],
  [/^microsoft\.web\/sites\/slots\/read/i, 'Reader (or Website Contributor) on the app'],
  [/^microsoft\.web\/sites\/write/i, 'Website Contributor (or Contributor) on the app'],
  [/^microsoft\.web\/sites\/read/i, 'Reader (or Website Contributor) on the app'],
  [/^microsoft\.keyvault\/vaults\/accesspolicies\/write/i, 'Key Vault Contributor (or Contributor) on the vault'],
  [/^microsoft\.keyvault\/vaults\/read/i, 'Reader (or Key Vault Contributor) on the vault'],
  [
    /^microsoft\.authorization\/roleassignments\/write/i,
    'Role Based Access Control Administrator (or User Access Administrator) on the vault'
  ],
  [/^microsoft\.authorization\/roleassignments\/read/i, 'Reader on the vault'],
  [
    /^microsoft\.authorization\/roleassignments\/delete/i,
    'Role Based Access Control Administrator (or User Access Administrator) on the vault'
  ]
]

interface RestLikeError {
  name?: string
  message?: string
  code?: string
  statusCode?: number
  errorResponse?: { error?: string; errorDescription?: string; errorCodes?: number[] }
}

export interface ExplainContext {
  claims?: OidcClaims
  clientId?: string
  tenantId?: string
  authorityHost?: string
  budget?: { seconds: number; expired: boolean; lastFailure?: string }
}

export function explain(error: unknown, context: ExplainContext = {}): string {
  // Our own sign-in errors reach us wrapped by @azure/identity and by during(): report them as themselves.
  const own =
    findCause(error, 'MissingOidcPermissionError') ??
    findCause(error, 'VaultNotFoundError') ??
    findCause(error, 'OidcRequestError')
  if (own) return own.message
  const budget = context.budget
  if (budget?.expired && isAbort(error)) {
    const what =
      error instanceof AzureOperationError
        ? `${error.message}: gave up`
        : (error as Error).name === 'SignInError'
          ? 'Could not sign in to Entra ID: gave up'
          : 'Gave up'
    return budget.lastFailure
      ? `${what} after ${budget.seconds} s of retries (input 'retry-timeout'): ${budget.lastFailure}.\n` +
          `Fix: Azure is throttling or failing; re-run later (the run is safe to repeat), or raise 'retry-timeout'.`
      : `${what}: the run did not finish within 'retry-timeout' (${budget.seconds} s), though no request failed.\n` +
          `Fix: raise 'retry-timeout' (it bounds the whole run's time with Azure, retries included); the run is safe to repeat.`
  }
  if (!(error instanceof AzureOperationError)) return entraMessage(error, context) ?? messageOf(error)
  const cause = error.cause as RestLikeError
  const entra = entraMessage(cause, context)
  if (entra) return entra
  const what = error.message
  const azureSays = cause?.message
    ? `Azure says: ${cause.code ? `${cause.code}: ` : ''}${cause.message}`
    : messageOf(cause)
  switch (cause?.code) {
    case 'AuthorizationFailed': {
      const match = /action '([^']+)' over scope '([^']+)'/.exec(cause.message ?? '')
      const action = match?.[1] ?? 'the required action'
      const role = ROLE_FOR_ACTION.find(([pattern]) => pattern.test(action))?.[1] ?? 'a role that grants it'
      return (
        `${what}: the sign-in identity (client ${context.clientId ?? 'id unknown'}) may not perform '${action}' over scope '${match?.[2] ?? 'unknown'}'.\n` +
        `Fix: grant it ${role}, e.g. az role assignment create --assignee ${context.clientId ?? '<client-id>'} --role "${role.split(' (')[0]}" --scope ${match?.[2] ?? '<scope>'}\n${azureSays}`
      )
    }
    case 'SubscriptionNotFound':
      return `${what}: the subscription was not found, or the sign-in identity has no access to it.\nFix: check 'subscription-id' / 'vault-subscription-id' and that the identity has a role in that subscription.\n${azureSays}`
    case 'ResourceGroupNotFound':
      return `${what}: the resource group does not exist (or the sign-in identity cannot see it).\nFix: check 'resource-group' / 'vault-resource-group'.\n${azureSays}`
    case 'ResourceNotFound':
    case 'NotFound':
      return `${what}: ${notFoundHint(error.context)}\n${azureSays}`
    case 'PrincipalNotFound':
      return `${what}: the identity is still not known to the directory after retrying (replication delay, retried for up to 150 s within 'retry-timeout').\nFix: re-run the job in a few minutes; an identity that is on stays on, so the re-run only grants what is missing.\n${azureSays}`
    case 'LinkedAuthorizationFailed':
      return (
        `${what}: the app has user-assigned identities, and ARM checks that the sign-in identity (client ${context.clientId ?? 'id unknown'}) may assign each of them when the identity block is written.\n` +
        `Fix: grant it Managed Identity Operator on each user-assigned identity (az role assignment create --assignee ${context.clientId ?? '<client-id>'} --role "Managed Identity Operator" --scope <user-assigned identity id>).\n${azureSays}`
      )
    case 'InvalidAuthenticationTokenTenant':
      return `${what}: the subscription belongs to another tenant than 'tenant-id' (${context.tenantId ?? 'unknown'}).\nFix: set 'tenant-id' to the subscription's tenant, or check 'subscription-id' / 'vault-subscription-id'.\n${azureSays}`
    case 'Conflict':
      return `${what}: another operation on the resource kept it busy (409 Conflict) through every retry.\nFix: wait for the other deployment or operation to finish and re-run.\n${azureSays}`
  }
  if (cause?.statusCode === 401) {
    return `${what}: Azure Resource Manager did not accept the access token (401).\nFix: check that 'environment' / 'arm-endpoint' match the cloud the tenant lives in, and that 'tenant-id' is the subscription's tenant.\n${azureSays}`
  }
  return `${what}.\n${azureSays}`
}

function notFoundHint(context: OperationContext): string {
  if (context.kind === 'vault') {
    return `the vault does not exist there.\nFix: check 'vault-name', 'vault-resource-group' and 'vault-subscription-id' (leave 'vault-resource-group' empty to find the vault by name).`
  }
  if (context.kind === 'slot') {
    return `the app or its slot does not exist.\nFix: check 'app-name' and 'slot' (az webapp deployment slot list --name ${context.target.name} --resource-group ${context.settings.resourceGroup}).`
  }
  return `the app does not exist in that resource group.\nFix: check 'app-name' and 'resource-group' (az webapp list --resource-group ${context.settings.resourceGroup} --query [].name).`
}

/** Entra ID sign-in failures (AADSTS codes), with the presented OIDC claims for federation mismatches. */
function entraMessage(error: unknown, context: ExplainContext): string | undefined {
  const textOf = (e: RestLikeError | undefined): string =>
    `${e?.errorResponse?.errorDescription ?? ''} ${e?.message ?? ''}`
  // The AADSTS error may be wrapped by @azure/identity and by our own SignInError.
  let e = error as (RestLikeError & { cause?: unknown }) | undefined
  for (let depth = 0; e && depth < 8 && !/AADSTS\d+/.test(textOf(e)); depth++) e = e.cause as typeof e
  // Quote Entra itself, not a wrapper that repeats its text: take the deepest error that carries it.
  while (e?.cause && /AADSTS\d+/.test(textOf(e.cause))) e = e.cause
  const code = /AADSTS(\d+)/.exec(textOf(e))?.[1]
  if (!code) return endpointResolution(error, context)
  const said = `Entra ID says: ${firstLine(e?.errorResponse?.errorDescription ?? e?.message ?? '')}`
  const client = context.clientId ?? '<client-id>'
  switch (code) {
    case '700213':
    case '70021':
    case '7002138':
      return federationMismatch(context, said)
    case '700016':
      return `Sign-in failed: no application with client id ${client} exists in tenant ${context.tenantId ?? ''}.\nFix: check 'client-id' (the app registration's Application (client) ID, or the user-assigned identity's client id) and 'tenant-id'; the app must be in that tenant.\n${said}`
    case '90002':
      return `Sign-in failed: tenant ${context.tenantId ?? ''} was not found.\nFix: check 'tenant-id' (Directory (tenant) ID) and that 'environment' is the cloud the tenant lives in.\n${said}`
    case '700024':
      return `Sign-in failed: the GitHub OIDC token was outside its valid time range (it lives about 10 minutes from when the step asked for it).\nFix: check the runner's clock; on self-hosted runners sync it with NTP.\n${said}`
  }
  return `Sign-in to Entra ID failed (AADSTS${code}).\n${said}`
}

/**
 * MSAL reports a failed OpenID discovery (how Entra answers an unknown tenant: 400 AADSTS90002)
 * only as `endpoints_resolution_error`, dropping Entra's text.
 */
function endpointResolution(error: unknown, context: ExplainContext): string | undefined {
  let e = error as (Error & { errorCode?: string }) | undefined
  for (let depth = 0; e && depth < 8; depth++, e = e.cause as typeof e) {
    if (e.errorCode === 'endpoints_resolution_error' || /endpoints_resolution_error/.test(e.message ?? '')) {
      return (
        `Sign-in failed: Entra ID could not resolve tenant ${context.tenantId ?? ''} at ${context.authorityHost ?? 'the authority host'}: the tenant was not found (AADSTS90002) or the authority host is wrong.\n` +
        `Fix: check 'tenant-id' (Directory (tenant) ID), and that 'environment' / 'authority-host' name the cloud the tenant lives in.`
      )
    }
  }
  return undefined
}

function federationMismatch(context: ExplainContext, said: string): string {
  const { claims } = context
  const iss = claims?.iss ?? 'unknown'
  const sub = claims?.sub ?? 'unknown'
  const aud = [claims?.aud ?? 'unknown'].flat().join(', ')
  const lines = [
    `Sign-in failed: app ${context.clientId ?? ''} has no federated credential matching the token GitHub presented.`,
    `  issuer:   ${iss}`,
    `  subject:  ${sub}`,
    `  audience: ${aud}`,
    `Entra matches issuer, subject and audience exactly, and subjects are case-sensitive (they carry the owner/repository spelling GitHub uses, here '${sub.split(':')[1] ?? ''}').`
  ]
  if (sub.includes(':environment:')) {
    lines.push(
      `This job uses a GitHub environment, so the subject is the environment one, not the branch: the credential must name '${sub}'.`
    )
  }
  const name = `github-${sub.replace(/[^A-Za-z0-9-]+/g, '-').slice(0, 100)}`.replace(/-+$/, '')
  lines.push(
    'Fix: add a federated credential with exactly this subject:',
    `  az ad app federated-credential create --id ${context.clientId ?? '<client-id>'} --parameters '${JSON.stringify({ name, issuer: iss, subject: sub, audiences: [aud] })}'`,
    `  (for a user-assigned managed identity: az identity federated-credential create --name ${name} --identity-name <identity> --resource-group <group> --issuer ${iss} --subject '${sub}' --audiences ${aud})`,
    said
  )
  return lines.join('\n')
}

function findCause(error: unknown, name: string): Error | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e.name === name) return e
  }
  return undefined
}

function isAbort(error: unknown): boolean {
  return findCause(error, 'AbortError') !== undefined
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0].replace(/ Trace ID:.*$/, '')
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
