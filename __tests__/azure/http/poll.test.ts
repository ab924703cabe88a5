// The one poll loop: reads until the answer is final, with doubling delays, within the budget.
import { describe, expect, it, jest } from '@jest/globals'
import { RetryBudget } from '../../../src/azure/http/budget.js'
import { pollUntil } from '../../../src/azure/http/poll.js'

/** A budget whose waits are recorded and take no time. */
function budget(seconds = 3600): RetryBudget & { waits: number[] } {
  const b = new RetryBudget(seconds) as RetryBudget & { waits: number[] }
  b.waits = []
  b.wait = async (ms: number) => {
    b.waits.push(ms)
  }
  return b
}

describe('pollUntil', () => {
  it('reads at once, then after doubling delays capped at the maximum, until the answer is final', async () => {
    const answers = [1, 2, 3, 4, 5]
    const read = jest.fn(async () => answers.shift()!)
    const b = budget()
    const result = await pollUntil({ read, done: (n) => n === 5, budget: b, firstDelayMs: 1000, maxDelayMs: 3000 })
    expect(result).toEqual({ value: 5, done: true })
    expect(b.waits).toEqual([1000, 2000, 3000, 3000])
  })

  it('a known final answer makes no read; a known pending one waits before reading', async () => {
    const read = jest.fn(async () => 'ready')
    const b = budget()
    expect(
      await pollUntil({ read, done: (s) => s === 'ready', budget: b, firstDelayMs: 5, maxDelayMs: 5, known: 'ready' })
    ).toEqual({ value: 'ready', done: true })
    expect(read).not.toHaveBeenCalled()
    expect(
      await pollUntil({ read, done: (s) => s === 'ready', budget: b, firstDelayMs: 5, maxDelayMs: 5, known: 'pending' })
    ).toEqual({ value: 'ready', done: true })
    expect(b.waits).toEqual([5])
  })

  it('stops after maxReads, and when the budget is spent, with the last answer and done false', async () => {
    const read = jest.fn(async () => 'pending')
    const b = budget()
    expect(
      await pollUntil({ read, done: () => false, budget: b, firstDelayMs: 1, maxDelayMs: 1, maxReads: 3 })
    ).toEqual({ value: 'pending', done: false })
    expect(read).toHaveBeenCalledTimes(3)
    const spent = new RetryBudget(0)
    await new Promise((r) => setTimeout(r, 5))
    const late = jest.fn(async () => 'pending')
    expect(
      await pollUntil({ read: late, done: () => false, budget: spent, firstDelayMs: 1, maxDelayMs: 1, waitFirst: true })
    ).toEqual({ value: undefined, done: false })
    expect(late).not.toHaveBeenCalled()
  })
})
