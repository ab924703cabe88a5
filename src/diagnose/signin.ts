// Failures before Azure Resource Manager answers anything: Entra ID (AADSTS codes), the network
// (recorded by the pipeline as it happened, because MSAL drops the cause), and a spent budget.
// A failure is explained as a sign-in failure only when its cause chain holds an error of getting
// a token (by type): an Azure answer or a reference's status may quote an AADSTS code of its own.
import {
  AggregateAuthenticationError,
  AuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError
} from '@azure/identity'
import type { NetworkFailure } from '../azure/http/budget.js'
import { describeNetworkFailure } from '../azure/http/network.js'
import { SignInError } from '../signin/credential.js'
import { identitySource } from '../signin/runner-identity.js'
import { MissingOidcPermissionError, type OidcClaims, OidcRequestError } from '../signin/github-oidc.js'

interface RestLikeError {
  message?: string
  errorResponse?: { error?: string; errorDescription?: string; errorCodes?: number[] }
}

export interface ExplainContext {
  claims?: OidcClaims
  clientId?: string
  tenantId?: string
  authorityHost?: string
  authType?: string
  budget?: {
    seconds: number
    expired: boolean
    lastFailure?: string
    network?: ReadonlyMap<string, NetworkFailure>
  }
}

/** Errors of getting a token: the action's own (the sign-in step, GitHub's OIDC token) and @azure/identity's. */
const SIGN_IN_ERRORS = [
  SignInError,
  OidcRequestError,
  MissingOidcPermissionError,
  AuthenticationError,
  AggregateAuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError
]

export function isSignInFailure(chain: readonly unknown[]): boolean {
  return chain.some((e) => SIGN_IN_ERRORS.some((type) => e instanceof type))
}

/**
 * Sign-in through the runner's managed identity or the az session: @azure/identity reports every
 * failure of both as CredentialUnavailableError; the message says which
 * (@azure/identity dist/esm/credentials/managedIdentityCredential/ and azureCliCredential.js).
 */
export function runnerSignInMessage(chain: readonly unknown[], context: ExplainContext): string | undefined {
  const text = chainMessages(chain).join('\n')
  if (context.authType === 'managed-identity') {
    // IMDS says "Identity not found"; a user-assigned one can also answer 400 "No User Assigned or
    // Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId" (Azure/login#538).
    if (/Identity not found|No User Assigned or Delegated Managed Identity found/i.test(text)) {
      const which = context.clientId
        ? `user-assigned identity with client id ${context.clientId}`
        : 'system-assigned identity'
      return (
        `Sign-in with the runner's managed identity failed: the runner has no ${which} (the identity endpoint answered that the identity was not found).\n` +
        `Fix: ${context.clientId ? `assign that identity to the runner's VM or scale set (az vm identity assign --identities <identity id> …), or correct 'client-id'` : "turn on the VM's system-assigned identity (az vm identity assign), or set 'client-id' to a user-assigned identity of the runner"}.`
      )
    }
    if (/Network unreachable|network_error|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/i.test(text)) {
      const endpoint = identitySource(process.env, context.clientId ?? '').endpoint
      return `Sign-in with the runner's managed identity failed: its identity endpoint${endpoint ? ` ${endpoint}` : ''} could not be reached (${firstLine(lastMessage(chain))}).
Fix: 'auth-type: managed-identity' needs a self-hosted runner on Azure with a managed identity; on GitHub-hosted runners use 'auth-type: oidc'; with pod identity, check AZURE_POD_IDENTITY_AUTHORITY_HOST.`
    }
    return undefined
  }
  if (context.authType === 'azure-cli') {
    if (/Azure CLI could not be found/i.test(text)) {
      return `Sign-in with the Azure CLI session failed: the az command was not found on this runner's PATH.
Fix: install the Azure CLI (GitHub-hosted runners have it) and sign in with an azure/login step earlier in this job, or use 'auth-type: oidc'.`
    }
    if (/az login/i.test(text)) {
      return `Sign-in with the Azure CLI session failed: az is not signed in (az says: ${firstLine(lastMessage(chain))}).
Fix: add an azure/login step before this one in the same job (its session lives in the runner's ~/.azure), or use 'auth-type: oidc'.`
    }
    return undefined
  }
  return undefined
}

/** The messages of a cause chain, outermost first. */
function chainMessages(chain: readonly unknown[]): string[] {
  return chain
    .map((e) => (e as { message?: unknown } | undefined)?.message)
    .filter((m) => typeof m === 'string' && m !== '') as string[]
}

function lastMessage(chain: readonly unknown[]): string {
  return (chainMessages(chain).at(-1) ?? '').replace(/^(ManagedIdentityCredential|AzureCliCredential): /, '')
}

