// src/signin/github-oidc.ts against the fake's GitHub OIDC endpoint, through the action's pipeline.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { RetryBudget } from '../../src/azure/http/budget.js'
import { decodeClaims, GitHubAssertion, MissingOidcPermissionError } from '../../src/signin/github-oidc.js'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { captureCommands } from './helpers.ts'

let fake: FakeAzure
const output = captureCommands()
const env = (): NodeJS.ProcessEnv => ({
  ACTIONS_ID_TOKEN_REQUEST_URL: fake.oidcRequestUrl,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: fake.oidcRequestToken
})
const tokenRequests = (): number => fake.requests.filter((r) => r.server === 'oidc').length

beforeAll(async () => {
  fake = await startFakeAzure()
})
afterAll(async () => {
  await fake.close()
})

describe('GitHubAssertion', () => {
  it.each([
    ['no request URL', { ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x' }],
    ['no request token', { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x' }],
    ['neither', {}]
  ])('without id-token: write (%s) fails clearly without asking anyone', async (_, e) => {
    fake.clearLog()
    const error = await new GitHubAssertion('api://AzureADTokenExchange', new RetryBudget(10), e)
      .get()
      .catch((x: unknown) => x)
    expect(error).toBeInstanceOf(MissingOidcPermissionError)
    expect((error as Error).message).toContain('id-token: write')
    expect(fake.requests).toEqual([])
  })

  it('asks for the audience, masks the token, and keeps only its claims', async () => {
    fake.clearLog()
    const assertion = new GitHubAssertion('api://custom', new RetryBudget(10), env())
    const token = await assertion.get()
    expect(fake.requests[0].query.audience).toBe('api://custom')
    expect(decodeClaims(token)?.aud).toBe('api://custom')
    expect(output.lines).toContain(`::add-mask::${token}`)
    expect(assertion.claims).toEqual({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      aud: 'api://custom',
      exp: expect.any(Number),
      nbf: expect.any(Number)
    })
  })

  it('reuses the token while valid (MSAL asks more than once), and asks again under a minute before expiry', async () => {
    fake.clearLog()
    const assertion = new GitHubAssertion('api://AzureADTokenExchange', new RetryBudget(10), env())
    const [a, b] = await Promise.all([assertion.get(), assertion.get()])
    expect(await assertion.get()).toBe(a)
    expect(b).toBe(a)
    expect(tokenRequests()).toBe(1)

    fake.setOidcClaims({ exp: Math.floor(Date.now() / 1000) + 30 })
    try {
      const expiring = new GitHubAssertion('api://AzureADTokenExchange', new RetryBudget(10), env())
      await expiring.get()
      await expiring.get()
      expect(tokenRequests()).toBe(3)
    } finally {
      fake.setOidcClaims({ exp: undefined })
    }
  })

  it('retries 5xx and dropped connections with warnings, within the budget', async () => {
    fake.clearLog()
    fake.addFault({ server: 'oidc', status: 503, times: 1 })
    fake.addFault({ server: 'oidc', drop: true, times: 1 })
    const token = await new GitHubAssertion('api://AzureADTokenExchange', new RetryBudget(30), env()).get()
    expect(token.split('.')).toHaveLength(3)
    expect(fake.requests.map((r) => r.status)).toEqual([503, 0, 200])
    expect(output.warnings()).toEqual([
      expect.stringMatching(/^GET \/token answered 503; retrying within the 30 s retry budget\.$/),
      expect.stringMatching(/^GET \/token failed \(ECONNRESET\); retrying/)
    ])
  })

  it("a 4xx is GitHub's refusal: not retried, and said with GitHub's words", async () => {
    fake.clearLog()
    const bad = { ...env(), ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'not-the-runners' }
    await expect(new GitHubAssertion('api://AzureADTokenExchange', new RetryBudget(10), bad).get()).rejects.toThrow(
      /^GitHub refused the OIDC token request \(HTTP 401: \{"message":"Unable to get ACTIONS_ID_TOKEN_REQUEST_URL/
    )
    expect(tokenRequests()).toBe(1)
  })

  it('ends when the budget is spent while GitHub keeps failing', async () => {
    fake.addFault({ server: 'oidc', status: 500, times: Infinity })
    try {
      const budget = new RetryBudget(2)
      const started = Date.now()
      const error = await new GitHubAssertion('api://AzureADTokenExchange', budget, env())
        .get()
        .catch((e: unknown) => e)
      expect(Date.now() - started).toBeLessThan(4000)
      expect((error as Error).name).toBe('OidcRequestError')
      expect(budget.expired).toBe(true)
      expect(budget.lastFailure).toBe('GET /token answered 500')
    } finally {
      fake.clearFaults()
    }
  })
})
