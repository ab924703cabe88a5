// A write built from a read: after a 409 or an unknown outcome it is rebuilt from a fresh read,
// never sent again as it was; a fresh read with nothing left to do ends it without a write.
import { describe, expect, it, jest } from '@jest/globals'

jest.unstable_mockModule('@actions/core', () => ({ warning: jest.fn(), info: jest.fn(), debug: jest.fn() }))
const { RestError } = await import('@azure/core-rest-pipeline')
const { RetryBudget } = await import('../../src/azure/http/budget.js')
const { NotCarriedOutError, UnknownOutcomeError } = await import('../../src/azure/http/replay.js')
const { writeFromFreshRead } = await import('../../src/azure/write-step.js')

const conflict = (): Error =>
  new RestError('Cannot modify this site because another operation is in progress.', {
    statusCode: 409,
    code: 'Conflict'
  })

/** A resource another writer changes between our attempts; `answers` are our writes' fates in turn. */
function resource(answers: (Error | undefined)[], otherWriter: (r: Record<string, string>) => void) {
  const stored: Record<string, string> = { THEIRS: '1' }
  const sent: Record<string, string>[] = []
  return {
    stored,
    sent,
    step: {
      what: 'the test resource',
      read: async () => ({ ...stored }),
      build: (current: Record<string, string>) => (current.OURS === 'x' ? undefined : { ...current, OURS: 'x' }),
      write: async (body: Record<string, string>) => {
        sent.push(body)
        const fate = answers.shift()
        if (fate instanceof UnknownOutcomeError) Object.assign(stored, body) // carried out, answer lost
        otherWriter(stored)
        if (fate) throw fate
        for (const k of Object.keys(stored)) delete stored[k]
        Object.assign(stored, body)
        return body
      }
    }
  }
}

describe('writeFromFreshRead', () => {
  it('rebuilds the write from a fresh read after a 409, keeping what another writer did meanwhile', async () => {
    const r = resource([conflict()], (s) => {
      s.ADDED_BY_OTHER ??= 'y'
    })
    const outcome = await writeFromFreshRead(r.step, new RetryBudget(30))
    expect(outcome.wrote).toBe(true)
    expect(r.sent).toHaveLength(2)
    expect(r.sent[1]).toEqual({ THEIRS: '1', ADDED_BY_OTHER: 'y', OURS: 'x' })
    expect(r.stored).toEqual({ THEIRS: '1', ADDED_BY_OTHER: 'y', OURS: 'x' })
  })

  it('ends without a write when the fresh read shows nothing left to do', async () => {
    const r = resource([conflict()], (s) => {
      s.OURS = 'x'
    })
    const outcome = await writeFromFreshRead(r.step, new RetryBudget(30))
    expect(outcome).toMatchObject({ wrote: false, maybeWritten: false })
    expect(r.sent).toHaveLength(1)
  })

  it('after an attempt whose outcome is unknown, says the write may have been its own', async () => {
    const r = resource([new UnknownOutcomeError('PUT /x', 'answered 500', 500)], () => undefined)
    const outcome = await writeFromFreshRead(r.step, new RetryBudget(30))
    expect(outcome).toMatchObject({ wrote: false, maybeWritten: true })
    expect(r.sent).toHaveLength(1)
  })

  it('gives up on other errors at once, and on conflicts when the budget cannot wait', async () => {
    const denied = new RestError('no', { statusCode: 403, code: 'AuthorizationFailed' })
    await expect(writeFromFreshRead(resource([denied], () => undefined).step, new RetryBudget(30))).rejects.toBe(denied)
    const busy = conflict()
    await expect(writeFromFreshRead(resource([busy], () => undefined).step, new RetryBudget(0.5))).rejects.toBe(busy)
  })

  it('after a 429, waits at least what Azure asked before reading again', async () => {
    const r = resource(
      [new NotCarriedOutError('PATCH /x', 'answered 429', { status: 429, waitMs: 2500 })],
      () => undefined
    )
    const budget = new RetryBudget(30)
    const waits: number[] = []
    budget.wait = async (ms: number) => {
      waits.push(ms)
    }
    const outcome = await writeFromFreshRead(r.step, budget)
    expect(outcome).toMatchObject({ wrote: true })
    expect(waits).toEqual([2500])
    expect(r.sent).toHaveLength(2)
  })

  it('an answer that could not be read is an unknown outcome: read again, say it may have been written', async () => {
    const unreadable = new RestError('Error "Unexpected token" occurred while parsing the response body', {
      code: RestError.PARSE_ERROR,
      statusCode: 200
    })
    const r = resource([unreadable], (s) => {
      s.OURS = 'x' // Azure did carry it out
    })
    const outcome = await writeFromFreshRead(r.step, new RetryBudget(30))
    expect(outcome).toMatchObject({ wrote: false, maybeWritten: true })
  })

  it('giving up after an unknown outcome tells the caller the write may have happened', async () => {
    const onMaybeWritten = jest.fn()
    // The budget cannot wait the first 1 s: the step gives up right after the unclear attempt.
    const unclear = new UnknownOutcomeError('PUT /x', 'answered 503', 503)
    const r = resource([unclear], () => undefined)
    await expect(writeFromFreshRead({ ...r.step, onMaybeWritten }, new RetryBudget(0.5))).rejects.toBe(unclear)
    expect(onMaybeWritten).toHaveBeenCalledTimes(1)
    // A read that fails after an unclear attempt: the same.
    const readFails = new RestError('no', { statusCode: 403, code: 'AuthorizationFailed' })
    const r2 = resource([new UnknownOutcomeError('PUT /x', 'answered 500', 500)], () => undefined)
    let reads = 0
    const step = {
      ...r2.step,
      onMaybeWritten,
      read: async () => {
        if (reads++ > 0) throw readFails
        return r2.step.read()
      }
    }
    const budget = new RetryBudget(30)
    budget.wait = async () => undefined
    await expect(writeFromFreshRead(step, budget)).rejects.toBe(readFails)
    expect(onMaybeWritten).toHaveBeenCalledTimes(2)
    // A failure without an unclear attempt before it says nothing of the kind.
    const denied = new RestError('no', { statusCode: 403, code: 'AuthorizationFailed' })
    await expect(
      writeFromFreshRead({ ...resource([denied], () => undefined).step, onMaybeWritten }, new RetryBudget(30))
    ).rejects.toBe(denied)
    expect(onMaybeWritten).toHaveBeenCalledTimes(2)
  })
})
