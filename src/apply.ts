// Carries out a plan in three phases: identities turned on (their principal ids are needed for
// the grants), then access granted or removed (one access-policy request per vault, one request
// per role assignment), then identities turned off (revoke needs the principal until the end).
// Every write is recorded for the outputs and the summary.
import * as core from '@actions/core'
import type { AppState } from './azure/sites.js'
import type { VaultState } from './azure/vaults.js'
import { during } from './errors.js'
import { describePermissions } from './permissions.js'
import { type Change, checkIdentityTenant } from './plan.js'
import { assignmentName } from './rbac.js'
import type { Azure, CurrentState } from './read.js'
import { mapLimit, withRetry } from './retry.js'
import type { Settings } from './settings.js'

/** Writes in flight at once: enough to hide latency, few enough to stay clear of ARM's write throttling. */
export const WRITE_CONCURRENCY = 8

export interface Principal {
  principalId: string
  tenantId: string
}

export interface Applied {
  /** Each app's system identity after the run, by app key. */
  principals: Map<string, Principal>
  /** One line per write made, in the order they completed. */
  writes: string[]
}

type Of<K extends Change['kind']> = Extract<Change, { kind: K }>
const ofKind = <K extends Change['kind']>(changes: Change[], ...kinds: K[]): Of<K>[] =>
  changes.filter((c): c is Of<K> => (kinds as string[]).includes(c.kind))

