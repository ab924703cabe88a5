// The az CLI half of `npm run bench`: find az, point a custom cloud at the fake Azure, log in with
// the GitHub OIDC token as a federated credential, and time the same job the action does
// (identity assign + access policy), each step a separate az process. The driver is bench.ts.
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADFS_DISCOVERY_PATH } from '../test/fake-azure/sign-in/adfs.ts'
import type { FakeAzure, RequestLogEntry } from '../test/fake-azure/index.ts'
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
  type RunFigures
} from './bench-lib.ts'

export interface Spawned {
  code: number
  stdout: string
  stderr: string
  spawnedAt: number
  endedAt: number
}

/** What the az runs need from the driver. */
export interface AzContext {
  fake: FakeAzure
  rg: string
  /** Spawns a process and times it on the clock the fake stamps its log with. */
  run(cmd: string, argv: string[], env: Record<string, string>): Promise<Spawned>
  /** Seeds fresh apps and an access-policy vault in `rg`. */
  seed(apps: string[], vault: string): void
  /** Keeps a step's request log for `--timeline`. */
  keepTimeline(title: string, log: readonly RequestLogEntry[], spawnedAt: number, endedAt: number): void
}

interface AzStep extends RunFigures {
  step: string
}
interface AzRun {
  versionMs: number
  setupMs: number
  steps: AzStep[]
  jobMs: number
}

export function findOnPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK)
      return join(dir, cmd)
    } catch {
      /* next */
    }
  }
  return undefined
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { ca }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }))
    req.end()
  })
}

// az needs an authority ending in /adfs: MSAL for Python 1.21 then skips instance discovery and
// asks {authority}/.well-known/openid-configuration, which the fake's Entra ID answers itself
// (withAdfs, test/fake-azure/sign-in/adfs.ts). Checked once up front so a fake without it fails clearly
// instead of as an MSAL error deep in `az login`.
async function adfsAuthority(fake: FakeAzure): Promise<string> {
  const url = `${fake.authorityHost}${ADFS_DISCOVERY_PATH}`
  const res = await httpsGet(url, readFileSync(fake.caCertPath, 'utf8'))
  fake.clearLog()
  let tokenEndpoint: unknown
  try {
    tokenEndpoint = (JSON.parse(res.body) as { token_endpoint?: unknown }).token_endpoint
  } catch {
    /* reported below */
  }
  if (res.status !== 200 || typeof tokenEndpoint !== 'string') {
    const got = res.error ?? `HTTP ${res.status}${res.status === 200 ? ' without a token_endpoint' : ''}`
    throw new Error(
      `the fake Entra ID does not answer the ADFS discovery az needs (GET ${url}: ${got}); ` +
        'it is served by withAdfs (test/fake-azure/sign-in/adfs.ts), wired into the Entra server in test/fake-azure/index.ts'
    )
  }
  return `${fake.authorityHost}/adfs`
}

function oidcJwt(fake: FakeAzure): Promise<string> {
  return fetch(`${fake.oidcRequestUrl}&audience=${encodeURIComponent('api://AzureADTokenExchange')}`, {
    headers: { authorization: `Bearer ${fake.oidcRequestToken}` }
  }).then(async (r) => ((await r.json()) as { value: string }).value)
}

async function azRun(ctx: AzContext, az: string, authority: string, i: number): Promise<AzRun> {
  const { fake, rg } = ctx
  const configDir = mkdtempSync(join(tmpdir(), 'bench-az-'))
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? configDir,
    AZURE_CONFIG_DIR: configDir,
    REQUESTS_CA_BUNDLE: fake.caCertPath,
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_OUTPUT: 'json',
    AZURE_CORE_NO_COLOR: 'true'
  }
  const app = `az-app-${i}`
  const vault = `az-kv-${i}`
  ctx.seed([app], vault)
  const exec = async (step: string, argv: string[]): Promise<{ out: string; fig: AzStep }> => {
    fake.clearLog()
    const p = await ctx.run(az, argv, env)
    if (p.code !== 0) throw new Error(`az ${step} failed (exit ${p.code}):\n${p.stderr.slice(-3000)}`)
    ctx.keepTimeline(`az ${step}`, fake.requests, p.spawnedAt, p.endedAt)
    return { out: p.stdout, fig: { step, ...figures([...fake.requests], p.spawnedAt, p.endedAt) } }
  }
  try {
    const version = await exec('--version', ['--version'])
    const register = await exec('cloud register', [
      ...['cloud', 'register', '-n', 'FakeAzure', '--endpoint-resource-manager', `${fake.armEndpoint}/`],
      ...['--endpoint-management', 'https://management.azure.com/', '--endpoint-active-directory', authority],
      ...['--endpoint-active-directory-resource-id', 'https://management.azure.com/'],
      ...['--endpoint-active-directory-graph-resource-id', 'https://graph.windows.net/'],
      ...['--suffix-keyvault-dns', '.vault.azure.net']
    ])
    const set = await exec('cloud set', ['cloud', 'set', '-n', 'FakeAzure'])
    const jwt = await oidcJwt(fake)
    const login = await exec('login', [
      'login',
      '--service-principal',
      '-u',
      fake.clientId,
      '--tenant',
      fake.tenantId,
      '--federated-token',
      jwt
    ])
    const assign = await exec('webapp identity assign', ['webapp', 'identity', 'assign', '-g', rg, '-n', app])
    const principalId = (JSON.parse(assign.out) as { principalId: string }).principalId
    const policy = await exec('keyvault set-policy', [
      'keyvault',
      'set-policy',
      '-n',
      vault,
      '--object-id',
      principalId,
      '--secret-permissions',
      'get',
      'list'
    ])
    const granted = fake.getVault(rg, vault)?.properties.accessPolicies.some((p) => p.objectId === principalId)
    if (!granted) throw new Error('az keyvault set-policy finished but the vault has no policy for the identity')
    const steps = [login.fig, assign.fig, policy.fig]
    return {
      versionMs: version.fig.wallMs,
      setupMs: register.fig.wallMs + set.fig.wallMs,
      steps,
      jobMs: steps.reduce((t, s) => t + s.wallMs, 0)
    }
  } finally {
    rmSync(configDir, { recursive: true, force: true })
  }
}

