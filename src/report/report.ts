// Outputs and the job summary, from the plan and what was applied.
import * as core from '@actions/core'
import type { Applied } from '../apply/apply.js'
import { describeChange } from '../model/change-text.js'
import { type Plan } from '../model/changes.js'
import { type Grant } from '../model/changes.js'
import { type AccessModel } from '../model/changes.js'
import { referenceKey, referenceLabel, RESOLVED } from '../model/references.js'
import { escapeHtml } from './escape.js'
import type { Inputs } from '../inputs/inputs.js'

export interface Outputs {
  'principal-id': string
  'principal-ids': string
  'tenant-id': string
  'access-model': string
  changed: 'true' | 'false'
  references: string
  'client-id': string
}

export function computeOutputs(inputs: Inputs, plan: Plan, applied: Applied): Outputs {
  const ids: Record<string, string> = {}
  for (const app of inputs.apps) {
    const principal = applied.principals.get(app.key)
    if (principal) ids[app.key] = principal.principalId
  }
  // A user-assigned identity is one principal for every app: principal-id is it, however many apps.
  const shared = applied.userIdentity && {
    principalId: applied.userIdentity.principalId,
    tenantId: applied.userIdentity.tenantId
  }
  const single = shared ?? (inputs.apps.length === 1 ? applied.principals.get(inputs.apps[0].key) : undefined)
  const models = [...new Set(plan.grants.map((g) => g.model))] as AccessModel[]
  // plan: whether apply would change anything; verify: never changes; apply/revoke: whether it wrote.
  const changed = inputs.mode === 'plan' ? plan.changes.length > 0 : applied.writes.length > 0
  return {
    'principal-id': single?.principalId ?? '',
    'principal-ids': JSON.stringify(ids),
    'tenant-id': single?.tenantId ?? '',
    'access-model': models.length === 1 ? models[0] : models.join(','),
    changed: changed ? 'true' : 'false',
    'client-id': applied.userIdentity?.clientId ?? '',
    references: JSON.stringify(
      Object.fromEntries(
        [...applied.references].map(([app, refs]) => [
          app,
          Object.fromEntries(refs.map((r) => [referenceKey(r), r.status]))
        ])
      )
    )
  }
}

export function setOutputs(outputs: Outputs): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value)
}

const HEADINGS: Record<Inputs['mode'], { title: string; column: string; none: string }> = {
  apply: { title: 'Key Vault access: apply', column: 'Granted by this run', none: 'already granted' },
  plan: { title: 'Key Vault access: plan (nothing written)', column: 'Apply would grant', none: 'already granted' },
  verify: { title: 'Key Vault access: verify (nothing written)', column: 'Missing', none: 'nothing' },
  revoke: { title: 'Key Vault access: revoke', column: 'Revoked by this run', none: 'nothing held' }
}

/** What the run found and did, as plain text cells: rendered as the job summary and as the pull-request comment. */
export interface Report {
  title: string
  intro: string
  /** The planned changes (plan and verify), one line each. */
  changes: string[]
  grants: { header: string[]; rows: string[][] }
  /** Names, vaults and statuses only: a setting's value is never reported. Connection strings are marked. */
  references: { header: string[]; rows: string[][] }
  /** Warnings about what the run's changes do beyond its own references (App Configuration references). */
  notes?: string[]
  writes: string[]
  runUrl?: string
  footer: string
}

export function buildReport(
  inputs: Inputs,
  plan: Plan,
  applied: Applied,
  outputs: Outputs,
  notes: string[] = []
): Report {
  const heading = HEADINGS[inputs.mode]
  const readOnly = inputs.mode === 'plan' || inputs.mode === 'verify'
  const intro = readOnly
    ? plan.changes.length === 0
      ? 'Apply would change nothing.'
      : `Apply would make ${plan.changes.length} change(s):`
    : outputs.changed === 'true'
      ? `${applied.writes.length} change(s) made.`
      : 'Everything was already in place: nothing was written.'
  const references = [...applied.references].flatMap(([app, refs]) => refs.map((ref) => ({ app, ref })))
  return {
    title: heading.title,
    intro,
    changes: readOnly ? plan.changes.map(describeChange) : [],
    grants: {
      header: ['App', 'Identity (principal id)', 'Vault', 'Model', 'Requested', heading.column],
      rows: plan.grants.map((grant) => [
        grant.app,
        identityCell(applied, grant.app, inputs.mode),
        grant.vault,
        grant.model,
        grant.requested,
        changedCell(grant, heading.none)
      ])
    },
    references: {
      header: ['App', 'Setting', 'Vault / secret', 'Status'],
      rows: references.map(({ app, ref }) => [
        app,
        referenceLabel(ref),
        ref.vaultName && ref.secretName
          ? `${ref.vaultName}/${ref.secretName}${ref.secretVersion ? `/${ref.secretVersion}` : ''}`
          : '—',
        ref.status === RESOLVED ? ref.status : `${ref.status} ✗`
      ])
    },
    writes: applied.writes,
    notes,
    runUrl: workflowRunUrl(),
    footer: `Subscription ${inputs.subscriptionId}, resource group ${inputs.resourceGroup}.`
  }
}

export async function writeSummary(report: Report): Promise<void> {
  const summary = core.summary.addHeading(report.title, 2)
  summary.addRaw(`<p>${escapeHtml(report.intro)}</p>`)
  if (report.changes.length > 0) summary.addList(report.changes.map(escapeHtml))
  const table = ({ header, rows }: Report['grants']) => [
    header.map((data) => ({ data, header: true })),
    ...rows.map((row) => row.map(escapeHtml))
  ]
  summary.addTable(table(report.grants))
  if (report.references.rows.length > 0) {
    summary.addHeading('Key Vault references (App Service’s status)', 3)
    summary.addTable(table(report.references))
  }
  if (report.writes.length > 0) summary.addList(report.writes.map(escapeHtml))
  for (const note of report.notes ?? []) summary.addRaw(`<p>⚠️ ${escapeHtml(note)}</p>`)
  if (report.runUrl) summary.addLink('Workflow run', report.runUrl)
  summary.addRaw(`<p>${escapeHtml(report.footer)}</p>`)
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.debug('GITHUB_STEP_SUMMARY is not set: no job summary written.')
    summary.emptyBuffer()
    return
  }
  await summary.write()
}

/** What the run changed for the pair; after a revoke, also what of it is still held and through what. */
function changedCell(grant: Grant, none: string): string {
  if (!grant.stillHeld?.length) return grant.delta || none
  return `${grant.delta || 'nothing revoked'}; still held through ${grant.stillHeld.map((h) => h.through).join('; ')}`
}

function identityCell(applied: Applied, app: string, mode: Inputs['mode']): string {
  const principal = applied.principals.get(app)?.principalId
  if (applied.userIdentity)
    return `${applied.userIdentity.principalId} (user-assigned ${applied.userIdentity.name}${principal ? '' : ', detached'})`
  return principal ?? (mode === 'revoke' ? 'off' : 'not turned on')
}

/**
 * The run's URL from the runner's variables — the same ones @actions/github's `context` reads;
 * importing that package bundles Octokit (~210 kB of the bundle) for three strings.
 */
export function workflowRunUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { GITHUB_SERVER_URL: server = 'https://github.com', GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: runId } = env
  if (!repository || !runId) return undefined
  const attempt = env.GITHUB_RUN_ATTEMPT && env.GITHUB_RUN_ATTEMPT !== '1' ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''
  return `${server}/${repository}/actions/runs/${runId}${attempt}`
}
