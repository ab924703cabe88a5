// GitHub OIDC token → Entra ID access token, with no stored secret. One OIDC request, one
// discovery and one token request per run, however many SDK clients ask.
import * as core from '@actions/core'
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth'
import { ClientAssertionCredential } from '@azure/identity'
import type { RetryBudget } from './azure/budget.js'
import { pipelineOptions } from './azure/pipeline.js'
import { GitHubAssertion } from './oidc.js'
import type { Settings } from './settings.js'

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

export class SignInError extends Error {
  constructor(settings: Settings, cause: unknown) {
    super(
      `Could not sign in to Entra ID as client ${settings.clientId} in tenant ${settings.tenantId} (${settings.cloud.authorityHost}): ${(cause as Error)?.message ?? String(cause)}`,
      { cause }
    )
    this.name = 'SignInError'
  }
}

/**
 * Gets the ARM token before any ARM call, so that a sign-in failure is reported as one (not as a
 * failed read of the app) and the clients that start together share this token.
 */
export async function signIn(credential: TokenCredential, settings: Settings, budget: RetryBudget): Promise<void> {
  try {
    // Every request of the sign-in obeys the budget; the race also ends a sign-in whose library
    // would wait on past it.
    await budget.race(credential.getToken(settings.cloud.armScope, { abortSignal: budget.signal }))
  } catch (error) {
    throw new SignInError(settings, error)
  }
  core.info(`Signed in to Entra ID as client ${settings.clientId} (tenant ${settings.tenantId}).`)
}

/** Defence in depth: every token handed out is registered with the runner's log masking. */
function masked(token: AccessToken | null): AccessToken | null {
  if (token) core.setSecret(token.token)
  return token
}

export interface SignIn {
  credential: TokenCredential
  assertion: GitHubAssertion
}

export function createCredential(
  settings: Settings,
  budget: RetryBudget,
  env: NodeJS.ProcessEnv = process.env
): SignIn {
  const assertion = new GitHubAssertion(settings.audience, budget, env)
  const inner = new ClientAssertionCredential(settings.tenantId, settings.clientId, () => assertion.get(), {
    authorityHost: settings.cloud.authorityHost,
    disableInstanceDiscovery: settings.cloud.disableInstanceDiscovery,
    ...pipelineOptions(budget)
  })
  return { credential: new SharedTokenCredential(inner), assertion }
}
