import { describe, expect, it, jest } from '@jest/globals'
import { mapLimit } from '../../src/apply/concurrency.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

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
