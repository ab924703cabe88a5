import { describe, expect, it, jest } from '@jest/globals'
import { mapLimit, sleep, withRetry } from '../src/retry.js'

const noSleep = () => jest.fn<(ms: number) => Promise<void>>(async () => undefined)

/** Fails `times` times with `error`, then resolves 'ok'. */
function flaky(times: number, error: unknown = Object.assign(new Error('busy'), { statusCode: 409 })) {
  let calls = 0
  return jest.fn(async () => {
    calls++
    if (calls <= times) throw error
    return 'ok'
  })
}

const far = () => Date.now() + 3600_000

describe('withRetry', () => {
  it('returns the first success without waiting', async () => {
    const wait = noSleep()
    const op = flaky(0)
    await expect(
      withRetry(op, { retryable: () => true, deadline: far(), baseDelayMs: 100, maxDelayMs: 1000, sleep: wait })
    ).resolves.toBe('ok')
    expect(op).toHaveBeenCalledTimes(1)
    expect(wait).not.toHaveBeenCalled()
  })

  it('retries retryable errors with exponential backoff capped at maxDelayMs', async () => {
    const wait = noSleep()
    const onRetry = jest.fn()
    const op = flaky(5)
    await expect(
      withRetry(op, { retryable: () => true, deadline: far(), baseDelayMs: 100, maxDelayMs: 500, sleep: wait, onRetry })
    ).resolves.toBe('ok')
    expect(op).toHaveBeenCalledTimes(6)
    expect(wait.mock.calls.map(([ms]) => ms)).toEqual([100, 200, 400, 500, 500])
    expect(onRetry.mock.calls.map(([, attempt, delay]) => [attempt, delay])).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 500],
      [5, 500]
    ])
  })

  it('does not retry errors that are not retryable', async () => {
    const wait = noSleep()
    const error = new Error('forbidden')
    const op = flaky(3, error)
    await expect(
      withRetry(op, {
        retryable: (e) => (e as { statusCode?: number }).statusCode === 409,
        deadline: far(),
        baseDelayMs: 1,
        maxDelayMs: 1,
        sleep: wait
      })
    ).rejects.toBe(error)
    expect(op).toHaveBeenCalledTimes(1)
    expect(wait).not.toHaveBeenCalled()
  })

  it('gives up with the last error when the next try would start after the deadline', async () => {
    const wait = jest.fn(async () => undefined)
    const error = Object.assign(new Error('busy'), { statusCode: 409 })
    const op = flaky(100, error)
    // Deadline 1 s away: waits of 400 + 800 fit (virtually), 1600 would not.
    const start = Date.now()
    jest.spyOn(Date, 'now').mockImplementation(() => start)
    try {
      await expect(
        withRetry(op, {
          retryable: () => true,
          deadline: start + 1000,
          baseDelayMs: 400,
          maxDelayMs: 10_000,
          sleep: wait
        })
      ).rejects.toBe(error)
    } finally {
      jest.restoreAllMocks()
    }
    expect(op).toHaveBeenCalledTimes(3)
    expect(wait).toHaveBeenCalledTimes(2)
  })

  it('does not retry at all when the deadline has passed', async () => {
    const op = flaky(1)
    await expect(
      withRetry(op, {
        retryable: () => true,
        deadline: Date.now() - 1,
        baseDelayMs: 1,
        maxDelayMs: 1,
        sleep: noSleep()
      })
    ).rejects.toThrow('busy')
    expect(op).toHaveBeenCalledTimes(1)
  })

  it('sleep waits about the given time', async () => {
    const started = Date.now()
    await sleep(20)
    expect(Date.now() - started).toBeGreaterThanOrEqual(15)
  })
})

describe('mapLimit', () => {
  it('keeps the order of the input', async () => {
    const delays = [30, 5, 20, 1, 10]
    const result = await mapLimit(delays, 2, async (ms) => {
      await sleep(ms)
      return ms * 2
    })
    expect(result).toEqual([60, 10, 40, 2, 20])
  })

  it('never runs more than `limit` at once, and runs them concurrently up to it', async () => {
    let running = 0
    let peak = 0
    await mapLimit(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      async () => {
        running++
        peak = Math.max(peak, running)
        await sleep(2)
        running--
      }
    )
    expect(peak).toBe(3)
  })

  it('handles an empty list and a limit above the length', async () => {
    const fn = jest.fn(async (x: number) => x)
    await expect(mapLimit([], 8, fn)).resolves.toEqual([])
    await expect(mapLimit([1, 2], 8, fn)).resolves.toEqual([1, 2])
    expect(fn).toHaveBeenCalledTimes(2)
  })

  it('rejects when an item fails', async () => {
    await expect(
      mapLimit([1, 2, 3], 2, async (x) => {
        if (x === 2) throw new Error('item 2')
        return x
      })
    ).rejects.toThrow('item 2')
  })
})
