// The pure helpers of `npm run bench` (scripts/bench-lib.ts): rounds, critical path, statistics,
// per-run figures and the report's text, on hand-made request logs.
import {
  criticalPath,
  figures,
  fmtCount,
  fmtMs,
  overlapGroups,
  r1,
  stats,
  summarize,
  table,
  timelineText,
  type LoggedRequest,
  type RunFigures,
  type Span
} from '../scripts/bench-lib.ts'

const span = (start: number, end: number): Span => ({ start, end })
const req = (
  server: string,
  method: string,
  path: string,
  start: number,
  end: number,
  status = 200
): LoggedRequest => ({
  server,
  method,
  path,
  status,
  start,
  end
})

// A pool of 2 requests in flight, each new one sent as soon as one answers: always something in
// flight (one stretch), but E waited for C, which waited for A.
const pooled = [span(0, 40), span(10, 50), span(40, 80), span(50, 90), span(80, 120)]

describe('overlapGroups', () => {
  it('is 0 for no requests and 1 for one', () => {
    expect(overlapGroups([])).toBe(0)
    expect(overlapGroups([span(5, 9)])).toBe(1)
  })

  it('counts requests sent together as one round', () => {
    expect(overlapGroups([span(0, 40), span(1, 41), span(2, 39)])).toBe(1)
  })

  it('opens a new round when a request starts at or after every earlier one ended', () => {
    expect(overlapGroups([span(0, 40), span(40, 80)])).toBe(2)
    expect(overlapGroups([span(0, 40), span(39, 80)])).toBe(1)
    expect(overlapGroups([span(0, 40), span(50, 90), span(95, 100)])).toBe(3)
  })

  it("measures against the group's latest end, not its first request's", () => {
    // C starts after A ended but while B is still in flight.
    expect(overlapGroups([span(0, 10), span(5, 20), span(15, 25)])).toBe(1)
    expect(overlapGroups([span(0, 10), span(5, 20), span(15, 25), span(25, 30)])).toBe(2)
    // A short request inside a long one does not end the group early.
    expect(overlapGroups([span(0, 100), span(10, 20), span(50, 60)])).toBe(1)
  })

  it('does not depend on the order of the log and leaves it unsorted', () => {
    const log = [span(50, 90), span(0, 40), span(95, 100), span(10, 45)]
    expect(overlapGroups(log)).toBe(3)
    expect(log[0]).toEqual(span(50, 90))
  })

  it('sees a bounded pool as one stretch', () => {
    expect(overlapGroups(pooled)).toBe(1)
  })
})

describe('criticalPath', () => {
  it('is 0 for no requests and 1 for concurrent ones', () => {
    expect(criticalPath([])).toBe(0)
    expect(criticalPath([span(0, 40), span(1, 41), span(2, 39)])).toBe(1)
  })

  it('counts a request that starts exactly when the previous ended as the next link', () => {
    expect(criticalPath([span(0, 40), span(40, 80), span(80, 120)])).toBe(3)
    expect(criticalPath([span(0, 40), span(39, 80)])).toBe(1)
  })

  it('counts how deep a bounded pool made requests wait', () => {
    expect(criticalPath(pooled)).toBe(3)
  })

  it('finds the longest chain, not the one through the first request', () => {
    // A spans everything; B → C → D is the chain.
    expect(criticalPath([span(0, 100), span(0, 10), span(10, 20), span(20, 30)])).toBe(3)
  })

  it('does not depend on the order of the log', () => {
    expect(criticalPath([span(80, 120), span(0, 40), span(40, 80)])).toBe(3)
  })
})

