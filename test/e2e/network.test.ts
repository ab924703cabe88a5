// The network between the runner and Azure: a forward proxy on a self-hosted runner, an Entra ID
// that stays down, hosts that cannot be resolved or refuse connections, and certificates nobody
// trusts. Every path obeys 'retry-timeout' and ends in one `::error::` that names what happened.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { PROXIED_HOSTS, startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction, targetInputs, type ActionRun } from './run-action.ts'

const RG = 'net-rg'
let fake: FakeAzure
let counter = 0

beforeAll(async () => {
  fake = await startFakeAzure()
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())

function seed(on: FakeAzure = fake): Record<string, string> {
  counter++
  on.addSite({ resourceGroup: RG, name: `app-${counter}` })
  on.addVault({ resourceGroup: RG, name: `kv-net-${counter}` })
  return targetInputs(RG, `app-${counter}`, `kv-net-${counter}`)
}

function failed(run: ActionRun): string {
  expect(run.exitCode).toBe(1)
  expect(run.stdout.split('\n').filter((l) => l.startsWith('::error'))).toHaveLength(1)
  return run.error
}

describe('a self-hosted runner behind a forward proxy', () => {
  let proxied: FakeAzure
  beforeAll(async () => {
    proxied = await startFakeAzure({ proxy: true })
  })
  afterAll(async () => proxied?.close())

  it('signs in and grants with OIDC, Entra ID and ARM all through HTTPS_PROXY (the hosts resolve nowhere else)', async () => {
    const inputs = seed(proxied)
    proxied.clearLog()
    const run = await runAction(proxied, inputs)
    expect(run.error).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs.changed).toBe('true')
    const through = proxied.proxy!.log.map((e) => `${e.method} ${e.target} ${e.status}`)
    expect(through).toContain(`GET ${PROXIED_HOSTS.oidc}:80 200`)
    expect(through).toContain(`CONNECT ${PROXIED_HOSTS.entra}:443 200`)
    expect(through).toContain(`CONNECT ${PROXIED_HOSTS.arm}:443 200`)
    expect(through.every((line) => line.endsWith(' 200'))).toBe(true)
    // Every request the fake saw came through the proxy: one tunnel or forward per request.
    expect(proxied.proxy!.log).toHaveLength(proxied.requests.length)
  })

  it('without HTTPS_PROXY the same run fails at once, naming the host that could not be resolved', async () => {
    const inputs = seed(proxied)
    const run = await runAction(proxied, { ...inputs, 'retry-timeout': '60' }, { env: { HTTPS_PROXY: undefined } })
    const error = failed(run)
    expect(run.durationMs).toBeLessThan(20_000)
    expect(error).toMatch(
      new RegExp(
        `the host name ${PROXIED_HOSTS.oidc.replaceAll('.', '\\.')} could not be resolved \\((ENOTFOUND|EAI_AGAIN)\\)`
      )
    )
    expect(error).toContain('set HTTPS_PROXY')
  })

  it('a proxy that asks for credentials gets them from HTTPS_PROXY; they never reach the log, even in debug', async () => {
    const password = 'pr0xy-S3cret!'
    const guarded = await startFakeAzure({ proxy: true, proxyAuth: { user: 'runner', password } })
    try {
      const inputs = seed(guarded)
      const run = await runAction(guarded, inputs, { env: { RUNNER_DEBUG: '1' } })
      expect(run.error).toBe('')
      expect(run.exitCode).toBe(0)
      expect(guarded.proxy!.log.every((e) => e.status === 200)).toBe(true)
      expect(run.stdout).toMatch(/^::debug::.*Request/m) // the SDK's own logs were on
      const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => !l.startsWith('::add-mask::'))
      expect(lines.filter((l) => l.includes(password) || l.includes(encodeURIComponent(password)))).toEqual([])
      expect(run.stdout).toContain(`::add-mask::${password}`)
    } finally {
      await guarded.close()
    }
  })

  it('a proxy that cannot be reached is named as the proxy, not as the host behind it', async () => {
    const inputs = seed(proxied)
    const run = await runAction(
      proxied,
      { ...inputs, 'retry-timeout': '60' },
      { env: { HTTPS_PROXY: 'http://127.0.0.1:9' } }
    )
    const error = failed(run)
    expect(error).toContain('the proxy http://127.0.0.1:9 itself could not be reached')
    expect(error).toContain('(ECONNREFUSED)')
    expect(run.durationMs).toBeLessThan(20_000)
  })

  it('NO_PROXY naming the hosts sends them direct, as the Azure SDK reads it', async () => {
    const inputs = seed(proxied)
    const run = await runAction(
      proxied,
      { ...inputs, 'retry-timeout': '60' },
      { env: { NO_PROXY: '.fake-azure.invalid' } }
    )
    expect(failed(run)).toMatch(/could not be resolved \((ENOTFOUND|EAI_AGAIN)\)/)
  })
})

