// Runs the bundled action exactly as the GitHub runner runs a node24 action: `node dist/index.js`
// with each input as INPUT_<NAME> (upper-cased, hyphens kept) and the runner's file commands.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { FakeAzure } from '../fake-azure/index.ts'

/** The bundle under test; ACTION_UNDER_TEST points the tests at another build (e.g. an older one, to see a test fail). */
export const ACTION = process.env.ACTION_UNDER_TEST ?? resolve(import.meta.dirname, '../../dist/index.js')

export interface ActionRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** The `::error::` message, decoded. */
  error: string
  durationMs: number
}

export interface RunOptions {
  /** Extra or replaced environment variables; a value of undefined removes one. */
  env?: Record<string, string | undefined>
  /** Skip the fake's default inputs (client, tenant, subscription, endpoints). */
  bare?: boolean
}

/** Inputs naming one app and one vault, both in resource group `rg`. */
export function targetInputs(
  rg: string,
  app: string,
  vault: string,
  extra: Record<string, string> = {}
): Record<string, string> {
  return { 'app-name': app, 'resource-group': rg, 'vault-name': vault, 'vault-resource-group': rg, ...extra }
}

export function runnerEnv(
  fake: FakeAzure | undefined,
  inputs: Record<string, string>,
  options: RunOptions = {}
): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'action-run-'))
  for (const file of ['output', 'summary', 'state', 'env', 'path']) writeFileSync(join(dir, file), '')
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: dir,
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_PATH: join(dir, 'path'),
    GITHUB_REPOSITORY: 'octo-org/octo-repo',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: 'ffac537e6cbbf934b08745a378932722df287a53',
    GITHUB_EVENT_NAME: 'push',
    ...(fake && !options.bare ? fake.env() : {}),
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
    ...options.env
  }
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
}

export async function runAction(
  fake: FakeAzure | undefined,
  inputs: Record<string, string>,
  options: RunOptions = {}
): Promise<ActionRun> {
  const env = runnerEnv(fake, inputs, options)
  const started = performance.now()
  const child = spawn(process.execPath, [ACTION], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exitCode = await new Promise<number>((done) => child.on('close', (code) => done(code ?? -1)))
  const durationMs = performance.now() - started
  const outputs = parseOutputs(readFileSync(env.GITHUB_OUTPUT, 'utf8'))
  const summary = readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8')
  rmSync(env.RUNNER_TEMP, { recursive: true, force: true })
  return { exitCode, stdout, stderr, outputs, summary, error: parseError(stdout), durationMs }
}

/** GITHUB_OUTPUT file commands: `name<<DELIMITER\nvalue\nDELIMITER\n`. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i])
    if (!match) continue
    const [, name, delimiter] = match
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i])
    outputs[name] = value.join('\n')
  }
  return outputs
}

/** core.setFailed writes `::error::message` with %0A for newlines. */
function parseError(stdout: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith('::error::'))
  if (!line) return ''
  return line.slice('::error::'.length).replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%25', '%')
}
