// The job's GitHub OIDC token: the same request core.getIDToken makes (GET the runner's URL, which
// already holds `?api-version=…`, plus `&audience=`), sent through the run's HTTP pipeline so that
// it honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY like the Azure requests (Node's global fetch ignores
// them), shares their retries and retry budget, and works under @github/local-action, whose core
// stand-in has no getIDToken.
import * as core from '@actions/core'
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type Pipeline
} from '@azure/core-rest-pipeline'
import type { RetryBudget } from '../azure/http/budget.js'
import { createPipeline } from '../azure/http/pipeline.js'

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

export class OidcRequestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'OidcRequestError'
  }
}

/** Fetches the GitHub OIDC token on demand and remembers its claims (never the token) for diagnosis. */
export class GitHubAssertion {
  claims: OidcClaims | undefined
  private readonly audience: string
  private readonly env: NodeJS.ProcessEnv
  private readonly budget: RetryBudget
  private pipeline: Pipeline | undefined
  private httpClient: HttpClient | undefined
  private pending: Promise<string> | undefined
  private expiresAt: number | undefined

  constructor(audience: string, budget: RetryBudget, env: NodeJS.ProcessEnv = process.env) {
    this.audience = audience
    this.budget = budget
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

  private async fetch(): Promise<string> {
    const url = this.env.ACTIONS_ID_TOKEN_REQUEST_URL
    const bearer = this.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    if (!url || !bearer) throw new MissingOidcPermissionError()
    this.pipeline ??= createPipeline(this.budget)
    this.httpClient ??= createDefaultHttpClient()
    const request = createPipelineRequest({
      url: `${url}&audience=${encodeURIComponent(this.audience)}`,
      headers: createHttpHeaders({ Authorization: `Bearer ${bearer}`, Accept: 'application/json' }),
      // The runner's own URL; GitHub Enterprise Server may serve it over http.
      allowInsecureConnection: url.startsWith('http:')
    })
    let response
    try {
      response = await this.pipeline.sendRequest(this.httpClient, request)
    } catch (error) {
      throw new OidcRequestError(`The GitHub OIDC token request failed: ${(error as Error).message}`, { cause: error })
    }
    if (response.status !== 200) {
      // The request URL exists, so the job has id-token: write; say what GitHub answered.
      const said = (response.bodyAsText ?? '').slice(0, 300)
      throw new OidcRequestError(
        `GitHub refused the OIDC token request (HTTP ${response.status}${said ? `: ${said}` : ''}). ` +
          `Check the 'audience' input and that ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are the runner's own.`
      )
    }
    const token = parseToken(response.bodyAsText)
    core.setSecret(token)
    this.claims = decodeClaims(token)
    this.expiresAt = this.claims?.exp ? this.claims.exp * 1000 : Date.now() + 5 * 60_000
    return token
  }
}

function parseToken(body: string | null | undefined): string {
  try {
    const value = (JSON.parse(body ?? '') as { value?: unknown }).value
    if (typeof value === 'string' && value) return value
  } catch {
    // Reported below without the body, which may hold a token.
  }
  throw new OidcRequestError('GitHub answered the OIDC token request without a token.')
}

/** A JWT's payload, unverified (for explaining, never for trusting), or undefined when unreadable. */
export function jwtPayload(jwt: string): Record<string, unknown> | undefined {
  try {
    const payload: unknown = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'))
    return payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

export function decodeClaims(jwt: string): OidcClaims | undefined {
  const claims = jwtPayload(jwt) as OidcClaims | undefined
  return claims && { iss: claims.iss, sub: claims.sub, aud: claims.aud, exp: claims.exp, nbf: claims.nbf }
}