describe('sign-in obeys retry-timeout and says what the network said', () => {
  it('an Entra ID that keeps answering 503 ends after retry-timeout naming the last failure', async () => {
    const down = await startFakeAzure()
    try {
      down.addFault({ server: 'entra', status: 503, times: Infinity })
      const run = await runAction(down, { ...seed(down), 'retry-timeout': '6' })
      const error = failed(run)
      expect(run.durationMs).toBeLessThan(15_000)
      expect(error).toMatch(
        /^Could not sign in to Entra ID as client .* gave up after 6 s of retries \(input 'retry-timeout'\): GET \/.*\/openid-configuration answered 503\./
      )
      expect(error).not.toContain('no request failed')
    } finally {
      await down.close()
    }
  })

  it('an Entra ID that drops every connection ends after retry-timeout too', async () => {
    const down = await startFakeAzure()
    try {
      down.addFault({ server: 'entra', drop: true, times: Infinity })
      const run = await runAction(down, { ...seed(down), 'retry-timeout': '6' })
      expect(failed(run)).toMatch(/gave up after 6 s of retries .*failed: ECONNRESET\./)
      expect(run.durationMs).toBeLessThan(15_000)
    } finally {
      await down.close()
    }
  })

  it('an authority host that cannot be resolved is named, not called "tenant not found"', async () => {
    const run = await runAction(fake, {
      ...seed(),
      'authority-host': 'https://login.nowhere.invalid',
      'retry-timeout': '60'
    })
    const error = failed(run)
    expect(error).toMatch(
      /^Sign-in failed: could not reach Entra ID at https:\/\/login\.nowhere\.invalid: the host name login\.nowhere\.invalid could not be resolved \((ENOTFOUND|EAI_AGAIN)\)\./
    )
    expect(error).not.toContain('AADSTS90002')
    expect(run.durationMs).toBeLessThan(20_000)
  })

  it('an authority host that refuses connections is named with its port', async () => {
    const run = await runAction(fake, { ...seed(), 'authority-host': 'https://127.0.0.1:9', 'retry-timeout': '60' })
    expect(failed(run)).toContain(
      'could not reach Entra ID at https://127.0.0.1:9: 127.0.0.1:9 refused the connection (ECONNREFUSED).'
    )
    expect(run.durationMs).toBeLessThan(20_000)
  })

  it('an authority host whose certificate is not trusted says so, and how to trust it', async () => {
    const untrusted = await fake.startUntrusted('entra')
    const run = await runAction(fake, { ...seed(), 'authority-host': untrusted, 'retry-timeout': '60' })
    const error = failed(run)
    expect(error).toContain(
      `the TLS certificate of ${new URL(untrusted).host} is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`
    )
    expect(error).toContain('NODE_EXTRA_CA_CERTS')
    expect(run.durationMs).toBeLessThan(10_000)
  })

  it('a GitHub OIDC endpoint that keeps failing ends after retry-timeout', async () => {
    const down = await startFakeAzure()
    try {
      down.addFault({ server: 'oidc', status: 502, times: Infinity })
      const run = await runAction(down, { ...seed(down), 'retry-timeout': '5' })
      expect(failed(run)).toMatch(
        /^Could not sign in to Entra ID .*gave up after 5 s of retries .*: GET \/token answered 502\./
      )
      expect(run.durationMs).toBeLessThan(15_000)
    } finally {
      await down.close()
    }
  })
})

describe('an unreachable arm-endpoint is not throttling', () => {
  it.each([
    ['refuses connections', 'https://127.0.0.1:9', '127.0.0.1:9 refused the connection (ECONNREFUSED)'],
    [
      'cannot be resolved',
      'https://management.nowhere.invalid',
      'the host name management.nowhere.invalid could not be resolved (E' // ENOTFOUND, or EAI_AGAIN without DNS
    ]
  ])('one that %s is retried briefly, then named', async (_, endpoint, said) => {
    const run = await runAction(fake, { ...seed(), 'arm-endpoint': endpoint, 'retry-timeout': '300' })
    const error = failed(run)
    expect(error).toContain(said)
    expect(error).not.toMatch(/throttl/)
    expect(run.durationMs).toBeLessThan(20_000)
  })
})
