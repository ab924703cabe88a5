import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth'

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
const managedArgs: unknown[][] = []
class FakeManagedIdentityCredential {
  constructor(...args: unknown[]) {
    managedArgs.push(args)
  }
  getToken = jest.fn()
}
const cliArgs: unknown[][] = []
class FakeAzureCliCredential {
  constructor(...args: unknown[]) {
    cliArgs.push(args)
  }
  getToken = jest.fn()
}
jest.unstable_mockModule('@azure/identity', () => ({
  ClientAssertionCredential: FakeClientAssertionCredential,
  ManagedIdentityCredential: FakeManagedIdentityCredential,
  AzureCliCredential: FakeAzureCliCredential
}))

const { AzCliArmScope, SharedTokenCredential, SignInError, createCredential, signIn } =
  await import('../../src/signin/credential.js')
const { GitHubAssertion, MissingOidcPermissionError } = await import('../../src/signin/github-oidc.js')
const { RetryBudget } = await import('../../src/azure/http/budget.js')
const { inputs } = await import('../fixtures.js')
const { identitySource, keepIdentityEndpointOffProxy } = await import('../../src/signin/runner-identity.js')

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
  setSecret.mockReset()
  info.mockReset()
  warning.mockReset()
  credentialArgs.length = 0
  managedArgs.length = 0
  cliArgs.length = 0
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

