import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth'

// GitHubAssertion asks the runner's OIDC endpoint with fetch, as core.getIDToken would.
const fetchMock = jest.fn<typeof fetch>()
globalThis.fetch = fetchMock
const answer = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status })
const setSecret = jest.fn<(s: string) => void>()
const info = jest.fn<(m: string) => void>()
const warning = jest.fn<(m: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({
  setSecret,
  info,
  debug: jest.fn(),
  warning
}))

const credentialArgs: unknown[][] = []
class FakeClientAssertionCredential {
  constructor(...args: unknown[]) {
    credentialArgs.push(args)
  }
  getToken = jest.fn()
}
jest.unstable_mockModule('@azure/identity', () => ({ ClientAssertionCredential: FakeClientAssertionCredential }))

const {
  SharedTokenCredential,
  GitHubAssertion,
  MissingOidcPermissionError,
  OidcRequestError,
  SignInError,
  decodeClaims,
  createCredential,
  signIn
} = await import('../src/credential.js')
const { RetryBudget } = await import('../src/azure/pipeline.js')
const { settings } = await import('./fixtures.js')

const SCOPE = 'https://management.azure.com/.default'

type GetToken = (scopes: string | string[], options?: GetTokenOptions) => Promise<AccessToken | null>

function fakeInner(make: (n: number) => Promise<AccessToken | null>) {
  let n = 0
  const getToken = jest.fn<GetToken>(() => make(++n))
  return { inner: { getToken } satisfies TokenCredential, getToken }
}

const token = (value: string, lifetimeMs = 3600_000): AccessToken => ({
  token: value,
  expiresOnTimestamp: Date.now() + lifetimeMs
})

/** A promise resolved by hand, to hold a request in flight. */
function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

beforeEach(() => {
  fetchMock.mockReset()
  setSecret.mockReset()
  info.mockReset()
  warning.mockReset()
  credentialArgs.length = 0
})

