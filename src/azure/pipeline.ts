// What every Azure client shares: the endpoint, the cloud's token scope, the run's retry budget,
// and one log line per request attempt (method, path, status, time; never headers or tokens).
import * as core from '@actions/core'
import type { ClientOptions } from '@azure-rest/core-client'
import { type PipelinePolicy, RestError } from '@azure/core-rest-pipeline'
import type { Cloud } from '../clouds.js'

/**
 * One deadline for every retry of the run (input `retry-timeout`). The SDK pipeline retries
 * 429 (after Retry-After), 5xx, 408 and dropped connections; this bounds the total time instead of
 * the number of tries, and remembers what kept failing for the final message.
 */
export class RetryBudget {
  readonly seconds: number
  readonly deadline: number
  lastFailure: string | undefined
  private readonly controller = new AbortController()

  constructor(seconds: number) {
    this.seconds = seconds
    this.deadline = Date.now() + seconds * 1000
    setTimeout(() => this.controller.abort(), seconds * 1000).unref()
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  get expired(): boolean {
    return this.controller.signal.aborted
  }

  /** How long one attempt may wait for an answer before it counts as a dropped request. */
  get attemptTimeoutMs(): number {
    return Math.min(60_000, Math.max(2_000, (this.seconds * 1000) / 5))
  }
}

/** Per call: every request (and its retries) stops when the budget is spent. */
function budgetPolicy(budget: RetryBudget): PipelinePolicy {
  return {
    name: 'actionRetryBudget',
    sendRequest(request, next) {
      request.abortSignal ??= budget.signal
      return next(request)
    }
  }
}

const TRANSIENT = new Set([408, 429, 500, 502, 503, 504])

/**
 * Per attempt: the log line, a warning for transient failures, and a read timeout that the retry
 * policy retries. The timeout is our own timer, always cleared: the SDK's `request.timeout` timer
 * outlives a failed attempt and would keep the process alive after the run.
 */
function attemptPolicy(budget: RetryBudget): PipelinePolicy {
  return {
    name: 'actionAttemptLog',
    async sendRequest(request, next) {
      const started = performance.now()
      const label = `${request.method} ${new URL(request.url).pathname}`
      const outer = request.abortSignal
      const attempt = new AbortController()
      const abort = (): void => attempt.abort()
      outer?.addEventListener('abort', abort, { once: true })
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        attempt.abort()
      }, budget.attemptTimeoutMs)
      request.abortSignal = attempt.signal
      try {
        const response = await next(request)
        core.info(`${label} → ${response.status} (${elapsed(started)} ms)`)
        // The SDK retries 429 only when the answer says when (Retry-After); 5xx and 408 always.
        const retried = response.status !== 429 || response.headers.get('retry-after') !== undefined
        if (TRANSIENT.has(response.status) && retried) {
          const retryAfter = response.headers.get('retry-after')
          budget.lastFailure = `${label} answered ${response.status}`
          core.warning(
            `${label} answered ${response.status}${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}; retrying within the ${budget.seconds} s retry budget.`
          )
        }
        return response
      } catch (error) {
        const reason = timedOut
          ? `no answer within ${budget.attemptTimeoutMs / 1000} s`
          : ((error as { code?: string }).code ?? (error as Error).name)
        core.info(`${label} → ${reason} (${elapsed(started)} ms)`)
        if (budget.expired || outer?.aborted) throw error
        budget.lastFailure = `${label} failed: ${reason}`
        core.warning(`${label} failed (${reason}); retrying within the ${budget.seconds} s retry budget.`)
        // As a RestError with a system error code, the retry policy retries a timed-out attempt.
        if (timedOut) throw new RestError(`${label}: ${reason}`, { code: 'ETIMEDOUT', request })
        throw error
      } finally {
        clearTimeout(timer)
        outer?.removeEventListener('abort', abort)
        request.abortSignal = outer
      }
    }
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started)
}

/** Pipeline options for the SDK clients and the Entra ID token client alike. */
export function pipelineOptions(
  budget: RetryBudget
): Pick<ClientOptions, 'additionalPolicies' | 'retryOptions' | 'userAgentOptions'> {
  return {
    additionalPolicies: [
      { policy: budgetPolicy(budget), position: 'perCall' },
      { policy: attemptPolicy(budget), position: 'perRetry' }
    ],
    // The budget bounds retries; the count only has to be out of its way.
    retryOptions: { maxRetries: 100, retryDelayInMs: 500, maxRetryDelayInMs: 15_000 },
    userAgentOptions: { userAgentPrefix: 'keyvault-app-identity-action' }
  }
}

export function armClientOptions(cloud: Cloud, budget: RetryBudget): ClientOptions {
  return { endpoint: cloud.armEndpoint, credentials: { scopes: [cloud.armScope] }, ...pipelineOptions(budget) }
}