export async function applyPlan(
  changes: Change[],
  state: CurrentState,
  azure: Azure,
  settings: Settings,
  deadline: number
): Promise<Applied> {
  const principals = principalsBefore(state)
  const writes: string[] = []
  const record = (line: string): void => {
    writes.push(line)
    core.notice(line)
  }
  const appsByKey = new Map(state.apps.map((app) => [app.target.key, app]))
  const vaultById = (id: string): VaultState => state.vaults.find((v) => v.id === id)!

  const setIdentity = async (change: Of<'enable-identity' | 'disable-identity'>): Promise<void> => {
    const app = appsByKey.get(change.app) as AppState
    const on = change.kind === 'enable-identity'
    const context = {
      action: `turn ${on ? 'on' : 'off'} the system-assigned identity of`,
      kind: app.target.slot ? ('slot' as const) : ('app' as const),
      target: app.target,
      settings
    }
    const after = await during(context, () => azure.sites.setSystemIdentity(app, on))
    if (!on) {
      principals.delete(change.app)
      record(
        `Turned off the system-assigned identity of ${change.app}${app.userAssignedIds.length > 0 ? ' (user-assigned identities kept)' : ''}.`
      )
      return
    }
    if (!after.principalId)
      throw new Error(`Azure turned on the identity of '${change.app}' but returned no principal id.`)
    principals.set(change.app, { principalId: after.principalId, tenantId: after.tenantId ?? '' })
    record(`Turned on the system-assigned identity of ${change.app} (principal ${after.principalId}).`)
  }

  const principalOf = (app: string, known: string | undefined, vault: VaultState): string => {
    const principal = principals.get(app)
    const id = known ?? principal?.principalId
    if (!id) throw new Error(`No principal id for '${app}'.`)
    if (!known) checkIdentityTenant(app, principal?.tenantId, vault) // a new identity: tenant known only now
    return id
  }

  const changeAccess = async (
    change: Of<'add-access-policy' | 'remove-access-policy' | 'assign-role' | 'delete-role-assignment'>
  ): Promise<void> => {
    const vault = vaultById(change.vaultId)
    const vaults = azure.vaults(vault.subscriptionId)
    switch (change.kind) {
      case 'add-access-policy':
      case 'remove-access-policy': {
        const adding = change.kind === 'add-access-policy'
        const entries = change.entries.map((e) => ({ ...e, objectId: principalOf(e.app, e.principalId, vault) }))
        await during(
          {
            action: adding ? 'add access policies to' : 'remove access policies from',
            kind: 'vault',
            vault: vault.target,
            settings
          },
          () => vaults.changeAccessPolicies(vault, adding ? 'add' : 'remove', entries)
        )
        for (const e of entries) {
          record(
            `${adding ? 'Granted' : 'Revoked'} ${e.app} on vault ${change.vault}: ${describePermissions(e.permissions)} (access policy).`
          )
        }
        return
      }
      case 'assign-role': {
        const principalId = principalOf(change.app, change.principalId, vault)
        const roles = await azure.roles()
        const name = assignmentName(change.vaultId, change.role.guid, principalId)
        const outcome = await during(
          { action: `assign '${change.role.name}' on`, kind: 'vault', vault: vault.target, settings },
          () =>
            withRetry(() => roles.create(change.vaultId, name, change.roleDefinitionId, principalId), {
              retryable: (error) => (error as { code?: string }).code === 'PrincipalNotFound',
              deadline: Math.min(deadline, Date.now() + 150_000),
              baseDelayMs: 2000,
              maxDelayMs: 30000,
              onRetry: (_e, attempt, delay) =>
                core.warning(
                  `${change.app}: the new identity has not reached the directory yet (PrincipalNotFound); retry ${attempt} in ${delay / 1000} s.`
                )
            })
        )
        if (outcome === 'created') record(`Granted ${change.app} on vault ${change.vault}: role '${change.role.name}'.`)
        return
      }
      case 'delete-role-assignment': {
        const roles = await azure.roles()
        const deleted = await during(
          { action: `delete the '${change.role.name}' assignment on`, kind: 'vault', vault: vault.target, settings },
          () => roles.delete(change.vaultId, change.assignmentName)
        )
        if (deleted) record(`Revoked ${change.app} on vault ${change.vault}: role '${change.role.name}'.`)
      }
    }
  }

  // One failed write does not stop the independent ones: each phase runs to the end, later phases
  // skip only what depends on a failure, and the caller reports every write that was made.
  const failures: unknown[] = []
  const failedApps = new Set<string>()
  const attempt =
    <C extends Change>(apps: (change: C) => string[], run: (change: C) => Promise<void>) =>
    async (change: C): Promise<void> => {
      try {
        await run(change)
      } catch (error) {
        failures.push(error)
        for (const app of apps(change)) failedApps.add(app)
      }
    }
  const appsOf = (change: Change): string[] => ('entries' in change ? change.entries.map((e) => e.app) : [change.app])
  /** The change without the apps an earlier phase failed for; undefined when nothing is left. */
  const withoutFailed = <C extends Change>(change: C): C | undefined => {
    if (!('entries' in change)) return failedApps.has(change.app) ? undefined : change
    const entries = change.entries.filter((e) => !failedApps.has(e.app))
    return entries.length > 0 ? { ...change, entries } : undefined
  }

  await mapLimit(ofKind(changes, 'enable-identity'), WRITE_CONCURRENCY, attempt(appsOf, setIdentity))
  const access = ofKind(changes, 'add-access-policy', 'remove-access-policy', 'assign-role', 'delete-role-assignment')
  const runnable = access.map(withoutFailed).filter((c) => c !== undefined)
  await mapLimit(runnable, WRITE_CONCURRENCY, attempt(appsOf, changeAccess))
  // An identity whose access could not be removed stays on, so that a re-run can finish the job.
  const disables = ofKind(changes, 'disable-identity').filter((c) => !failedApps.has(c.app))
  await mapLimit(disables, WRITE_CONCURRENCY, attempt(appsOf, setIdentity))

  const applied = { principals, writes }
  if (failures.length > 0) throw new PartialApplyError(failures, applied)
  return applied
}

/** The system identities that exist before any write, by app key (all that plan and verify report). */
export function principalsBefore(state: CurrentState): Map<string, Principal> {
  const principals = new Map<string, Principal>()
  for (const app of state.apps) {
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