describe('stats', () => {
  it('gives the middle value of an odd count and the mean of the two middle ones of an even count', () => {
    expect(stats([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5 })
    expect(stats([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 })
    expect(stats([7])).toEqual({ median: 7, min: 7, max: 7 })
  })

  it('sorts numerically and leaves the input as it was', () => {
    const xs = [10, 9, 100]
    expect(stats(xs)).toEqual({ median: 10, min: 9, max: 100 })
    expect(xs).toEqual([10, 9, 100])
  })

  it('is NaN throughout for no values', () => {
    const s = stats([])
    expect([s.median, s.min, s.max].every(Number.isNaN)).toBe(true)
  })

  it('r1 rounds to one decimal', () => {
    expect(r1(1.26)).toBe(1.3)
    expect(r1(1.24)).toBe(1.2)
    expect(r1(372.34)).toBe(372.3)
  })
})

describe('figures', () => {
  const t = '72f988bf-86f1-41af-91ab-2d7cd011db47'
  const log = [
    req('oidc', 'GET', '/token', 110, 111),
    req('entra', 'GET', `/${t}/v2.0/.well-known/openid-configuration`, 120, 160),
    req('entra', 'POST', `/${t}/oauth2/v2.0/token`, 165, 205),
    req('arm', 'GET', '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/a', 210, 250),
    req('arm', 'GET', '/subscriptions/s/providers/Microsoft.KeyVault/vaults', 211, 251),
    req('arm', 'PATCH', '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/a', 255, 295, 429),
    req('arm', 'PUT', '/subscriptions/s/…/accessPolicies/add', 300, 340)
  ]

  it('counts requests, writes, rounds and sign-in requests of one run', () => {
    expect(figures(log, 100, 360)).toEqual({
      wallMs: 260,
      spawnToFirstRequestMs: 10,
      armRequests: 4,
      armWrites: 2,
      armRounds: 3,
      armCriticalPath: 3,
      allRounds: 6,
      allCriticalPath: 6,
      oidc: 1,
      discovery: 1,
      token: 1,
      entraOther: 0,
      errors: 1
    })
  })

  it('counts the ADFS discovery az uses as discovery and anything else on Entra as other', () => {
    const f = figures(
      [
        req('entra', 'GET', '/adfs/.well-known/openid-configuration', 0, 1),
        req('entra', 'GET', '/common/discovery/instance', 1, 2),
        req('entra', 'GET', '/something/else', 2, 3, 0)
      ],
      0,
      5
    )
    expect([f.discovery, f.token, f.entraOther, f.errors]).toEqual([2, 0, 1, 1])
  })

  it('has no first request when nothing was logged', () => {
    const f = figures([], 0, 25)
    expect(f.spawnToFirstRequestMs).toBeNaN()
    expect([f.wallMs, f.armRounds, f.allCriticalPath]).toEqual([25, 0, 0])
  })
})

describe('summarize', () => {
  it('gives stats of every numeric figure, in the figures order, skipping other fields', () => {
    const a = figures([req('arm', 'GET', '/x', 0, 40)], 0, 100)
    const b = figures([req('arm', 'GET', '/x', 0, 40), req('arm', 'PUT', '/x', 40, 80)], 0, 300)
    const s = summarize([{ step: 'login', ...a } as RunFigures, b])
    expect(Object.keys(s)).toEqual(Object.keys(a))
    expect(s.wallMs).toEqual({ median: 200, min: 100, max: 300 })
    expect(s.armCriticalPath).toEqual({ median: 1.5, min: 1, max: 2 })
  })
})

describe('report text', () => {
  it('prints wall times as rounded median (min–max) and counts with a range only when they varied', () => {
    expect(fmtMs({ median: 372.3, min: 365.1, max: 374.7 })).toBe('372 (365–375)')
    expect(fmtCount({ median: 4, min: 4, max: 4 })).toBe('4')
    expect(fmtCount({ median: 4, min: 3, max: 4 })).toBe('4 (3–4)')
  })

  it('aligns the first column left and the others right, under a rule', () => {
    expect(
      table(
        ['scenario', 'ms'],
        [
          ['a', '1'],
          ['longer', '100']
        ]
      )
    ).toBe(['scenario   ms', '────────  ───', 'a           1', 'longer    100'].join('\n'))
  })

  it('writes a timeline in ms from spawn with the GUIDs shortened', () => {
    const sub = '0b1f6471-1bf0-4dda-aec3-cb9272f09590'
    const text = timelineText(
      'action, x',
      [req('arm', 'GET', `/subscriptions/${sub}/resourcegroups/rg`, 110.04, 150.96)],
      100,
      160
    )
    expect(text.split('\n')).toEqual([
      'action, x',
      '     10.0 →    51.0  arm   GET    200 /subscriptions/{sub}/resourcegroups/rg',
      '  exit at 60.0 ms'
    ])
  })
})