export interface AzBench {
  prepare(): Promise<void>
  rep(i: number): Promise<void>
  report(actionFirstRunMs: number): Record<string, unknown>
}

/**
 * The az side of a bench: `prepare()` once before the latency is set, `rep(i)` in every repetition
 * (after the first failure the later ones are skipped), `report()` prints the az table and returns
 * the `az` object of BENCH_JSON.
 */
export function azBench(ctx: AzContext, skip: boolean): AzBench {
  const az = skip ? undefined : findOnPath('az')
  let status = az ? '' : skip ? 'skipped (--no-az)' : 'az not found: skipped'
  let version = ''
  let authority = ''
  const runs: AzRun[] = []

  async function prepare(): Promise<void> {
    if (!az) return
    const dir = mkdtempSync(join(tmpdir(), 'bench-az-'))
    const v = await ctx.run(az, ['--version'], {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      AZURE_CONFIG_DIR: dir,
      AZURE_CORE_COLLECT_TELEMETRY: 'false'
    })
    rmSync(dir, { recursive: true, force: true })
    version = /azure-cli\s+(\S+)/.exec(v.stdout)?.[1] ?? 'unknown'
    try {
      authority = await adfsAuthority(ctx.fake)
    } catch (e) {
      status = `az failed: ${(e as Error).message}`
    }
  }

  async function rep(i: number): Promise<void> {
    if (!az || status) return
    try {
      runs.push(await azRun(ctx, az, authority, i))
    } catch (e) {
      status = `az failed: ${(e as Error).message}`
    }
  }

  function report(actionFirstRunMs: number): Record<string, unknown> {
    if (az && !status) status = `az ${version}; authority: fake Entra ID (withAdfs)`
    if (!runs.length) {
      console.log(`\n${status}`)
      return { status }
    }
    const steps = runs[0].steps.map((s) => s.step)
    const stepSummary = Object.fromEntries(steps.map((step, k) => [step, summarize(runs.map((r) => r.steps[k]))]))
    const versionMs = stats(runs.map((r) => r.versionMs))
    const setupMs = stats(runs.map((r) => r.setupMs))
    const job = stats(runs.map((r) => r.jobMs))
    const ratio = job.median / actionFirstRunMs
    const blank = ['', '', '', '', '']
    console.log(`\naz CLI ${version}, same job, same fake and latency (${status.replace(/^az \S+; /, '')}):`)
    console.log(
      table(
        ['az step', 'wall ms', 'ARM req', 'ARM writes', 'ARM crit. path', 'Entra req', 'OIDC'],
        [
          ['az --version (no network to the fake)', fmtMs(versionMs), ...blank],
          ['az cloud register + cloud set (setup, not counted)', fmtMs(setupMs), ...blank],
          ...steps.map((step, k) => {
            const x = stepSummary[step]
            const entra = stats(runs.map((r) => r.steps[k].discovery + r.steps[k].token + r.steps[k].entraOther))
            const counts = [x.armRequests, x.armWrites, x.armCriticalPath, entra, x.oidc].map(fmtCount)
            return [`az ${step}`, fmtMs(x.wallMs), ...counts]
          }),
          ['az job = login + identity assign + set-policy', fmtMs(job), ...blank]
        ]
      )
    )
    console.log(
      `az job / action first run: ${ratio.toFixed(1)}×; action first run / az --version: ${(actionFirstRunMs / versionMs.median).toFixed(2)}`
    )
    return {
      status,
      version,
      versionMs: roundStats(versionMs),
      setupMs: roundStats(setupMs),
      jobMs: roundStats(job),
      ratioToAction: r1(ratio),
      actionFirstRunToAzVersion: Math.round((actionFirstRunMs / versionMs.median) * 100) / 100,
      steps: Object.fromEntries(Object.entries(stepSummary).map(([k, v]) => [k, roundSummary(v)]))
    }
  }

  return { prepare, rep, report }
}