describe('createCredential', () => {
  it('builds a ClientAssertionCredential for the tenant, client and cloud, shared', async () => {
    const s = inputs({
      cloud: { ...inputs().cloud, authorityHost: 'https://login.local', disableInstanceDiscovery: true }
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
    ).toEqual(['actionRetryBudget', 'actionTransientErrors', 'actionAttempt'])
    // The callback goes through the assertion (here: no OIDC env → the clear error).
    await expect(getAssertion()).rejects.toBeInstanceOf(MissingOidcPermissionError)
  })

  it('keeps instance discovery on for the public cloud', () => {
    createCredential(inputs(), new RetryBudget(30), {})
    expect((credentialArgs[0] as object[])[3]).toEqual(
      expect.objectContaining({ authorityHost: 'https://login.microsoftonline.com', disableInstanceDiscovery: false })
    )
  })
})

describe('signIn', () => {
  it('gets the ARM token for the cloud scope before any ARM call, and says who signed in', async () => {
    const s = inputs({ cloud: { ...inputs().cloud, armScope: 'https://management.usgovcloudapi.net/.default' } })
    const { inner, getToken } = fakeInner(async () => token('t'))
    await expect(signIn(inner, s, new RetryBudget(30))).resolves.toEqual({ tenantId: s.tenantId })
    expect(getToken).toHaveBeenCalledTimes(1)
    expect(getToken.mock.calls[0][0]).toBe('https://management.usgovcloudapi.net/.default')
    expect(info).toHaveBeenCalledWith(`Signed in to Entra ID as client ${s.clientId} (tenant ${s.tenantId}).`)
  })

  it('wraps a failure in SignInError naming the client, tenant and authority, keeping the cause', async () => {
    const s = inputs()
    const cause = new Error('AADSTS700213: No matching federated identity record found.')
    const { inner } = fakeInner(async () => Promise.reject(cause))
    const error = await signIn(inner, s, new RetryBudget(30)).catch((e: unknown) => e)
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
    await expect(signIn(inner, inputs(), new RetryBudget(30))).rejects.toThrow(/: plain text$/)
  })

  it('ends when the budget is spent, even if the credential never answers', async () => {
    const { inner } = fakeInner(() => new Promise<never>(() => undefined))
    const budget = new RetryBudget(1)
    const started = Date.now()
    const error = await signIn(inner, inputs(), budget).catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(error).toBeInstanceOf(SignInError)
    expect(((error as Error).cause as Error).name).toBe('AbortError')
    expect(budget.expired).toBe(true)
  })

  it("asks the credential with the budget's abort signal", async () => {
    const { inner, getToken } = fakeInner(async () => token('t'))
    const budget = new RetryBudget(30)
    await signIn(inner, inputs(), budget)
    expect(getToken.mock.calls[0][1]?.abortSignal).toBe(budget.signal)
  })
})

describe('sign-in without OIDC', () => {
  const jwtWith = (claims: object): string =>
    `${Buffer.from('{}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

  it('managed-identity: the runner identity by client id (or the system one), no OIDC, IMDS kept off any proxy', () => {
    const env: NodeJS.ProcessEnv = { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.corp' }
    const { credential, assertion } = createCredential(
      inputs({ authType: 'managed-identity', clientId: 'c1' }),
      new RetryBudget(30),
      env
    )
    expect(credential).toBeInstanceOf(SharedTokenCredential)
    expect(assertion).toBeUndefined()
    expect(managedArgs).toEqual([[{ clientId: 'c1' }]])
    expect(env.NO_PROXY).toBe('.corp,169.254.169.254')
    createCredential(inputs({ authType: 'managed-identity', clientId: '' }), new RetryBudget(30), {
      AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://10.0.0.5:2579'
    })
    expect(managedArgs[1]).toEqual([{}])
    expect(credentialArgs).toEqual([])
  })

  it('managed-identity: only IMDS is probed; a local identity endpoint is kept off the proxy list the SDK uses', () => {
    const none = (): boolean => false
    expect(identitySource({}, '', none)).toEqual({ endpoint: 'http://169.254.169.254', probe: true, imds: true })
    // Pod identity: not probed, as @azure/identity does not (imdsMsi.js), and kept off the proxy.
    expect(identitySource({ AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://10.0.0.5:2579/' }, '', none)).toEqual({
      endpoint: 'http://10.0.0.5:2579',
      probe: false,
      imds: true
    })
    const workload = { AZURE_TENANT_ID: 't', AZURE_FEDERATED_TOKEN_FILE: '/var/run/token' }
    expect(identitySource(workload, 'c1', none)).toEqual({ probe: false })
    expect(identitySource({ ...workload, AZURE_CLIENT_ID: 'c2' }, '', none)).toEqual({ probe: false })
    expect(identitySource(workload, '', none).probe).toBe(true) // no client id anywhere: not workload identity
    const appService = { IDENTITY_ENDPOINT: 'http://127.0.0.1:41741/msi/token', IDENTITY_HEADER: 'h' }
    expect(identitySource(appService, '', none)).toEqual({ endpoint: appService.IDENTITY_ENDPOINT, probe: false })
    expect(identitySource({ MSI_ENDPOINT: 'http://localhost:50342/oauth2/token' }, '', none).probe).toBe(false)
    if (process.platform === 'linux') {
      const arc = identitySource({}, '', (path) => path === '/opt/azcmagent/bin/himds')
      expect(arc).toEqual({ endpoint: 'http://127.0.0.1:40342', probe: false })
    }

    const env = (vars: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
      keepIdentityEndpointOffProxy(vars, identitySource(vars, '', none))
      return vars
    }
    // no_proxy is the list the SDK uses when NO_PROXY is empty: extended, not replaced.
    expect(env({ NO_PROXY: '', no_proxy: '.corp' }).NO_PROXY).toBe('.corp,169.254.169.254')
    expect(env({ NO_PROXY: '169.254.169.254' }).NO_PROXY).toBe('169.254.169.254')
    expect(env({ ...appService }).NO_PROXY).toBe('127.0.0.1')
    expect(env({ IDENTITY_ENDPOINT: 'https://10.1.2.3:2377/metadata/identity' }).NO_PROXY).toBeUndefined()
    expect(env({ ...workload, AZURE_CLIENT_ID: 'c' }).NO_PROXY).toBeUndefined()
  })

  it('azure-cli: the az session, with a timeout within the budget', () => {
    const { assertion } = createCredential(inputs({ authType: 'azure-cli', clientId: '' }), new RetryBudget(30), {})
    expect(assertion).toBeUndefined()
    expect(cliArgs).toEqual([[{ processTimeoutInMs: expect.any(Number) }]])
    expect((cliArgs[0][0] as { processTimeoutInMs: number }).processTimeoutInMs).toBeLessThanOrEqual(30_000)
  })

  it('the tenant comes from the token when no tenant-id was given, and the log says who signed in', async () => {
    const tenant = '99999999-0000-0000-0000-000000000009'
    const { inner } = fakeInner(async () => token(jwtWith({ tid: tenant })))
    const s = inputs({ authType: 'azure-cli', clientId: '', tenantId: '' })
    await expect(signIn(inner, s, new RetryBudget(30), {})).resolves.toEqual({ tenantId: tenant })
    expect(info).toHaveBeenCalledWith(`Signed in with the Azure CLI session (az) (tenant ${tenant}).`)
  })

  it('managed-identity: a pod-identity endpoint is not probed (as @azure/identity): the token is asked at once', async () => {
    const { inner, getToken } = fakeInner(async () => token(jwtWith({ tid: '99999999-0000-0000-0000-000000000009' })))
    const s = inputs({ authType: 'managed-identity', clientId: '', tenantId: '' })
    // Nothing listens on port 9: a probe would fail with ECONNREFUSED.
    await expect(
      signIn(inner, s, new RetryBudget(30), { AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:9' })
    ).resolves.toEqual({ tenantId: '99999999-0000-0000-0000-000000000009' })
    expect(getToken).toHaveBeenCalledTimes(1)
  })

  it('probeImds: an endpoint that refuses is no managed identity endpoint, named with the reason', async () => {
    const { probeImds, NoManagedIdentityEndpointError } = await import('../../src/signin/runner-identity.js')
    const error = await probeImds('http://127.0.0.1:9').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NoManagedIdentityEndpointError)
    expect((error as Error).message).toContain('http://127.0.0.1:9 (IMDS) could not be reached (ECONNREFUSED)')
  })
})

describe('AzCliArmScope', () => {
  it('asks az for its own ARM resource and passes other scopes through', async () => {
    const asked: string[][] = []
    const inner: TokenCredential = {
      getToken: async (scopes: string | string[]) => {
        asked.push([scopes].flat())
        return token('t')
      }
    }
    const az = new AzCliArmScope(
      inner,
      'https://management.azure.com/.default',
      'https://management.core.windows.net//.default'
    )
    await az.getToken('https://management.azure.com/.default')
    await az.getToken(['https://vault.azure.net/.default'])
    expect(asked).toEqual([['https://management.core.windows.net//.default'], ['https://vault.azure.net/.default']])
  })
})

describe('probeImds', () => {
  it('a 403 saying the network is unreachable (Docker Desktop) means no IMDS; another answer means IMDS', async () => {
    const { createServer } = await import('node:http')
    const { probeImds, NoManagedIdentityEndpointError } = await import('../../src/signin/runner-identity.js')
    let status = 403
    const server = createServer((_, res) => {
      res.writeHead(status).end('A socket operation was attempted to an unreachable network.')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const host = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    try {
      await expect(probeImds(host)).rejects.toBeInstanceOf(NoManagedIdentityEndpointError)
      status = 400
      await expect(probeImds(host)).resolves.toBeUndefined()
    } finally {
      server.close()
    }
  })
})
