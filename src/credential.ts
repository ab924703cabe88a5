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

  private readonly signal: AbortSignal | undefined

  constructor(audience: string, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal) {
    this.audience = audience
    this.env = env
    this.signal = signal
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

  /**
   * The same request core.getIDToken makes (the URL already holds `?api-version=…`), done here so
   * that it also works under @github/local-action, whose core stand-in does not implement it, and
   * shares the run's retry budget.
   */
  private async fetch(): Promise<string> {
    const url = this.env.ACTIONS_ID_TOKEN_REQUEST_URL
    const bearer = this.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    if (!url || !bearer) throw new MissingOidcPermissionError()
    const token = await requestIdToken(`${url}&audience=${encodeURIComponent(this.audience)}`, bearer, this.signal)
    core.setSecret(token)
    this.claims = decodeClaims(token)
    this.expiresAt = this.claims?.exp ? this.claims.exp * 1000 : Date.now() + 5 * 60_000
    return token
  }
}

export class OidcRequestError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'OidcRequestError'
  }
}

const OIDC_ATTEMPTS = 6

/** GET the GitHub OIDC token; 5xx, 429 and network errors are retried (bounded, and by the run's budget). */
async function requestIdToken(url: string, bearer: string, signal: AbortSignal | undefined): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    let failure: string
    try {
      const response = await fetch(url, {
        headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json' },
        signal
      })
      if (response.ok) {
        const body = (await response.json()) as { value?: unknown }
        if (typeof body.value === 'string' && body.value) return body.value
        throw new OidcRequestError('GitHub answered the OIDC token request without a token.')
      }
      failure = `HTTP ${response.status}`
      if (response.status < 500 && response.status !== 429) {
        // The request URL exists, so the job has id-token: write; say what GitHub answered.
        const said = (await response.text().catch(() => '')).slice(0, 300)
        throw new OidcRequestError(
          `GitHub refused the OIDC token request (${failure}${said ? `: ${said}` : ''}). ` +
            `Check the 'audience' input and that ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are the runner's own.`
        )
      }
    } catch (error) {
      if (error instanceof OidcRequestError || signal?.aborted) throw error
      failure = (error as Error).message
    }
    if (attempt >= OIDC_ATTEMPTS)
      throw new OidcRequestError(`The GitHub OIDC token request kept failing (${failure}) after ${attempt} tries.`)
    core.warning(`The GitHub OIDC token request failed (${failure}); retry ${attempt}.`)
    await pause(Math.min(10_000, 500 * 2 ** attempt), signal)
  }
}

/** Waits, but no longer than the run's budget: an abort ends the wait and the next fetch throws. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true }
    )
  })
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
export async function signIn(credential: TokenCredential, settings: Settings): Promise<void> {
  try {
    await credential.getToken(settings.cloud.armScope)
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
  const assertion = new GitHubAssertion(settings.audience, env, budget.signal)
  const inner = new ClientAssertionCredential(settings.tenantId, settings.clientId, () => assertion.get(), {
    authorityHost: settings.cloud.authorityHost,
    disableInstanceDiscovery: settings.cloud.disableInstanceDiscovery,
    ...pipelineOptions(budget)
  })
  return { credential: new SharedTokenCredential(inner), assertion }
}