/** Entra ID sign-in failures (AADSTS codes), with the presented OIDC claims for federation mismatches. */
export function entraMessage(chain: readonly unknown[], context: ExplainContext): string | undefined {
  const textOf = (e: unknown): string => {
    const r = e as RestLikeError | undefined
    return `${r?.errorResponse?.errorDescription ?? ''} ${r?.message ?? ''}`
  }
  // The AADSTS error may be wrapped by @azure/identity and by our own SignInError, which repeat its
  // text: quote Entra itself, the deepest error of the first run that carries it.
  let at = chain.findIndex((e) => /AADSTS\d+/.test(textOf(e)))
  while (at >= 0 && at + 1 < chain.length && /AADSTS\d+/.test(textOf(chain[at + 1]))) at++
  const e = at >= 0 ? (chain[at] as RestLikeError) : undefined
  const code = /AADSTS(\d+)/.exec(textOf(e))?.[1]
  if (!code) return msalWithoutAnswer(chain, context)
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
      if (context.authType === 'azure-cli') {
        return `Sign-in failed: the Azure CLI session from a federated login (azure/login with OIDC) has expired: az keeps the GitHub OIDC token it signed in with, which lives about 10 minutes, and cannot get new tokens once it is older (Azure/azure-cli#28708).\nFix: run azure/login again right before this step, or use 'auth-type: oidc' so this action fetches its own GitHub token.\n${said}`
      }
      return `Sign-in failed: the GitHub OIDC token was outside its valid time range (it lives about 10 minutes from when the step asked for it).\nFix: check the runner's clock; on self-hosted runners sync it with NTP.\n${said}`
  }
  return `Sign-in to Entra ID failed (AADSTS${code}).\n${said}`
}

/**
 * MSAL reports a failed OpenID discovery as `endpoints_resolution_error` and a failed token
 * request as `network_error`, dropping what happened. An unknown tenant also ends in the first
 * (Entra answers its discovery with 400 AADSTS90002): that is what it means when the network
 * itself did not fail.
 */
function msalWithoutAnswer(chain: readonly unknown[], context: ExplainContext): string | undefined {
  const code = msalCode(chain)
  if (!code) return undefined
  const host = context.authorityHost ?? 'the authority host'
  const network = networkFailureAt(context, context.authorityHost)
  if (network) return `Sign-in failed: could not reach Entra ID at ${host}: ${describeNetworkFailure(network)}`
  if (code === 'endpoints_resolution_error') {
    return (
      `Sign-in failed: Entra ID could not resolve tenant ${context.tenantId ?? ''} at ${host}: the tenant was not found (AADSTS90002) or the authority host is wrong.\n` +
      `Fix: check 'tenant-id' (Directory (tenant) ID), and that 'environment' / 'authority-host' name the cloud the tenant lives in.`
    )
  }
  return `Sign-in failed: the token request to Entra ID at ${host} got no usable answer (MSAL ${code}).\nFix: re-run; on a self-hosted runner check its network access to ${host} (and HTTPS_PROXY / NO_PROXY).`
}

function msalCode(chain: readonly unknown[]): string | undefined {
  for (const e of chain as ({ errorCode?: string; message?: string } | undefined)[]) {
    const code = e?.errorCode ?? /\b(endpoints_resolution_error|network_error)\b/.exec(e?.message ?? '')?.[1]
    if (code === 'endpoints_resolution_error' || code === 'network_error') return code
  }
  return undefined
}

/** The recorded network failure for `url`'s origin, or (without a url) the last one recorded. */
function networkFailureAt(context: ExplainContext, url?: string): NetworkFailure | undefined {
  const network = context.budget?.network
  if (!network || network.size === 0) return undefined
  if (url) return network.get(new URL(url).origin)
  return [...network.values()].at(-1)
}

/** The run ran out of `retry-timeout`: what kept failing, in the network's words when it failed. */
export function budgetMessage(what: string, context: ExplainContext): string {
  const budget = context.budget!
  const network = networkFailureAt(context)
  if (network)
    return `${what}: gave up after ${budget.seconds} s (input 'retry-timeout'): ${describeNetworkFailure(network)}`
  if (budget.lastFailure) {
    return (
      `${what}: gave up after ${budget.seconds} s of retries (input 'retry-timeout'): ${budget.lastFailure}.\n` +
      `Fix: the service is throttling or failing; re-run later (the run is safe to repeat), or raise 'retry-timeout'.`
    )
  }
  return (
    `${what}: the run did not finish within 'retry-timeout' (${budget.seconds} s); every request that was answered succeeded, the last one was still waiting.\n` +
    `Fix: raise 'retry-timeout' (it bounds the whole run's time with Azure, retries included); the run is safe to repeat.`
  )
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

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0].replace(/ Trace ID:.*$/, '')
}
