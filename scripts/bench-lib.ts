// Pure helpers of `npm run bench`: how a request log becomes "rounds" and per-run figures, summary
// statistics, and the text of the report's tables and timelines. No I/O here, so the definitions
// can be read (and tested: test/bench-lib.test.ts) on their own.

/** A request as the fake Azure logs it: performance.now() milliseconds of the bench process. */
export interface Span {
  start: number
  end: number
}

/** The fields of the fake's RequestLogEntry (test/fake-azure/core/types.ts) the bench reads. */
export interface LoggedRequest extends Span {
  server: string
  method: string
  path: string
  status: number // 0 when the connection was dropped
}

/**
 * Overlap groups: sort by start; a request joins the current group when it starts before every
 * request seen so far in that group has ended (start < the group's latest end), else it opens a
 * new group. The count is the number of time slices in which at least one request was in flight,
 * separated by moments with none: requests sent together (reads of all apps and vaults) are one
 * group, a request sent after an answer arrived is a new one.
 */
export function overlapGroups(spans: readonly Span[]): number {
  const sorted = [...spans].sort((a, b) => a.start - b.start)
  let groups = 0
  let groupEnd = -Infinity
  for (const s of sorted) {
    if (s.start >= groupEnd) groups++
    groupEnd = s.start >= groupEnd ? s.end : Math.max(groupEnd, s.end)
  }
  return groups
}

/**
 * Critical path: the longest chain of requests each of which started after the previous one
 * ended (r[i+1].start >= r[i].end). Equal to overlapGroups when every round is sent at once; larger
 * when a bounded pool (e.g. 8 PATCHes in flight for 20 apps) keeps requests overlapping while still
 * making some wait for others — the latency a run pays is critical path × round-trip time.
 */
export function criticalPath(spans: readonly Span[]): number {
  const sorted = [...spans].sort((a, b) => a.start - b.start)
  const depth: number[] = []
  let best = 0
  for (let i = 0; i < sorted.length; i++) {
    let d = 1
    for (let j = 0; j < i; j++) if (sorted[j].end <= sorted[i].start && depth[j] + 1 > d) d = depth[j] + 1
    depth.push(d)
    best = Math.max(best, d)
  }
  return best
}

export interface Stats {
  median: number
  min: number
  max: number
}

export function stats(xs: readonly number[]): Stats {
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN }
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
  return { median, min: s[0], max: s[s.length - 1] }
}

/** Rounds to 0.1 (ms figures) for the JSON line. */
export const r1 = (x: number): number => Math.round(x * 10) / 10

export const roundStats = (s: Stats): Stats => ({ median: r1(s.median), min: r1(s.min), max: r1(s.max) })

// ── one run's figures ───────────────────────────────────────────────────────────────────────

export interface RunFigures {
  wallMs: number
  spawnToFirstRequestMs: number
  armRequests: number
  armWrites: number
  armRounds: number // overlap groups of ARM requests
  armCriticalPath: number // longest chain of ARM requests
  allRounds: number // overlap groups over OIDC + Entra + ARM
  allCriticalPath: number
  oidc: number
  discovery: number
  token: number
  entraOther: number
  errors: number // responses >= 400 (retried or not)
}

const isDiscovery = (r: LoggedRequest): boolean =>
  r.method === 'GET' && /openid-configuration|discovery\/instance/i.test(r.path)
const isToken = (r: LoggedRequest): boolean => r.method === 'POST' && /\/oauth2\/(v2\.0\/)?token$/i.test(r.path)

/** The figures of one spawned process, from the requests the fake logged between spawn and exit. */
export function figures(log: readonly LoggedRequest[], spawnedAt: number, endedAt: number): RunFigures {
  const arm = log.filter((r) => r.server === 'arm')
  const entra = log.filter((r) => r.server === 'entra')
  return {
    wallMs: endedAt - spawnedAt,
    spawnToFirstRequestMs: log.length ? Math.min(...log.map((r) => r.start)) - spawnedAt : NaN,
    armRequests: arm.length,
    armWrites: arm.filter((r) => r.method !== 'GET').length,
    armRounds: overlapGroups(arm),
    armCriticalPath: criticalPath(arm),
    allRounds: overlapGroups(log),
    allCriticalPath: criticalPath(log),
    oidc: log.filter((r) => r.server === 'oidc').length,
    discovery: entra.filter(isDiscovery).length,
    token: entra.filter(isToken).length,
    entraOther: entra.filter((r) => !isDiscovery(r) && !isToken(r)).length,
    errors: log.filter((r) => r.status >= 400 || r.status === 0).length
  }
}

export type Summary = Record<keyof RunFigures, Stats>

/** Stats of every numeric figure over the runs, in the figures' key order (runs must not be empty). */
export function summarize(runs: readonly RunFigures[]): Summary {
  const keys = (Object.keys(runs[0]) as (keyof RunFigures)[]).filter((k) => typeof runs[0][k] === 'number')
  return Object.fromEntries(keys.map((k) => [k, stats(runs.map((r) => r[k]))])) as Summary
}

export const roundSummary = (s: Summary): Record<string, Stats> =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [k, roundStats(v)]))

// ── report text ─────────────────────────────────────────────────────────────────────────────

/** Wall time: `median (min–max)` in whole ms. */
export const fmtMs = (s: Stats): string => `${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)})`

/** A count: the median, with `(min–max)` only when they varied. */
export const fmtCount = (s: Stats): string => (s.min === s.max ? `${s.median}` : `${s.median} (${s.min}–${s.max})`)

/** A plain-text table: first column left-aligned, the others right-aligned, a rule under the head. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)))
  const line = (cells: readonly string[]): string =>
    cells.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ')
  return [line(head), w.map((x) => '─'.repeat(x)).join('  '), ...rows.map(line)].join('\n')
}

/** Replaces the subscription and tenant GUIDs of a request path with `{sub}` and `{tenant}`. */
export const shorten = (path: string): string =>
  path.replace(/\/subscriptions\/[0-9a-f-]{36}/i, '/subscriptions/{sub}').replace(/^\/[0-9a-f-]{36}\//i, '/{tenant}/')

/** One run's `--timeline` block: each request in ms from spawn (start → end), then the exit. */
export function timelineText(title: string, log: readonly LoggedRequest[], spawnedAt: number, endedAt: number): string {
  const at = (t: number): string => r1(t - spawnedAt).toFixed(1)
  const lines = log.map(
    (r) =>
      `  ${at(r.start).padStart(7)} → ${at(r.end).padStart(7)}  ${r.server.padEnd(5)} ${r.method.padEnd(6)} ${r.status} ${shorten(r.path)}`
  )
  return [title, ...lines, `  exit at ${at(endedAt)} ms`].join('\n')
}
