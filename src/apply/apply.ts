// Carries out a plan in phases, ordered so that no Key Vault reference is ever fetched with an
// identity that lacks access (App Service refetches every reference on each identity or settings
// write and caches a failure for up to 24 hours): system identities turned on (their principal ids
// are needed for the grants), then access granted or removed (one access-policy request per vault,
// one request per role assignment), then a user-assigned identity attached and made the reference
// identity (its principal is known before, so it is granted first), then the app settings, then
// identities turned off (revoke needs the principal until the end).
// Each change kind has its own executor under apply/; this module runs them and keeps the ledger.
import * as core from '@actions/core'
import type { RetryBudget } from '../azure/http/budget.js'
import type { AppState, UserIdentity } from '../model/state.js'
import { addAccessPolicies, removeAccessPolicies } from './access-policies.js'
import type { ApplyContext, Principal } from './context.js'
import { checkReferences, setAppSettings } from './app-settings.js'
import { setContainerSecrets } from './container-secrets.js'
import { attachIdentity, detachIdentity, setIdentity } from './identity.js'
import { assignRole, deleteRoleAssignment } from './role-assignments.js'
import { checkIdentityTenant } from '../plan/plan.js'
import { type Change } from '../model/changes.js'
import { grantees } from '../plan/identity.js'
import { appsServed } from '../model/changes.js'
import type { Azure } from '../azure/clients.js'
import type { CurrentState } from '../model/state.js'
import type { ReferenceState } from '../model/references.js'
import { mapLimit } from './concurrency.js'
import type { Inputs } from '../inputs/inputs.js'

/** Writes in flight at once: enough to hide latency, few enough to stay clear of ARM's write throttling. */
export const WRITE_CONCURRENCY = 8

export interface Applied {
  /** Each app's granted identity after the run, by app key. */
  principals: Map<string, Principal>
  /** With a user-assigned `identity`: that identity (its client id is an output). */
  userIdentity?: UserIdentity
  /** App Service's Key Vault references of each app after the run (as read before it, when not written). */
  references: Map<string, ReferenceState[]>
  /** One line per write made, in the order they completed. */
  writes: string[]
}

type Executor = (change: Change, ctx: ApplyContext) => Promise<void>

const EXECUTORS: Record<Change['kind'], Executor> = {
  'enable-identity': setIdentity as Executor,
  'disable-identity': setIdentity as Executor,
  'add-access-policy': addAccessPolicies as Executor,
  'remove-access-policy': removeAccessPolicies as Executor,
  'assign-role': assignRole as Executor,
  'delete-role-assignment': deleteRoleAssignment as Executor,
  'set-app-settings': setAppSettings as Executor,
  'attach-identity': attachIdentity as Executor,
  'detach-identity': detachIdentity as Executor,
  'set-container-secrets': setContainerSecrets as Executor
}

const GRANTS: Change['kind'][] = ['add-access-policy', 'remove-access-policy', 'assign-role', 'delete-role-assignment']

/** The phases, in order; each restarts an app at most once (the grants never do). */
const PHASES: Change['kind'][][] = [
  ['enable-identity'],
  GRANTS,
  ['attach-identity'],
  ['set-app-settings', 'set-container-secrets'],
  ['disable-identity', 'detach-identity']
]

/** Writes that wait until every grant of their app is in place: App Service fetches references right after them. */
const AFTER_GRANTS = new Set<Change['kind']>(['attach-identity', 'set-app-settings', 'set-container-secrets'])