describe('SharedTokenCredential', () => {
  it('de-duplicates concurrent getToken calls into one inner call', async () => {
    const pending = deferred<AccessToken | null>()
    const { inner, getToken } = fakeInner(() => pending.promise)
    const shared = new SharedTokenCredential(inner)
    const calls = [shared.getToken(SCOPE), shared.getToken([SCOPE]), shared.getToken(SCOPE, { enableCae: true })]
    pending.resolve(token('t1'))
    const results = await Promise.all(calls)
    expect(getToken).toHaveBeenCalledTimes(1)
    expect(results.map((r) => r?.token)).toEqual(['t1', 't1', 't1'])
  })

  it('serves a fresh cached token to later callers', async () => {
    const { inner, getToken } = fakeInner(async (n) => token(`t${n}`))
    const shared = new SharedTokenCredential(inner)
    expect((await shared.getToken(SCOPE))?.token).toBe('t1')
    expect((await shared.getToken(SCOPE))?.token).toBe('t1')
    expect(getToken).toHaveBeenCalledTimes(1)
  })

  it('keeps one token per scope', async () => {
    const { inner, getToken } = fakeInner(async (n) => token(`t${n}`))
    const shared = new SharedTokenCredential(inner)
    const [a, b] = await Promise.all([
      shared.getToken(SCOPE),
      shared.getToken('https://management.usgovcloudapi.net/.default')
    ])
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(a?.token).not.toBe(b?.token)
  })

  it('refetches when the cached token is near expiry (under two minutes left)', async () => {
    const { inner, getToken } = fakeInner(async (n) => token(`t${n}`, n === 1 ? 60_000 : 3600_000))
    const shared = new SharedTokenCredential(inner)
    expect((await shared.getToken(SCOPE))?.token).toBe('t1')
    expect((await shared.getToken(SCOPE))?.token).toBe('t2')
    expect((await shared.getToken(SCOPE))?.token).toBe('t2')
    expect(getToken).toHaveBeenCalledTimes(2)
  })

  it('shares one refresh between concurrent callers of a near-expiry token', async () => {
    const { inner, getToken } = fakeInner(async (n) => token(`t${n}`, n === 1 ? 60_000 : 3600_000))
    const shared = new SharedTokenCredential(inner)
    await shared.getToken(SCOPE)
    const results = await Promise.all([shared.getToken(SCOPE), shared.getToken(SCOPE), shared.getToken(SCOPE)])
    expect(results.map((r) => r?.token)).toEqual(['t2', 't2', 't2'])
    expect(getToken).toHaveBeenCalledTimes(2)
  })

  it('never serves a claims challenge from the cache', async () => {
    const { inner, getToken } = fakeInner(async (n) => token(`t${n}`))
    const shared = new SharedTokenCredential(inner)
    await shared.getToken(SCOPE)
    const challenged = await shared.getToken(SCOPE, { claims: '{"access_token":{"nbf":{"essential":true}}}' })
    expect(challenged?.token).toBe('t2')
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(getToken.mock.calls[1][1]?.claims).toBe('{"access_token":{"nbf":{"essential":true}}}')
  })

  it('does not cache a failure: the next call tries again', async () => {
    const { inner, getToken } = fakeInner(async (n) => {
      if (n === 1) throw new Error('AADSTS50000: transient')
      return token(`t${n}`)
    })
    const shared = new SharedTokenCredential(inner)
    await expect(shared.getToken(SCOPE)).rejects.toThrow('transient')
    expect((await shared.getToken(SCOPE))?.token).toBe('t2')
    expect(getToken).toHaveBeenCalledTimes(2)
  })

  it("does not pass one caller's abort signal to the shared request", async () => {
    const { inner, getToken } = fakeInner(async () => token('t'))
    const shared = new SharedTokenCredential(inner)
    await shared.getToken(SCOPE, { abortSignal: new AbortController().signal, tenantId: 'x' })
    expect(getToken.mock.calls[0][1]?.abortSignal).toBeUndefined()
    expect(getToken.mock.calls[0][1]?.tenantId).toBe('x')
  })

  it('masks every token it hands out', async () => {
    const { inner } = fakeInner(async () => token('secret-arm-token'))
    await new SharedTokenCredential(inner).getToken(SCOPE)
    expect(setSecret).toHaveBeenCalledWith('secret-arm-token')
  })
})

