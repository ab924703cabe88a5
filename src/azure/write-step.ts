// A write that depends on what was read — the site's identity block, the app settings collection —
// is one step: read → build the request from that read → write. (The caller confirms afterwards,
// and records the write as soon as it returns: Azure accepted it.)
//
// Real apps are changed by others while the action runs. App Service's 409 "another operation is
// in progress" usually means someone else is writing right now, and an attempt that got a 5xx or
// no answer may or may not have been carried out. In both cases the old body — built from a read
// the other writer may since have made stale — is never sent again: the pipeline hands the failure
// back (azure/replay.ts) and the step starts again from a fresh read, within the run's retry
// budget. A fresh read that shows nothing left to do ends the step without a write.
import * as core from '@actions/core'
import { RestError } from '@azure/core-rest-pipeline'
import { findInChain } from '../model/error-chain.js'
import type { RetryBudget } from './http/budget.js'
import { isOperationInProgress } from './http/error-policies.js'
import { backoffDelay } from './http/poll.js'
import { NotCarriedOutError, UnknownOutcomeError } from './http/replay.js'

export interface WriteStep<S, B, R> {
  /** What is written, for the warnings: "the app settings of 'shop-api'". */
  what: string
  read(): Promise<S>
  /** The request built from what was just read; undefined when there is nothing left to do. */
  build(current: S): B | undefined
  /** One attempt; Azure's acceptance when it returns. */
  write(body: B, current: S): Promise<R>
  /**
   * The step gives up (it throws) after an attempt whose outcome is unknown: the write may have
   * happened, and the caller records it as that before the failure is reported.
   */
  onMaybeWritten?(): void
}

/** How old a read made earlier (the plan's) may be for a write to be built from it. */
const EARLIER_READ_MAX_AGE_MS = 5000

/**
 * A step's `read`: the first time, `earlier` (a read the plan was made from) while it is at most a
 * few seconds old, so a first run makes no extra request; otherwise, and on every later attempt,
 * `read` afresh. `readAt` undefined: made just now.
 */
export function readFreshOrEarlier<S>(
  earlier: S,
  readAt: number | undefined,
  read: () => Promise<S>
): () => Promise<S> {
  let useEarlier = Date.now() - (readAt ?? Date.now()) <= EARLIER_READ_MAX_AGE_MS
  return async () => {
    if (!useEarlier) return read()
    useEarlier = false
    return earlier
  }
}

export type StepOutcome<S, R> =
  | {
      wrote: false
      current: S
      /** An earlier attempt's outcome was unknown: it may be what left nothing to do. */
      maybeWritten: boolean
    }
  | { wrote: true; current: S; result: R }

const FIRST_DELAY_MS = 1000
const MAX_DELAY_MS = 15_000

interface StartAgain {
  why: string
  /** The attempt may have been carried out. */
  unknownOutcome: boolean
  /** Azure asked to wait at least this long (Retry-After). */
  waitMs?: number
}

/** Why a failed attempt calls for a fresh read rather than giving up; undefined: give up. */
function startAgainBecause(error: unknown): StartAgain | undefined {
  // Executors wrap Azure's error in one that names the operation: look through the causes.
  const unknown = findInChain(error, (e) => e instanceof UnknownOutcomeError)
  if (unknown) return { why: unknown.message, unknownOutcome: true }
  // A 2xx whose body could not be read: Azure accepted something, the action cannot tell what.
  const unreadable = findInChain(error, (e) => e instanceof RestError && e.code === RestError.PARSE_ERROR)
  if (unreadable) return { why: `its answer could not be read (${unreadable.message})`, unknownOutcome: true }
  const refused = findInChain(error, (e) => e instanceof NotCarriedOutError)
  if (refused instanceof NotCarriedOutError)
    return { why: refused.message, unknownOutcome: false, waitMs: refused.waitMs }
  const busy = findInChain(error, (e) => e instanceof RestError && isOperationInProgress(e.statusCode, e.code))
  return busy ? { why: 'another operation is in progress on it (409 Conflict)', unknownOutcome: false } : undefined
}

export async function writeFromFreshRead<S, B, R>(
  step: WriteStep<S, B, R>,
  budget: RetryBudget
): Promise<StepOutcome<S, R>> {
  let maybeWritten = false
  // Whatever ends the step with a failure after an unclear attempt: the write may have happened.
  const giveUp = (error: unknown): never => {
    if (maybeWritten) step.onMaybeWritten?.()
    throw error
  }
  for (let attempt = 1; ; attempt++) {
    const current = await step.read().catch(giveUp)
    const body = step.build(current)
    if (body === undefined) return { wrote: false, current, maybeWritten }
    try {
      return { wrote: true, current, result: await step.write(body, current) }
    } catch (error) {
      const reason = startAgainBecause(error)
      if (reason?.unknownOutcome) maybeWritten = true
      if (!reason) return giveUp(error)
      const backoff = backoffDelay(attempt, FIRST_DELAY_MS, MAX_DELAY_MS)
      const delay = Math.max(backoff, reason.waitMs ?? 0)
      if (Date.now() + delay > budget.deadline || budget.expired) return giveUp(error)
      budget.lastFailure = `writing ${step.what}: ${reason.why}`
      core.warning(
        `Writing ${step.what}: ${reason.why}. Reading it again in ${delay / 1000} s and building the write from what is there then (attempt ${attempt + 1}).`
      )
      await budget.wait(delay)
      if (budget.expired) return giveUp(error)
    }
  }
}
