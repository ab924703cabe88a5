// `npm run bench [-- --reps N] [-- --no-az]`: times the bundled action (dist/index.js, spawned as
// the runner spawns it) against the in-process fake Azure with 40 ms added to every Entra ID and
// ARM request, and, when `az` is on the PATH, the az CLI doing the same job against the same fake
// (bench-az.ts). Prints a table, then one line `BENCH_JSON {...}`. Definitions: docs/benchmarks.md.
import { spawn } from 'node:child_process'
import { accessSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { startFakeAzure, type FakeAzure, type RequestLogEntry } from '../test/fake-azure/index.ts'
import { ACTION, parseOutputs, runnerEnv } from '../test/e2e/run-action.ts'
import { azBench, type Spawned } from './bench-az.ts'
import {
  figures,
  fmtCount,
  fmtMs,
  r1,
  roundStats,
  roundSummary,
  stats,
  summarize,
  table,
  timelineText,
  type RunFigures,
  type Summary
} from './bench-lib.ts'

const LATENCY_MS = 40
const MANY = 20
const RG = 'bench-rg'

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    'no-az': { type: 'boolean', default: false },
    timeline: { type: 'boolean', default: false } // print each request of the first repetition, in ms from spawn
  }
})
const REPS = Number(args.reps)
if (!Number.isInteger(REPS) || REPS < 1) {
  console.error(`--reps must be a positive integer, got '${args.reps}'`)
  process.exit(2)
}
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`bench: needs Node 24 (the action's runtime), this is ${process.version}; run it with npm run bench`)
  process.exit(2)
}
try {
  accessSync(ACTION)
} catch {
  console.error(`bench: ${ACTION} is missing; run npm run package first`)
  process.exit(2)
}

// ── one measured run ────────────────────────────────────────────────────────────────────────

const timelines: string[] = []
function keepTimeline(title: string, log: readonly RequestLogEntry[], spawnedAt: number, endedAt: number): void {
  if (!args.timeline || timelines.some((t) => t.startsWith(`${title}\n`))) return
  timelines.push(timelineText(title, log, spawnedAt, endedAt))
}

// The fake logs performance.now() of this process, so spawn time and request times share a clock.
function run(cmd: string, argv: string[], env: Record<string, string>): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const spawnedAt = performance.now()
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, spawnedAt, endedAt: performance.now() }))
  })
}

async function runActionTimed(
  title: string,
  fake: FakeAzure,
  inputs: Record<string, string>,
  expectChanged: boolean
): Promise<RunFigures> {
  const env = runnerEnv(fake, inputs)
  fake.clearLog()
  const p = await run(process.execPath, [ACTION], env)
  const log = [...fake.requests]
  const outputs = parseOutputs(readFileSync(env.GITHUB_OUTPUT, 'utf8'))
  rmSync(dirname(env.GITHUB_OUTPUT), { recursive: true, force: true })
  if (p.code !== 0 || outputs.changed !== String(expectChanged)) {
    throw new Error(
      `action run failed (exit ${p.code}, changed=${outputs.changed}, expected ${expectChanged}):\n${p.stdout}\n${p.stderr}`
    )
  }
  keepTimeline(`action, ${title}`, log, p.spawnedAt, p.endedAt)
  return figures(log, p.spawnedAt, p.endedAt)
}

// ── the world ───────────────────────────────────────────────────────────────────────────────

const fake = await startFakeAzure()
fake.addResourceGroup(RG)
const seedApps = (names: string[]): void => {
  for (const name of names) fake.addSite({ resourceGroup: RG, name, tags: { bench: 'yes' } })
}
const seedVault = (name: string): void => {
  fake.addVault({ resourceGroup: RG, name, enableRbacAuthorization: false })
}
const inputs = (apps: string[], vault: string): Record<string, string> => ({
  'app-name': apps.join(','),
  'resource-group': RG,
  'vault-name': vault,
  'secret-permissions': 'get,list'
})

const seed = (apps: string[], vault: string): void => {
  seedApps(apps)
  seedVault(vault)
}
const az = azBench({ fake, rg: RG, run, keepTimeline, seed }, args['no-az'])

// ── the runs ────────────────────────────────────────────────────────────────────────────────

const SCENARIOS = {
  first: 'first run: 1 app (no identity) + access-policy vault',
  rerun: 're-run of the same (nothing to do)',
  many: `first run: ${MANY} apps + 1 vault, one step`,
  manyRerun: `re-run: ${MANY} apps + 1 vault`,
  container: 'first run: 1 container app (no identity) + access-policy vault',
  containerRerun: 're-run of the container app (nothing to do)'
} as const
type Scenario = keyof typeof SCENARIOS
const results: Record<Scenario, RunFigures[]> = {
  first: [],
  rerun: [],
  many: [],
  manyRerun: [],
  container: [],
  containerRerun: []
}
const nodeBaseline: number[] = []