describe('GitHubAssertion', () => {
  const env = {
    ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.example/?x=1',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token'
  }
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const oidc = `${part({ alg: 'RS256' })}.${part({ iss: 'https://token.actions.githubusercontent.com', sub: 'repo:o/r:ref:refs/heads/main', aud: 'api://AzureADTokenExchange', exp: 2, nbf: 1, jti: 'j' })}.sig`

  it.each([
    ['no request URL', { ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x' }],
    ['no request token', { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x' }],
    ['neither', {}]
  ])('fails with MissingOidcPermissionError (%s) without asking GitHub', async (_, e) => {
    const assertion = new GitHubAssertion('api://AzureADTokenExchange', e)
    const error = await assertion.get().catch((x: unknown) => x)
    expect(error).toBeInstanceOf(MissingOidcPermissionError)
    expect((error as Error).message).toContain('id-token: write')
    expect(fetchMock).not.toHaveBeenCalled()
  })

  it('asks GitHub for a token with the audience and remembers only its claims', async () => {
    fetchMock.mockResolvedValue(answer(200, { value: oidc }))
    const assertion = new GitHubAssertion('api://custom', env)
    await expect(assertion.get()).resolves.toBe(oidc)
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('https://token.example/?x=1&audience=api%3A%2F%2Fcustom')
    expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer request-token')
    expect(setSecret).toHaveBeenCalledWith(oidc)
    expect(assertion.claims).toEqual({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:o/r:ref:refs/heads/main',
      aud: 'api://AzureADTokenExchange',
      exp: 2,
      nbf: 1
    })
    expect(assertion.claims).not.toHaveProperty('jti')
  })

  it('reuses the GitHub token while it is valid (MSAL asks more than once per sign-in)', async () => {
    const now = Math.floor(Date.now() / 1000)
    const fresh = `${part({})}.${part({ sub: 's', exp: now + 600 })}.sig`
    fetchMock.mockImplementation(async () => answer(200, { value: fresh }))
    const assertion = new GitHubAssertion('api://AzureADTokenExchange', env)
    const [a, b] = await Promise.all([assertion.get(), assertion.get()])
    expect(await assertion.get()).toBe(fresh)
    expect([a, b]).toEqual([fresh, fresh])
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('asks GitHub again when the token has under a minute left', async () => {
    const now = Math.floor(Date.now() / 1000)
    const expiring = `${part({})}.${part({ sub: 'old', exp: now + 30 })}.sig`
    const fresh = `${part({})}.${part({ sub: 'new', exp: now + 600 })}.sig`
    fetchMock
      .mockResolvedValueOnce(answer(200, { value: expiring }))
      .mockResolvedValueOnce(answer(200, { value: fresh }))
    const assertion = new GitHubAssertion('api://AzureADTokenExchange', env)
    expect(await assertion.get()).toBe(expiring)
    expect(await assertion.get()).toBe(fresh)
    expect(assertion.claims?.sub).toBe('new')
    expect(fetchMock).toHaveBeenCalledTimes(2)
  })

  it('does not keep a failed request: the next call asks again', async () => {
    fetchMock.mockResolvedValueOnce(answer(403, { message: 'no' })).mockResolvedValueOnce(answer(200, { value: oidc }))
    const assertion = new GitHubAssertion('api://AzureADTokenExchange', env)
    await expect(assertion.get()).rejects.toThrow('GitHub refused the OIDC token request (HTTP 403: {"message":"no"})')
    await expect(assertion.get()).resolves.toBe(oidc)
    expect(fetchMock).toHaveBeenCalledTimes(2)
  })
})

describe('decodeClaims', () => {
  it('returns undefined for something that is not a JWT', () => {
    expect(decodeClaims('not a jwt')).toBeUndefined()
    expect(decodeClaims('a.!!!.c')).toBeUndefined()
  })

  it('keeps array audiences', () => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    expect(decodeClaims(`x.${part({ aud: ['a', 'b'] })}.y`)?.aud).toEqual(['a', 'b'])
  })
})

describe('createCredential', () => {
  it('builds a ClientAssertionCredential for the tenant, client and cloud, shared', async () => {
    const s = settings({
      cloud: { ...settings().cloud, authorityHost: 'https://login.local', disableInstanceDiscovery: true }
    })
    const { credential, assertion } = createCredential(s, new RetryBudget(30), {})
    expect(credential).toBeInstanceOf(SharedTokenCredential)
    expect(assertion).toBeInstanceOf(GitHubAssertion)
    expect(credentialArgs).toHaveLength(1)
    const [tenant, client, getAssertion, options] = credentialArgs[0] as [string, string, () => Promise<string>, object]
    expect(tenant).toBe(s.tenantId)
    expect(client).toBe(s.clientId)
    expect(options).toEqual(
      expect.objectContaining({ authorityHost: 'https://login.local', disableInstanceDiscovery: true })
    )
    // The token requests share the run's retry budget and request log.
    expect(
      (options as { additionalPolicies?: { policy: { name: string } }[] }).additionalPolicies?.map((p) => p.policy.name)
    ).toEqual(['actionRetryBudget', 'actionAttemptLog'])
    // The callback goes through the assertion (here: no OIDC env → the clear error).
    await expect(getAssertion()).rejects.toBeInstanceOf(MissingOidcPermissionError)
  })

  it('keeps instance discovery on for the public cloud', () => {
    createCredential(settings(), new RetryBudget(30), {})
    expect((credentialArgs[0] as object[])[3]).toEqual(
      expect.objectContaining({ authorityHost: 'https://login.microsoftonline.com', disableInstanceDiscovery: false })
    )
  })
})

describe('signIn', () => {
  it('gets the ARM token for the cloud scope before any ARM call, and says who signed in', async () => {
    const s = settings({ cloud: { ...settings().cloud, armScope: 'https://management.usgovcloudapi.net/.default' } })
    const { inner, getToken } = fakeInner(async () => token('t'))
    await expect(signIn(inner, s)).resolves.toBeUndefined()
    expect(getToken).toHaveBeenCalledTimes(1)
    expect(getToken.mock.calls[0][0]).toBe('https://management.usgovcloudapi.net/.default')
    expect(info).toHaveBeenCalledWith(`Signed in to Entra ID as client ${s.clientId} (tenant ${s.tenantId}).`)
  })

  it('wraps a failure in SignInError naming the client, tenant and authority, keeping the cause', async () => {
    const s = settings()
    const cause = new Error('AADSTS700213: No matching federated identity record found.')
    const { inner } = fakeInner(async () => Promise.reject(cause))
    const error = await signIn(inner, s).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SignInError)
    expect((error as Error).name).toBe('SignInError')
    expect((error as Error).cause).toBe(cause)
    expect((error as Error).message).toBe(
      `Could not sign in to Entra ID as client ${s.clientId} in tenant ${s.tenantId} (https://login.microsoftonline.com): AADSTS700213: No matching federated identity record found.`
    )
    expect(info).not.toHaveBeenCalled()
  })

  it('words a non-Error failure too', async () => {
    // A non-Error rejection on purpose: SignInError must still word it.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const { inner } = fakeInner(async () => Promise.reject('plain text'))
    await expect(signIn(inner, settings())).rejects.toThrow(/: plain text$/)
  })
})

describe('GitHubAssertion: retries of the OIDC request', () => {
  const env = {
    ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.example/?x=1',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token'
  }
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const oidc = `${part({ alg: 'RS256' })}.${part({ sub: 'repo:o/r:ref:refs/heads/main', exp: Math.floor(Date.now() / 1000) + 600 })}.sig`

  describe('with fake timers', () => {
    beforeEach(() => {
      jest.useFakeTimers({ now: Date.now() })
    })
    afterEach(() => {
      jest.useRealTimers()
    })

    it('retries a 5xx once after a second, with a warning, then returns the token', async () => {
      fetchMock
        .mockResolvedValueOnce(answer(503, { message: 'busy' }))
        .mockResolvedValueOnce(answer(200, { value: oidc }))
      const result = new GitHubAssertion('api://AzureADTokenExchange', env).get()
      await jest.advanceTimersByTimeAsync(1000)
      await expect(result).resolves.toBe(oidc)
      expect(fetchMock).toHaveBeenCalledTimes(2)
      expect(warning).toHaveBeenCalledTimes(1)
      expect(warning).toHaveBeenCalledWith('The GitHub OIDC token request failed (HTTP 503); retry 1.')
    })

    it('gives up after 6 tries of a failing server', async () => {
      fetchMock.mockImplementation(async () => answer(500, {}))
      const result = new GitHubAssertion('api://AzureADTokenExchange', env).get().catch((e: unknown) => e)
      await jest.advanceTimersByTimeAsync(60_000)
      const error = await result
      expect(error).toBeInstanceOf(OidcRequestError)
      expect((error as Error).message).toBe('The GitHub OIDC token request kept failing (HTTP 500) after 6 tries.')
      expect(fetchMock).toHaveBeenCalledTimes(6)
      expect(warning).toHaveBeenCalledTimes(5)
    })

    it('backs off 1 s, 2 s, 4 s … between tries', async () => {
      fetchMock.mockImplementation(async () => answer(502, {}))
      const result = new GitHubAssertion('api://AzureADTokenExchange', env).get().catch((e: unknown) => e)
      await jest.advanceTimersByTimeAsync(0)
      expect(fetchMock).toHaveBeenCalledTimes(1)
      await jest.advanceTimersByTimeAsync(999)
      expect(fetchMock).toHaveBeenCalledTimes(1)
      await jest.advanceTimersByTimeAsync(1)
      expect(fetchMock).toHaveBeenCalledTimes(2)
      await jest.advanceTimersByTimeAsync(1999)
      expect(fetchMock).toHaveBeenCalledTimes(2)
      await jest.advanceTimersByTimeAsync(1)
      expect(fetchMock).toHaveBeenCalledTimes(3)
      await jest.advanceTimersByTimeAsync(60_000)
      await result
    })

    it('retries 429 and network errors', async () => {
      fetchMock
        .mockResolvedValueOnce(answer(429, {}))
        .mockRejectedValueOnce(new TypeError('fetch failed'))
        .mockResolvedValueOnce(answer(200, { value: oidc }))
      const result = new GitHubAssertion('api://AzureADTokenExchange', env).get()
      await jest.advanceTimersByTimeAsync(10_000)
      await expect(result).resolves.toBe(oidc)
      expect(fetchMock).toHaveBeenCalledTimes(3)
      expect(warning.mock.calls.map(([m]) => m)).toEqual([
        'The GitHub OIDC token request failed (HTTP 429); retry 1.',
        'The GitHub OIDC token request failed (fetch failed); retry 2.'
      ])
    })

    it('names the last failure when a network error outlasts every try', async () => {
      fetchMock.mockRejectedValue(new TypeError('getaddrinfo ENOTFOUND token.example'))
      const result = new GitHubAssertion('api://AzureADTokenExchange', env).get().catch((e: unknown) => e)
      await jest.advanceTimersByTimeAsync(60_000)
      expect(((await result) as Error).message).toBe(
        'The GitHub OIDC token request kept failing (getaddrinfo ENOTFOUND token.example) after 6 tries.'
      )
      expect(fetchMock).toHaveBeenCalledTimes(6)
    })
  })

  it.each([400, 401, 403, 404])('does not retry HTTP %s', async (status) => {
    fetchMock.mockResolvedValue(answer(status, {}))
    const error = await new GitHubAssertion('api://AzureADTokenExchange', env).get().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OidcRequestError)
    // The request URL exists, so the job has id-token: write: the message quotes GitHub instead.
    expect((error as Error).message).toBe(
      `GitHub refused the OIDC token request (HTTP ${status}: {}). Check the 'audience' input and that ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are the runner's own.`
    )
    expect(fetchMock).toHaveBeenCalledTimes(1)
    expect(warning).not.toHaveBeenCalled()
  })

  it.each([
    ['no value', {}],
    ['an empty value', { value: '' }],
    ['a non-string value', { value: 42 }]
  ])('does not retry a 200 with %s', async (_, body) => {
    fetchMock.mockResolvedValue(answer(200, body))
    const error = await new GitHubAssertion('api://AzureADTokenExchange', env).get().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OidcRequestError)
    expect((error as Error).message).toBe('GitHub answered the OIDC token request without a token.')
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('stops at once when the run aborts (retry budget spent)', async () => {
    const controller = new AbortController()
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' })
    fetchMock.mockImplementation(async () => {
      controller.abort()
      throw abort
    })
    const error = await new GitHubAssertion('api://AzureADTokenExchange', env, controller.signal)
      .get()
      .catch((e: unknown) => e)
    expect(error).toBe(abort)
    expect(fetchMock).toHaveBeenCalledTimes(1)
    expect(fetchMock.mock.calls[0][1]?.signal).toBe(controller.signal)
    expect(warning).not.toHaveBeenCalled()
  })
})
