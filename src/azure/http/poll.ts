// Azure often says yes before it shows the change: a 202 whose site shows the new identity a few
// seconds later, a vault whose read lags its access-policy write, references App Service reports
// as Initialized while it resolves them. Every such wait is the same loop — read, and read again
// after a doubling delay while the answer is not final and the run's retry budget lasts — so it is
// written once, here. The two retry loops (error-policies.ts, write-step.ts), whose next step
// depends on each answer, share its delays (backoffDelay).
import type { RetryBudget } from './budget.js'

/** The delay before attempt `attempt` (1-based): `firstMs`, doubling each time, at most `maxMs`. */
export function backoffDelay(attempt: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** (attempt - 1))
}

export interface Poll<T> {
  read: () => Promise<T>
  /** Whether a read is the final answer. */
  done: (value: T) => boolean
  budget: RetryBudget
  /** The first delay; each next one doubles, up to `maxDelayMs`. */
  firstDelayMs: number
  maxDelayMs: number
  /** A read already made: judged first, without reading again. */
  known?: T
  /** Wait before the first read (Azure said how long a change takes, or it cannot show yet). */
  waitFirst?: boolean
  /** At most this many reads (the known one not counted). */
  maxReads?: number
}

/** The last read and whether it was final; `value` is undefined only when nothing was read. */
export async function pollUntil<T>(poll: Poll<T>): Promise<{ value: T | undefined; done: boolean }> {
  const { read, done, budget, maxReads = Infinity } = poll
  let value = poll.known
  if (value !== undefined && done(value)) return { value, done: true }
  let waits = 0
  for (let reads = 0; reads < maxReads; reads++) {
    if (reads > 0 || poll.waitFirst || poll.known !== undefined) {
      await budget.wait(backoffDelay(++waits, poll.firstDelayMs, poll.maxDelayMs))
      if (budget.expired) break
    }
    value = await read()
    if (done(value)) return { value, done: true }
  }
  return { value, done: false }
}