try {
  // Warm-up (not counted): page cache for node and dist/index.js, TLS session setup in the fake.
  seedApps(['warmup-app'])
  seedVault('warmup-kv')
  await runActionTimed('warm-up', fake, inputs(['warmup-app'], 'warmup-kv'), true)
  timelines.length = 0
  await az.prepare()
  fake.setLatency(LATENCY_MS)

  for (let i = 0; i < REPS; i++) {
    process.stderr.write(`rep ${i + 1}/${REPS}…\n`)
    const base = await run(process.execPath, ['-e', '0'], { PATH: process.env.PATH ?? '' })
    nodeBaseline.push(base.endedAt - base.spawnedAt)

    const app = `first-app-${i}`
    seedApps([app])
    seedVault(`first-kv-${i}`)
    results.first.push(await runActionTimed(SCENARIOS.first, fake, inputs([app], `first-kv-${i}`), true))
    results.rerun.push(await runActionTimed(SCENARIOS.rerun, fake, inputs([app], `first-kv-${i}`), false))

    const apps = Array.from({ length: MANY }, (_, k) => `many-app-${i}-${k}`)
    seedApps(apps)
    seedVault(`many-kv-${i}`)
    results.many.push(await runActionTimed(SCENARIOS.many, fake, inputs(apps, `many-kv-${i}`), true))
    results.manyRerun.push(await runActionTimed(SCENARIOS.manyRerun, fake, inputs(apps, `many-kv-${i}`), false))

    // A container app: its identity PATCH is a long-running operation (202, then its status).
    const container = `bench-aca-${i}`
    fake.addContainerApp({ resourceGroup: RG, name: container })
    seedVault(`aca-kv-${i}`)
    const containerInputs = { ...inputs([], `aca-kv-${i}`), 'app-name': '', 'container-app': container }
    results.container.push(await runActionTimed(SCENARIOS.container, fake, containerInputs, true))
    results.containerRerun.push(await runActionTimed(SCENARIOS.containerRerun, fake, containerInputs, false))

    await az.rep(i)
  }
} finally {
  await fake.close()
}

// ── report ──────────────────────────────────────────────────────────────────────────────────

const cpuModel = /model name\s*:\s*(.+)/.exec(safeRead('/proc/cpuinfo'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown'
const machine = {
  nproc: cpus().length,
  cpu: cpuModel,
  ramGiB: r1(totalmem() / 2 ** 30),
  node: process.version,
  os: `${process.platform} ${process.arch}`
}
const distDir = dirname(ACTION)
const distIndexBytes = statSync(ACTION).size
const distJsBytes = readdirSync(distDir)
  .filter((f) => f.endsWith('.js'))
  .reduce((t, f) => t + statSync(join(distDir, f)).size, 0)

const summary = Object.fromEntries(
  (Object.keys(results) as Scenario[]).map((s) => [s, summarize(results[s])])
) as Record<Scenario, Summary>
const ratio = summary.many.wallMs.median / summary.first.wallMs.median

if (timelines.length)
  console.log(
    `\nRequest timelines (first repetition; ms from spawn: start → end, server, method, status, path):\n${timelines.join('\n')}`
  )
console.log(
  `\nBenchmark: dist/index.js on ${machine.node}, ${REPS} repetitions, +${LATENCY_MS} ms on every Entra ID and ARM request`
)
console.log(`Machine: ${machine.nproc} CPUs, ${machine.cpu}, ${machine.ramGiB} GiB RAM, ${machine.os}`)
console.log(
  `dist/index.js ${(distIndexBytes / 1024).toFixed(0)} KiB (all dist/*.js ${(distJsBytes / 1024).toFixed(0)} KiB); bare \`node -e 0\` ${fmtMs(stats(nodeBaseline))} ms\n`
)
console.log('Wall time in ms: median (min–max). Counts: median, with (min–max) when they varied.')
console.log(
  table(
    [
      'scenario',
      'wall ms',
      'spawn→1st req ms',
      'ARM req',
      'ARM writes',
      'ARM rounds',
      'ARM crit. path',
      'all rounds',
      'OIDC/disc/token'
    ],
    (Object.keys(SCENARIOS) as Scenario[]).map((s) => {
      const x = summary[s]
      return [
        SCENARIOS[s],
        fmtMs(x.wallMs),
        fmtMs(x.spawnToFirstRequestMs),
        fmtCount(x.armRequests),
        fmtCount(x.armWrites),
        fmtCount(x.armRounds),
        fmtCount(x.armCriticalPath),
        fmtCount(x.allRounds),
        `${fmtCount(x.oidc)}/${fmtCount(x.discovery)}/${fmtCount(x.token)}`
      ]
    })
  )
)
console.log(`\n${MANY} apps vs 1 app, first run, wall ratio: ${ratio.toFixed(2)} (goal ≤ 2.0)`)

const goals: [string, boolean][] = [
  ['first run: 3 sequential ARM rounds', summary.first.armCriticalPath.max <= 3],
  ['re-run: 1 ARM round, 0 writes', summary.rerun.armCriticalPath.max <= 1 && summary.rerun.armWrites.max === 0],
  [
    'sign-in: 1 OIDC + 1 discovery + 1 token (every run)',
    (Object.keys(SCENARIOS) as Scenario[]).every(
      (s) =>
        summary[s].oidc.max === 1 &&
        summary[s].discovery.max === 1 &&
        summary[s].token.max === 1 &&
        summary[s].oidc.min === 1 &&
        summary[s].discovery.min === 1 &&
        summary[s].token.min === 1
    )
  ],
  ['spawn→first request ≤ 250 ms (median)', summary.first.spawnToFirstRequestMs.median <= 250],
  [`${MANY} apps / 1 app wall ≤ 2.0`, ratio <= 2.0]
]
for (const [goal, okay] of goals) console.log(`  ${okay ? 'ok  ' : 'MISS'} ${goal}`)

const azJson = az.report(summary.first.wallMs.median)

const json = {
  machine,
  latencyMs: LATENCY_MS,
  reps: REPS,
  distIndexBytes,
  distJsBytes,
  nodeBaselineMs: roundStats(stats(nodeBaseline)),
  scenarios: Object.fromEntries((Object.keys(summary) as Scenario[]).map((s) => [s, roundSummary(summary[s])])),
  manyVsOneWallRatio: Math.round(ratio * 100) / 100,
  goals: Object.fromEntries(goals),
  az: azJson
}
console.log(`\nBENCH_JSON ${JSON.stringify(json)}`)

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}
