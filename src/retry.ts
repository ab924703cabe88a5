// Retries the action does itself, for what the SDK pipeline does not retry (409 Conflict on a
// site update, PrincipalNotFound during directory replication).

export interface RetryOptions {
  /** Whether an error is worth another try. */
  retryable: (error: unknown) => boolean
  /** Give up when the next try would start after this time (ms since epoch): the run's retry budget. */
  deadline: number
  baseDelayMs: number
  maxDelayMs: number
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  sleep?: (ms: number) => Promise<void>
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation()
    } catch (error) {
      const delay = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1))
      if (!options.retryable(error) || Date.now() + delay > options.deadline) throw error
      options.onRetry?.(error, attempt, delay)
      await wait(delay)
    }
  }
}

/** Maps items through `fn` with at most `limit` running at once, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
