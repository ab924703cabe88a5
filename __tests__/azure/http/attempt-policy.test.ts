// The per-attempt policy with a stand-in for the rest of the pipeline (`next`): what it retries,
// how often, what it records and what it says.
import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { PipelineRequest, PipelineResponse, SendRequest } from '@azure/core-rest-pipeline'

const warning = jest.fn<(m: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({ warning, info: jest.fn(), debug: jest.fn() }))

const { createHttpHeaders, createPipelineRequest } = await import('@azure/core-rest-pipeline')
const { attemptPolicy, NetworkError, UNREACHABLE_TRIES, hadUnclearAttempt } =
  await import('../../../src/azure/http/attempt-policy.js')
const { RetryBudget } = await import('../../../src/azure/http/budget.js')
const { NotCarriedOutError, retryAfterMs, UnknownOutcomeError } = await import('../../../src/azure/http/replay.js')

const URL_ = 'https://management.example.com/subscriptions/s'
const systemError = (code: string) => Object.assign(new Error(`connect ${code}`), { code })
const ok = (request: PipelineRequest): PipelineResponse => ({ request, status: 200, headers: createHttpHeaders() })

/** Sends one attempt through the policy; `answer` plays the network. */
async function attempt(
  budget: InstanceType<typeof RetryBudget>,
  answer: SendRequest,
  request = createPipelineRequest({ url: URL_ })
) {
  const policy = attemptPolicy(budget)
  return policy.sendRequest(request, answer).then(
    (response) => ({ response, error: undefined as unknown }),
    (error: unknown) => ({ response: undefined, error })
  )
}

beforeEach(() => {
  warning.mockReset()
})

describe('unreachable hosts', () => {
  it.each(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'])(
    '%s: handed to the SDK as a retryable error, then a NetworkError on the last try',
    async (code) => {
      const budget = new RetryBudget(60)
      const policy = attemptPolicy(budget)
      const fail: SendRequest = async () => Promise.reject(systemError(code))
      const errors: unknown[] = []
      for (let i = 0; i < UNREACHABLE_TRIES; i++) {
        errors.push(await policy.sendRequest(createPipelineRequest({ url: URL_ }), fail).catch((e: unknown) => e))
      }
      // Every try but the last is one the SDK's retry policy retries (a system code it knows).
      for (const error of errors.slice(0, -1)) expect((error as { code?: string }).code).toBe('ECONNREFUSED')
      expect(errors.at(-1)).toBeInstanceOf(NetworkError)
      expect((errors.at(-1) as Error).message).toContain(`(${code})`)
      expect(warning).toHaveBeenCalledTimes(UNREACHABLE_TRIES - 1)
      expect(budget.network.get('https://management.example.com')).toMatchObject({ code })
    }
  )

  it('an untrusted certificate is not retried at all', async () => {
    const budget = new RetryBudget(60)
    const { error } = await attempt(budget, async () => Promise.reject(systemError('SELF_SIGNED_CERT_IN_CHAIN')))
    expect(error).toBeInstanceOf(NetworkError)
    expect(warning).not.toHaveBeenCalled()
  })

  it('an answer from the host forgets what failed before: an old failure never explains a later one', async () => {
    const budget = new RetryBudget(60)
    await attempt(budget, async () => Promise.reject(systemError('ECONNREFUSED')))
    expect(budget.network.size).toBe(1)
    await attempt(budget, async (request) => ok(request))
    expect(budget.network.size).toBe(0)
  })
})

describe('other failures', () => {
  it('a dropped connection is retried for the budget and remembered as an unanswered attempt', async () => {
    const budget = new RetryBudget(60)
    const request = createPipelineRequest({ url: URL_, method: 'DELETE' })
    const { error } = await attempt(budget, async () => Promise.reject(systemError('ECONNRESET')), request)
    expect((error as { code?: string }).code).toBe('ECONNRESET')
    expect(hadUnclearAttempt(request)).toBe(true)
    expect(warning.mock.calls[0][0]).toMatch(/failed \(ECONNRESET\); retrying within the 60 s retry budget/)
  })

  it('an error the SDK will not retry is passed on without claiming a retry', async () => {
    const budget = new RetryBudget(60)
    const odd = systemError('ERR_SOMETHING_ELSE')
    const { error } = await attempt(budget, async () => Promise.reject(odd))
    expect(error).toBe(odd)
    expect(warning).not.toHaveBeenCalled()
  })
})

describe('a write built from a read is never handed back for a replay', () => {
  const SITE = 'https://management.example.com/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/app'
  const patch = () => createPipelineRequest({ url: SITE, method: 'PATCH' })
  const answered =
    (status: number, body?: unknown, headers: Record<string, string> = {}): SendRequest =>
    async (request) => ({
      request,
      status,
      headers: createHttpHeaders(headers),
      bodyAsText: body === undefined ? undefined : JSON.stringify(body)
    })

  it('a 503 is an unknown outcome that keeps Azure’s code and words', async () => {
    const { error } = await attempt(
      new RetryBudget(60),
      answered(503, { error: { code: 'ServiceBusy', message: 'Upgrading.' } }),
      patch()
    )
    expect(error).toBeInstanceOf(UnknownOutcomeError)
    expect((error as Error).message).toBe(
      `PATCH ${new URL(SITE).pathname}: answered 503 (ServiceBusy: Upgrading.); whether Azure carried it out is unknown`
    )
  })

  it('501 and 505 are final answers, passed on as they are', async () => {
    for (const status of [501, 505]) {
      const { response, error } = await attempt(new RetryBudget(60), answered(status), patch())
      expect(error).toBeUndefined()
      expect(response?.status).toBe(status)
    }
  })

  it('a 429 was not carried out: the caller waits what Retry-After says, then reads again', async () => {
    const { error } = await attempt(new RetryBudget(60), answered(429, undefined, { 'retry-after': '7' }), patch())
    expect(error).toBeInstanceOf(NotCarriedOutError)
    expect((error as InstanceType<typeof NotCarriedOutError>).waitMs).toBe(7000)
  })

  it('an unreachable host: not sent, so not carried out (never an unknown outcome)', async () => {
    const { error } = await attempt(
      new RetryBudget(60),
      async () => Promise.reject(systemError('EHOSTUNREACH')),
      patch()
    )
    expect(error).toBeInstanceOf(NotCarriedOutError)
  })

  it('a lost answer is an unknown outcome', async () => {
    const { error } = await attempt(new RetryBudget(60), async () => Promise.reject(systemError('ECONNRESET')), patch())
    expect(error).toBeInstanceOf(UnknownOutcomeError)
  })
})

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates; nothing else', () => {
    expect(retryAfterMs('3')).toBe(3000)
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000)
    expect(retryAfterMs(undefined)).toBeUndefined()
    expect(retryAfterMs('soon')).toBeUndefined()
    expect(retryAfterMs('-1')).toBeUndefined()
  })
})
