// One deadline for the whole run's time with Azure and GitHub (input `retry-timeout`), and what
// the network said along the way, so the final message can name what kept failing.

/** Why a request got no answer; each has its own fix. */
export type NetworkProblem = 'unresolvable' | 'refused' | 'unreachable' | 'untrusted-certificate' | 'proxy'

export interface NetworkFailure {
  /** `https://host:port` of the request (not of the proxy). */
  origin: string
  problem: NetworkProblem
  /** The system error code, e.g. ENOTFOUND or SELF_SIGNED_CERT_IN_CHAIN. */
  code: string
  /** The proxy the request went through, when one did. */
  proxy?: string
}

export class RetryBudget {
  readonly seconds: number
  readonly deadline: number
  /** The last request that failed and was retried, for the final message ("GET /x answered 503"). */
  lastFailure: string | undefined
  /** The last network failure per origin: a failed sign-in is explained from here. */
  readonly network = new Map<string, NetworkFailure>()
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

  /** Milliseconds left, never negative. */
  get remainingMs(): number {
    return Math.max(0, this.deadline - Date.now())
  }

  /** Settles as `work` does, or rejects with an AbortError as soon as the budget is spent. */
  race<T>(work: Promise<T>): Promise<T> {
    const signal = this.signal
    if (signal.aborted) return Promise.reject(abortError())
    let onAbort: () => void = () => undefined
    const spent = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError())
      signal.addEventListener('abort', onAbort, { once: true })
    })
    return Promise.race([work, spent]).finally(() => signal.removeEventListener('abort', onAbort))
  }

  /** Resolves after `ms`, or as soon as the budget is spent (then `expired` is true). */
  wait(ms: number, signal: AbortSignal = this.signal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve()
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
    })
  }
}

function abortError(): Error {
  const error = new Error('The retry budget was spent.')
  error.name = 'AbortError'
  return error
}
