// The run's credential: GitHub OIDC token → Entra ID access token (no stored secret), or the
// runner's managed identity, or an existing az session. One token per scope per run, however
// many SDK clients ask.
import * as core from '@actions/core'
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth'
import { ClientAssertionCredential } from '@azure/identity'
import type { RetryBudget } from '../azure/http/budget.js'
import { pipelineOptions } from '../azure/http/pipeline.js'
import {
  azureCliCredential,
  identitySource,
  managedIdentityCredential,
  probeImds,
  tenantOfToken
} from './runner-identity.js'
import { GitHubAssertion } from './github-oidc.js'
import type { Settings } from '../inputs/inputs.js'

/**
 * Shares one token per scope between every SDK client. The clients ask with CAE enabled, which
 * @azure/identity caches apart from plain requests, and clients started together each fetch their
 * own; de-duplicating here makes Entra see one token request per run.
 */
export class SharedTokenCredential implements TokenCredential {
  private readonly inner: TokenCredential
  private readonly tokens = new Map<string, Promise<AccessToken | null>>()

  constructor(inner: TokenCredential) {
    this.inner = inner
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    const key = [scopes].flat().join(' ')
    // A CAE claims challenge needs a fresh token; never serve it from the cache.
    if (options?.claims) return this.inner.getToken(scopes, options).then(masked)
    const cached = this.tokens.get(key)
    if (cached) {
      const token = await cached.catch(() => null)
      if (token && token.expiresOnTimestamp - Date.now() > 120_000) return token
      // Another caller may have started the refresh while we waited: share it.
      const current = this.tokens.get(key)
      if (current && current !== cached) return current
    }
    const request = this.inner.getToken(scopes, { ...options, abortSignal: undefined }).then(masked)
    this.tokens.set(key, request)
    request.catch(() => {
      if (this.tokens.get(key) === request) this.tokens.delete(key)
    })
    return request
  }
}

/**
 * Asks az for ARM with the resource its login already holds a refreshable token for (the cloud's
 * `management.core` resource): after `az login --federated-token` any other resource fails with
 * AADSTS700024 once the GitHub assertion is ~10 minutes old (Azure/azure-cli#28708).
 */
export class AzCliArmScope implements TokenCredential {
  private readonly inner: TokenCredential
  private readonly armScope: string
  private readonly azScope: string

  constructor(inner: TokenCredential, armScope: string, azScope: string) {
    this.inner = inner
    this.armScope = armScope
    this.azScope = azScope
  }

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    const mapped = [scopes].flat().map((s) => (s === this.armScope ? this.azScope : s))
    return this.inner.getToken(mapped, options)
  }
}

/** Who signs in, in words: for the sign-in line and every sign-in failure. */
function describeSignIn(settings: Settings): string {
  switch (settings.authType) {
    case 'managed-identity':
      return `with the runner's managed identity (${settings.clientId ? `user-assigned, client ${settings.clientId}` : 'system-assigned'})`
    case 'azure-cli':
      return 'with the Azure CLI session (az)'
    default:
      return `to Entra ID as client ${settings.clientId} in tenant ${settings.tenantId} (${settings.cloud.authorityHost})`
  }
}

export class SignInError extends Error {
  constructor(settings: Settings, cause: unknown) {
    super(`Could not sign in ${describeSignIn(settings)}: ${(cause as Error)?.message ?? String(cause)}`, { cause })
    this.name = 'SignInError'
  }
}

/**
 * Gets the ARM token before any ARM call, so that a sign-in failure is reported as one (not as a
 * failed read of the app) and the clients that start together share this token.
 */
export async function signIn(
  credential: TokenCredential,
  settings: Settings,
  budget: RetryBudget,
  env: NodeJS.ProcessEnv = process.env
): Promise<{ tenantId: string }> {
  let token: AccessToken | null
  try {
    if (settings.authType === 'managed-identity') {
      const source = identitySource(env, settings.clientId)
      if (source.probe && source.endpoint) await budget.race(probeImds(source.endpoint))
    }
    // Every request of the sign-in obeys the budget; the race also ends a sign-in whose library
    // would wait on past it (the managed identity and az CLI credentials take no pipeline policies).
    token = await budget.race(credential.getToken(settings.cloud.armScope, { abortSignal: budget.signal }))
  } catch (error) {
    throw new SignInError(settings, error)
  }
  const tenantId = settings.tenantId || (token ? tenantOfToken(token.token) : '')
  if (settings.authType === 'oidc') {
    core.info(`Signed in to Entra ID as client ${settings.clientId} (tenant ${settings.tenantId}).`)
  } else {
    core.info(`Signed in ${describeSignIn(settings)}${tenantId ? ` (tenant ${tenantId})` : ''}.`)
  }
  return { tenantId }
}

/** Defence in depth: every token handed out is registered with the runner's log masking. */
function masked(token: AccessToken | null): AccessToken | null {
  if (token) core.setSecret(token.token)
  return token
}

export interface SignIn {
  credential: TokenCredential
  /** With oidc: the GitHub token's source, whose claims explain a federation mismatch. */
  assertion?: GitHubAssertion
}

export function createCredential(
  settings: Settings,
  budget: RetryBudget,
  env: NodeJS.ProcessEnv = process.env
): SignIn {
  if (settings.authType === 'managed-identity') {
    return { credential: new SharedTokenCredential(managedIdentityCredential(settings.clientId, env)) }
  }
  if (settings.authType === 'azure-cli') {
    const az = new AzCliArmScope(azureCliCredential(budget), settings.cloud.armScope, settings.cloud.azCliArmScope)
    return { credential: new SharedTokenCredential(az) }
  }
  const assertion = new GitHubAssertion(settings.audience, budget, env)
  const inner = new ClientAssertionCredential(settings.tenantId, settings.clientId, () => assertion.get(), {
    authorityHost: settings.cloud.authorityHost,
    disableInstanceDiscovery: settings.cloud.disableInstanceDiscovery,
    ...pipelineOptions(budget)
  })
  return { credential: new SharedTokenCredential(inner), assertion }
}
