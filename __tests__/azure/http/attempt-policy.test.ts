// The per-attempt policy with a stand-in for the rest of the pipeline (`next`): what it retries,
// how often, what it records and what it says.
import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { PipelineRequest, PipelineResponse, SendRequest } from '@azure/core-rest-pipeline'

const warning = jest.fn<(m: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({ warning, info: jest.fn(), debug: jest.fn() }))

const { createHttpHeaders, createPipelineRequest } = await import('@azure/core-rest-pipeline')
const { attemptPolicy, NetworkError, UNREACHABLE_TRIES, hadUnansweredAttempt } =
  await import('../../../src/azure/http/attempt-policy.js')
const { RetryBudget } = await import('../../../src/azure/http/budget.js')

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
    expect(hadUnansweredAttempt(request)).toBe(true)
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
