// The plan where reviewers are: one comment per pull request and step, found again by a hidden
// marker and updated in place. Deciding and rendering are pure; the GitHub calls live in
// github-comments.ts, loaded only when a comment is posted: Octokit is a 240 kB chunk of its own,
// and runs that do not comment never parse it. (It shares undici with @actions/core: keep one
// undici in the lock file — `npm dedupe` — or the chunk grows by a second 900 kB copy.)
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as core from '@actions/core'
import type { Report } from './report.js'
import { tableCell } from './escape.js'
import type { Inputs } from '../inputs/inputs.js'
import type { PullRequest } from './github-comments.js'

/** Stays well below GitHub's 65536-character limit on a comment (422 beyond it). */
export const MAX_COMMENT = 60_000
const PR_EVENTS = ['pull_request', 'pull_request_target']

/** `auto`: on pull_request events, in plan and verify; `true`: in every mode, when there is a pull request. */
export function wantsComment(inputs: Inputs, env: NodeJS.ProcessEnv = process.env): boolean {
  if (inputs.prComment === 'false') return false
  if (inputs.prComment === 'true') return true
  return PR_EVENTS.includes(env.GITHUB_EVENT_NAME ?? '') && (inputs.mode === 'plan' || inputs.mode === 'verify')
}

/** The pull request of the event (pull_request, pull_request_target, or an issue_comment on a pull request). */
export function pullRequestOf(env: NodeJS.ProcessEnv = process.env): PullRequest | undefined {
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/')
  if (!owner || !repo || !env.GITHUB_EVENT_PATH) return undefined
  let payload: { pull_request?: { number?: unknown }; issue?: { number?: unknown; pull_request?: unknown } }
  try {
    payload = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as typeof payload
  } catch {
    return undefined
  }
  const number = payload.pull_request?.number ?? (payload.issue?.pull_request ? payload.issue.number : undefined)
  return typeof number === 'number' && Number.isInteger(number) && number > 0 ? { owner, repo, number } : undefined
}

/**
 * Identifies this step's comment: the pull request, workflow, job and step, and a digest of what
 * the step manages, so that matrix legs (one job id) on different apps keep a comment each.
 */
export function markerOf(inputs: Inputs, pr: PullRequest, env: NodeJS.ProcessEnv = process.env): string {
  const targets = [inputs.resourceGroup, ...inputs.apps.map((a) => a.key), ...inputs.vaults.map((v) => v.name)]
  const digest = createHash('sha256').update(targets.join('\n').toLowerCase()).digest('hex').slice(0, 12)
  const part = (text: string | undefined): string => (text ?? '').replace(/--|[<>"\n]/g, '_').slice(0, 100)
  return `<!-- keyvault-app-identity-action pr="${pr.number}" workflow="${part(env.GITHUB_WORKFLOW)}" job="${part(env.GITHUB_JOB)}" step="${part(env.GITHUB_ACTION)}" targets="${digest}" -->`
}

/** The job summary's content as Markdown, ending in the marker. Never a token, never a setting's value. */
export function renderComment(report: Report, marker: string): string {
  const lines = [`### ${tableCell(report.title)}`, '', tableCell(report.intro)]
  if (report.changes.length > 0) lines.push('', ...report.changes.map((c) => `- ${tableCell(c)}`))
  lines.push('', ...table(report.grants))
  if (report.references.rows.length > 0) {
    lines.push('', '**Key Vault references** (App Service’s status)', '', ...table(report.references))
  }
  if (report.writes.length > 0) lines.push('', ...report.writes.map((w) => `- ${tableCell(w)}`))
  for (const note of report.notes ?? []) lines.push('', `⚠️ ${tableCell(note)}`)
  lines.push(
    '',
    [report.runUrl ? `[Workflow run](${report.runUrl})` : '', tableCell(report.footer)].filter(Boolean).join(' · ')
  )
  let body = lines.join('\n')
  if (body.length > MAX_COMMENT) body = `${body.slice(0, MAX_COMMENT)}\n\n… (cut: the job summary has it all)`
  return `${body}\n\n${marker}`
}

function table({ header, rows }: { header: string[]; rows: string[][] }): string[] {
  return [
    `| ${header.map(tableCell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(tableCell).join(' | ')} |`)
  ]
}

/** Posts or updates the comment; a failure is one warning, never the step's failure. */
export async function commentOnPullRequest(
  inputs: Inputs,
  report: Report,
  env: NodeJS.ProcessEnv = process.env
): Promise<void> {
  if (!wantsComment(inputs, env)) return
  const pr = pullRequestOf(env)
  if (!pr) {
    core.info('No pull request in this event: no comment posted.')
    return
  }
  if (!inputs.githubToken) {
    core.warning(`No 'github-token': the plan was not posted on pull request #${pr.number}.`)
    return
  }
  core.setSecret(inputs.githubToken)
  const marker = markerOf(inputs, pr, env)
  try {
    const { upsertComment } = await import('./github-comments.js')
    const result = await upsertComment(inputs.githubToken, pr, marker, renderComment(report, marker))
    core.info(`${result.created ? 'Posted' : 'Updated'} the plan on pull request #${pr.number}: ${result.url}`)
  } catch (error) {
    core.warning(commentFailure(pr, error))
  }
}

function commentFailure(pr: PullRequest, error: unknown): string {
  const e = error as { status?: number; message?: string; response?: { headers?: Record<string, string | undefined> } }
  const headers = e.response?.headers ?? {}
  const said = (e.message ?? String(error)).split('\n')[0]
  const base = `Could not comment on pull request #${pr.number}`
  if (/secondary rate limit/i.test(said) || e.status === 429 || headers['x-ratelimit-remaining'] === '0') {
    return `${base}: GitHub's rate limit (${said}). Not commenting this time; the step goes on.`
  }
  if (e.status === 403 || e.status === 404) {
    const needs = headers['x-accepted-github-permissions']
      ? ` GitHub accepts: ${headers['x-accepted-github-permissions']}.`
      : ''
    return (
      `${base}: the token may not write comments (${e.status}: ${said}).${needs} The step goes on.\n` +
      `Fix: give the job 'permissions: pull-requests: write'; pull requests from forks always get a read-only token ` +
      `(set 'pr-comment: false' there, or comment from a workflow_run job).`
    )
  }
  return `${base}: ${said}. The step goes on.`
}
