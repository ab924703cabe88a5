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
import type { Inputs } from '../inputs/inputs.js'

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
function describeSignIn(inputs: Inputs): string {
  switch (inputs.authType) {
    case 'managed-identity':
      return `with the runner's managed identity (${inputs.clientId ? `user-assigned, client ${inputs.clientId}` : 'system-assigned'})`
    case 'azure-cli':
      return 'with the Azure CLI session (az)'
    default:
      return `to Entra ID as client ${inputs.clientId} in tenant ${inputs.tenantId} (${inputs.cloud.authorityHost})`
  }
}

export class SignInError extends Error {
  constructor(inputs: Inputs, cause: unknown) {
    super(`Could not sign in ${describeSignIn(inputs)}: ${(cause as Error)?.message ?? String(cause)}`, { cause })
    this.name = 'SignInError'
  }
}

/**
 * Gets the ARM token before any ARM call, so that a sign-in failure is reported as one (not as a
 * failed read of the app) and the clients that start together share this token.
 */
export async function signIn(
  credential: TokenCredential,
  inputs: Inputs,
  budget: RetryBudget,
  env: NodeJS.ProcessEnv = process.env
): Promise<{ tenantId: string }> {
  let token: AccessToken | null
  try {
    if (inputs.authType === 'managed-identity') {
      const source = identitySource(env, inputs.clientId)
      if (source.probe && source.endpoint) await budget.race(probeImds(source.endpoint))
    }
    // Every request of the sign-in obeys the budget; the race also ends a sign-in whose library
    // would wait on past it (the managed identity and az CLI credentials take no pipeline policies).
    token = await budget.race(credential.getToken(inputs.cloud.armScope, { abortSignal: budget.signal }))
  } catch (error) {
    throw new SignInError(inputs, error)
  }
  const tenantId = inputs.tenantId || (token ? tenantOfToken(token.token) : '')
  if (inputs.authType === 'oidc') {
    core.info(`Signed in to Entra ID as client ${inputs.clientId} (tenant ${inputs.tenantId}).`)
  } else {
    core.info(`Signed in ${describeSignIn(inputs)}${tenantId ? ` (tenant ${tenantId})` : ''}.`)
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

export function createCredential(inputs: Inputs, budget: RetryBudget, env: NodeJS.ProcessEnv = process.env): SignIn {
  if (inputs.authType === 'managed-identity') {
    return { credential: new SharedTokenCredential(managedIdentityCredential(inputs.clientId, env)) }
  }
  if (inputs.authType === 'azure-cli') {
    const az = new AzCliArmScope(azureCliCredential(budget), inputs.cloud.armScope, inputs.cloud.azCliArmScope)
    return { credential: new SharedTokenCredential(az) }
  }
  const assertion = new GitHubAssertion(inputs.audience, budget, env)
  const inner = new ClientAssertionCredential(inputs.tenantId, inputs.clientId, () => assertion.get(), {
    authorityHost: inputs.cloud.authorityHost,
    disableInstanceDiscovery: inputs.cloud.disableInstanceDiscovery,
    ...pipelineOptions(budget)
  })
  return { credential: new SharedTokenCredential(inner), assertion }
}
