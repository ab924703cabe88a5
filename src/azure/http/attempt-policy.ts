// One policy per request attempt, closest to the wire: the log line (method, path, status, time;
// never headers, query or tokens), a read timeout, and what a failed connection means. A host that
// cannot be resolved or refuses connections is retried briefly, not for the whole budget.
import * as core from '@actions/core'
import { type PipelinePolicy, type PipelineRequest, RestError } from '@azure/core-rest-pipeline'
import type { NetworkFailure, RetryBudget } from './budget.js'
import { classify, describeNetworkFailure, errorCode, isUnreachable } from './network.js'
import { readAzureError } from './error-policies.js'
import { isBuiltFromRead, NotCarriedOutError, retryAfterMs, UnknownOutcomeError } from './replay.js'
import { info } from '../../log/log.js'

/** Tries of an unreachable host before giving up on it (a second or two with the SDK's backoff). */
export const UNREACHABLE_TRIES = 3

const TRANSIENT = new Set([408, 429, 500, 502, 503, 504])

/** A request that got no answer and will not be retried: the message names the host and the fix. */
export class NetworkError extends Error {
  readonly failure: NetworkFailure
  constructor(label: string, failure: NetworkFailure, cause: unknown) {
    super(`${label}: ${describeNetworkFailure(failure)}`, { cause })
    this.name = 'NetworkError'
    this.failure = failure
  }
}

/**
 * Attempts per request whose outcome is unclear — no answer (dropped, timed out), or a 5xx or 408
 * that the retry policy retries: a later 204 "nothing there" of a DELETE may be our own doing.
 */
const unclear = new WeakMap<PipelineRequest, number>()

/** Did an earlier attempt of this request reach the service without a clear answer coming back? */
export function hadUnclearAttempt(request: PipelineRequest): boolean {
  return (unclear.get(request) ?? 0) > 0
}

/** Codes the SDK's retry policy retries (isSystemError in @typespec/ts-http-runtime). */
const SDK_RETRIES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'ENOTFOUND'])
/** No answer came back, though the request may have reached the service. */
const ANSWER_LOST = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNRESET'])

export function attemptPolicy(budget: RetryBudget): PipelinePolicy {
  const unreachableTries = new Map<string, number>()
  return {
    name: 'actionAttempt',
    async sendRequest(request, next) {
      const started = performance.now()
      const url = new URL(request.url)
      const label = `${request.method} ${url.pathname}`
      const outer = request.abortSignal
      const attempt = new AbortController()
      const abort = (): void => attempt.abort()
      outer?.addEventListener('abort', abort, { once: true })
      let timedOut = false
      // Our own timer, always cleared: the SDK's `request.timeout` timer outlives a failed attempt
      // and would keep the process alive after the run.
      const timer = setTimeout(() => {
        timedOut = true
        attempt.abort()
      }, budget.attemptTimeoutMs)
      request.abortSignal = attempt.signal
      // A write built from an earlier read is never sent twice as it is (replay.ts).
      const builtFromRead = isBuiltFromRead(request.method, request.url)
      try {
        const response = await next(request)
        info(`${label} → ${response.status} (${elapsed(started)} ms)`)
        // The host answered: what failed before no longer explains anything.
        unreachableTries.delete(url.origin)
        budget.network.delete(url.origin)
        const retryAfter = response.headers.get('retry-after')
        if (builtFromRead) refuseReplay(label, response.status, response.bodyAsText ?? undefined, retryAfter)
        // The SDK retries 429 only when the answer says when (Retry-After); 5xx and 408 always.
        if (TRANSIENT.has(response.status) && (response.status !== 429 || retryAfter !== undefined)) {
          if (response.status !== 429) unclear.set(request, (unclear.get(request) ?? 0) + 1)
          budget.lastFailure = `${label} answered ${response.status}`
          core.warning(
            `${label} answered ${response.status}${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}; retrying within the ${budget.seconds} s retry budget.`
          )
        }
        return response
      } catch (error) {
        if (error instanceof UnknownOutcomeError || error instanceof NotCarriedOutError) throw error // answered: logged above
        const code = timedOut ? 'ETIMEDOUT' : (errorCode(error) ?? (error as Error).name)
        const reason = timedOut ? `no answer within ${budget.attemptTimeoutMs / 1000} s` : code
        info(`${label} → ${reason} (${elapsed(started)} ms)`)
        const retrying = (): void => {
          budget.lastFailure = `${label} failed: ${reason}`
          core.warning(`${label} failed (${reason}); retrying within the ${budget.seconds} s retry budget.`)
        }
        if (budget.expired || outer?.aborted) {
          // A write cut off on its way may have reached Azure all the same.
          if (builtFromRead)
            throw new UnknownOutcomeError(label, 'cut off when the retry budget ran out', undefined, error)
          throw error
        }
        const proxy = proxyOf(request)
        // Through a proxy, the runner connects only to the proxy (the proxy connects onwards):
        // a name that does not resolve or a port that refuses is the proxy's.
        const classified = classify(error)
        const problem = proxy && isUnreachable(classified) ? 'proxy' : classified
        if (problem) {
          const failure: NetworkFailure = { origin: url.origin, problem, code, proxy }
          budget.network.set(url.origin, failure)
          const tries = (unreachableTries.get(url.origin) ?? 0) + 1
          unreachableTries.set(url.origin, tries)
          if (!isUnreachable(problem) || tries >= UNREACHABLE_TRIES) throw new NetworkError(label, failure, error)
          // Never sent: the caller builds it again from a fresh read, as after a 429.
          if (builtFromRead) throw new NotCarriedOutError(label, `not sent (${reason})`, { cause: error })
          retrying()
          // A system code the SDK's retry policy retries (EAI_AGAIN, EHOSTUNREACH… are not among them).
          throw new RestError(`${label}: ${reason}`, { code: 'ECONNREFUSED', request })
        }
        if (!timedOut && !SDK_RETRIES.has(code)) throw error // not retried: the caller explains it
        if (builtFromRead && (timedOut || ANSWER_LOST.has(code)))
          throw new UnknownOutcomeError(label, reason, undefined, error)
        if (builtFromRead) throw new NotCarriedOutError(label, `not sent (${reason})`, { cause: error })
        if (ANSWER_LOST.has(code)) unclear.set(request, (unclear.get(request) ?? 0) + 1)
        retrying()
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

/**
 * A write built from a read is never sent again by the pipeline (replay.ts): an answer that the
 * SDK's retry policy would retry becomes the caller's to handle. 501 and 505 are final answers,
 * as for that policy; Azure's own code and words are kept for the final message.
 */
function refuseReplay(label: string, status: number, body: string | undefined, retryAfter: string | undefined): void {
  const azure = readAzureError(body)
  const said = azure ? ` (${[azure.code, azure.message].filter(Boolean).join(': ')})` : ''
  if (status === 429)
    throw new NotCarriedOutError(label, `answered 429 Too Many Requests${said}`, {
      status,
      waitMs: retryAfterMs(retryAfter)
    })
  if (status === 408 || (status >= 500 && status !== 501 && status !== 505))
    throw new UnknownOutcomeError(label, `answered ${status}${said}`, status)
}

/** The proxy the SDK's proxy policy chose for this request (its agent carries the proxy URL). */
function proxyOf(request: PipelineRequest): string | undefined {
  const proxy = (request.agent as { proxy?: URL } | undefined)?.proxy
  return proxy instanceof URL ? `${proxy.protocol}//${proxy.host}` : undefined
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started)
}
