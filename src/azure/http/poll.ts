// Azure often says yes before it shows the change: a 202 whose site shows the new identity a few
// seconds later, a vault whose read lags its access-policy write, references App Service reports
// as Initialized while it resolves them. Every such wait is the same loop — read, and read again
// after a doubling delay while the answer is not final and the run's retry budget lasts — so it is
// written once, here.
import type { RetryBudget } from './budget.js'

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
  let delay = poll.firstDelayMs
  for (let reads = 0; reads < maxReads; reads++) {
    if (reads > 0 || poll.waitFirst || poll.known !== undefined) {
      await budget.wait(delay)
      if (budget.expired) break
      delay = Math.min(delay * 2, poll.maxDelayMs)
    }
    value = await read()
    if (done(value)) return { value, done: true }
  }
  return { value, done: false }
}
