// GitHub OIDC token → Entra ID access token, with no stored secret. One OIDC request, one
// discovery and one token request per run, however many SDK clients ask.
import * as core from '@actions/core'
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth'
import { ClientAssertionCredential } from '@azure/identity'
import { pipelineOptions, type RetryBudget } from './azure/pipeline.js'
import type { Settings } from './settings.js'

export interface OidcClaims {
  iss?: string
  sub?: string
  aud?: string | string[]
  exp?: number
  nbf?: number
}

export class MissingOidcPermissionError extends Error {
  constructor() {
    super(
      'GitHub did not give this job an OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL is not set.\n' +
        'Fix: grant the job permission to request one:\n' +
        '  permissions:\n' +
        '    id-token: write\n' +
        '    contents: read\n' +
        'Pull requests from forks never get an OIDC token; run this step on push, on pull_request from ' +
        'the same repository, or in a workflow_run / environment-protected job instead.'
    )
    this.name = 'MissingOidcPermissionError'
  }
}

/** Fetches the GitHub OIDC token on demand and remembers its claims (never the token) for diagnosis. */
export class GitHubAssertion {
  claims: OidcClaims | undefined
  private readonly audience: string
  private readonly env: NodeJS.ProcessEnv

  constructor(audience: string, env: NodeJS.ProcessEnv = process.env) {
    this.audience = audience
    this.env = env
  }

  /**
   * MSAL asks for the assertion more than once per sign-in; GitHub's token is valid for minutes,
   * so reuse it until a minute before it expires instead of asking GitHub again.
   */
  async get(): Promise<string> {
    const stale = this.expiresAt !== undefined && this.expiresAt - Date.now() < 60_000
    if (!this.pending || stale) this.pending = this.fetch()
    try {
      return await this.pending
    } catch (error) {
      this.pending = undefined
      throw error
    }
  }

  private pending: Promise<string> | undefined
  private expiresAt: number | undefined

  private async fetch(): Promise<string> {
    if (!this.env.ACTIONS_ID_TOKEN_REQUEST_URL || !this.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
      throw new MissingOidcPermissionError()
    }
    const token = await core.getIDToken(this.audience) // getIDToken masks the token in the log
    this.claims = decodeClaims(token)
    this.expiresAt = this.claims?.exp ? this.claims.exp * 1000 : Date.now() + 5 * 60_000
    return token
  }
}

export function decodeClaims(jwt: string): OidcClaims | undefined {
  try {
    const payload = jwt.split('.')[1]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as OidcClaims
    return { iss: claims.iss, sub: claims.sub, aud: claims.aud, exp: claims.exp, nbf: claims.nbf }
  } catch {
    return undefined
  }
}

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
    if (options?.claims) return this.inner.getToken(scopes, options)
    const cached = this.tokens.get(key)
    if (cached) {
      const token = await cached.catch(() => null)
      if (token && token.expiresOnTimestamp - Date.now() > 120_000) return token
      // Another caller may have started the refresh while we waited: share it.
      const current = this.tokens.get(key)
      if (current && current !== cached) return current
    }
    const request = this.inner.getToken(scopes, { ...options, abortSignal: undefined }).then((token) => {
      if (token) core.setSecret(token.token) // defence in depth: never let it reach the log
      return token
    })
    this.tokens.set(key, request)
    request.catch(() => {
      if (this.tokens.get(key) === request) this.tokens.delete(key)
    })
    return request
  }
}

export interface SignIn {
  credential: TokenCredential
  assertion: GitHubAssertion
}

export function createCredential(settings: Settings, budget: RetryBudget, env: NodeJS.ProcessEnv = process.env): SignIn {
  const assertion = new GitHubAssertion(settings.audience, env)
  const inner = new ClientAssertionCredential(settings.tenantId, settings.clientId, () => assertion.get(), {
    authorityHost: settings.cloud.authorityHost,
    disableInstanceDiscovery: settings.cloud.disableInstanceDiscovery,
    ...pipelineOptions(budget)
  })
  return { credential: new SharedTokenCredential(inner), assertion }
}