export async function applyPlan(
  changes: Change[],
  state: CurrentState,
  azure: Azure,
  inputs: Inputs,
  budget: RetryBudget
): Promise<Applied> {
  const principals = principalsBefore(state)
  const references = new Map(state.references)
  const writes: string[] = []
  // One failed write does not stop the independent ones: each phase runs to the end, later phases
  // skip only the apps an earlier failure touched, and the caller reports every write made.
  const failures: unknown[] = []
  const failedApps = new Set<string>()
  /** `app vault-id` pairs that cannot be granted (a new identity in another tenant than the vault). */
  const failedPairs = new Set<string>()
  /** Apps as this run's identity writes left them: a later write builds on that, not on the plan's read. */
  const latest = new Map<string, AppState>()
  const ctx: ApplyContext = {
    azure,
    inputs: inputs,
    budget,
    principals,
    references,
    configChanged: new Map(),
    app: (key) => latest.get(key) ?? state.apps.find((a) => a.target.key === key)!,
    appChanged: (after) => latest.set(after.target.key, after),
    vault: (id) => state.vaults.find((v) => v.id === id)!,
    record: (line) => {
      writes.push(line)
      core.notice(line)
    },
    fail: (app, error, vaultId) => {
      failures.push(error)
      if (vaultId) failedPairs.add(pair(app, vaultId))
      else failedApps.add(app)
    }
  }
  const run = async (change: Change): Promise<void> => {
    try {
      await EXECUTORS[change.kind](change, ctx)
    } catch (error) {
      failures.push(error)
      for (const app of appsOf(change)) failedApps.add(app)
    }
  }
  for (const kinds of PHASES) {
    // After identities are turned on their tenants are known: each new identity is checked once
    // against each vault it is to be granted on, and only that pair is left out if they differ.
    if (kinds === GRANTS) checkNewIdentityTenants(changes, ctx)
    // An identity whose access could not be changed stays as it is, so that a re-run can finish the job.
    const runnable = changes
      .filter((c) => kinds.includes(c.kind))
      .map((c) => withoutFailed(c, failedApps, failedPairs))
      .filter((c) => c !== undefined)
    await mapLimit(runnable, WRITE_CONCURRENCY, run)
    // Apps whose settings needed no write: their requested references must resolve all the same.
    // An app with a failure is left out, its skipped settings change too: references never
    // written are not a second failure of the same cause.
    if (kinds.includes('set-app-settings') && inputs.mode === 'apply') {
      const settled = new Set(runnable.map((c) => ('app' in c ? c.app : '')))
      // Key Vault references are App Service's; container targets prove theirs when written.
      const others = state.apps.filter(
        (a) => !a.target.kind && !settled.has(a.target.key) && !anyFailure(a.target.key, failedApps, failedPairs)
      )
      await mapLimit(others, WRITE_CONCURRENCY, async (app) => {
        try {
          await checkReferences(ctx, app)
        } catch (error) {
          ctx.fail(app.target.key, error)
        }
      })
    }
  }
  const applied = { principals, references, writes, userIdentity: state.userIdentity }
  if (failures.length > 0) throw new PartialApplyError(failures, applied)
  return applied
}

/** The apps a change serves: a shared user-assigned identity's grant serves every app that uses it. */
function appsOf(change: Change): string[] {
  return 'entries' in change ? change.entries.flatMap(appsServed) : appsServed(change)
}

const pair = (app: string, vaultId: string): string => `${app} ${vaultId.toLowerCase()}`

/** The change without the apps (or app and vault pairs) that failed before; undefined when nothing is left. */
function withoutFailed<C extends Change>(change: C, apps: Set<string>, pairs: Set<string>): C | undefined {
  const vaultId = 'vaultId' in change ? change.vaultId : undefined
  const ok = (app: string): boolean => !apps.has(app) && !(vaultId && pairs.has(pair(app, vaultId)))
  // A shared identity's grant goes on while any app that uses it is still fine.
  const anyOk = (grant: { app: string; sharedBy?: string[] }): boolean => appsServed(grant).some(ok)
  // An app's settings and reference identity wait for every grant of it: a reference to a vault it
  // was not granted on would fail and be cached.
  if (AFTER_GRANTS.has(change.kind) && 'app' in change) return anyFailure(change.app, apps, pairs) ? undefined : change
  if (!('entries' in change)) return anyOk(change) ? change : undefined
  const entries = change.entries.filter(anyOk)
  return entries.length > 0 ? { ...change, entries } : undefined
}

/** Whether any change of `app` failed, on any vault. */
function anyFailure(app: string, apps: Set<string>, pairs: Set<string>): boolean {
  return apps.has(app) || [...pairs].some((p) => p.startsWith(`${app} `))
}

/** One failure per new identity and vault of another tenant, however many changes the pair has. */
function checkNewIdentityTenants(changes: Change[], ctx: ApplyContext): void {
  const checked = new Set<string>()
  for (const change of changes) {
    if (!('vaultId' in change)) continue
    const unknown =
      'entries' in change ? change.entries.filter((e) => !e.principalId) : change.principalId ? [] : [change]
    for (const { app } of unknown) {
      const principal = ctx.principals.get(app)
      if (!principal || checked.has(pair(app, change.vaultId))) continue
      checked.add(pair(app, change.vaultId))
      try {
        checkIdentityTenant(app, principal.tenantId, ctx.vault(change.vaultId))
      } catch (error) {
        ctx.fail(app, error, change.vaultId)
      }
    }
  }
}

/**
 * The identities granted before any write, by app key (all that plan and verify report): the
 * user-assigned identity's for every app, or each app's system-assigned one when it exists.
 */
export function principalsBefore(state: CurrentState): Map<string, Principal> {
  const principals = new Map<string, Principal>()
  for (const app of grantees(state)) {
    if (app.principalId) principals.set(app.target.key, { principalId: app.principalId, tenantId: app.tenantId ?? '' })
  }
  return principals
}

/** Some writes failed; `applied` holds what was done, `cause` the first failure. */
export class PartialApplyError extends Error {
  readonly failures: unknown[]
  readonly applied: Applied
  constructor(failures: unknown[], applied: Applied) {
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more failed write(s))` : ''
    super(`${(failures[0] as Error)?.message ?? String(failures[0])}${more}`, { cause: failures[0] })
    this.name = 'PartialApplyError'
    this.failures = failures
    this.applied = applied
  }
}
