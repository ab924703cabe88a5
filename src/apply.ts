// Carries out a plan: identities first (their principal ids are needed for the grants), then one
// `accessPolicies/add` per access-policy vault and the missing role assignments, each a single
// minimal request. Every write is recorded for the outputs and the summary.
import * as core from '@actions/core'
import type { AppState } from './azure/sites.js'
import { during } from './errors.js'
import { describePermissions } from './permissions.js'
import type { Change } from './plan.js'
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

export async function applyPlan(changes: Change[], state: CurrentState, azure: Azure, settings: Settings, deadline: number): Promise<Applied> {
  const principals = new Map<string, Principal>()
  const writes: string[] = []
  for (const app of state.apps) {
    if (app.principalId) principals.set(app.target.key, { principalId: app.principalId, tenantId: app.tenantId ?? '' })
  }
  const appsByKey = new Map(state.apps.map((app) => [app.target.key, app]))

  const identityChanges = changes.filter((c) => c.kind === 'enable-identity')
  await mapLimit(identityChanges, WRITE_CONCURRENCY, async (change) => {
    const app = appsByKey.get(change.app) as AppState
    const after = await during({ action: 'turn on the system-assigned identity of', kind: app.target.slot ? 'slot' : 'app', target: app.target, settings }, () =>
      azure.sites.setSystemIdentity(app, true)
    )
    if (!after.principalId) throw new Error(`Azure turned on the identity of '${change.app}' but returned no principal id.`)
    principals.set(change.app, { principalId: after.principalId, tenantId: after.tenantId ?? '' })
    writes.push(`Turned on the system-assigned identity of ${change.app} (principal ${after.principalId}).`)
    core.notice(`Turned on the system-assigned identity of ${change.app}: principal ${after.principalId}.`)
  })

  const principalOf = (app: string, known: string | undefined): string => {
    const id = known ?? principals.get(app)?.principalId
    if (!id) throw new Error(`No principal id for '${app}'.`)
    return id
  }

  const grantChanges = changes.filter((c) => c.kind !== 'enable-identity')
  await mapLimit(grantChanges, WRITE_CONCURRENCY, async (change) => {
    const vaultState = state.vaults.find((v) => v.id === change.vaultId)!
    if (change.kind === 'add-access-policy') {
      const entries = change.entries.map((e) => ({ ...e, objectId: principalOf(e.app, e.principalId) }))
      await during({ action: 'add access policies to', kind: 'vault', vault: vaultState.target, settings }, () =>
        azure.vaults(vaultState.subscriptionId).addAccessPolicies(vaultState, entries)
      )
      for (const entry of entries) {
        const line = `Granted ${entry.app} on vault ${change.vault}: ${describePermissions(entry.permissions)} (access policy).`
        writes.push(line)
        core.notice(line)
      }
    } else if (change.kind === 'assign-role') {
      const principalId = principalOf(change.app, change.principalId)
      const roles = await azure.roles()
      const name = assignmentName(change.vaultId, change.role.guid, principalId)
      const outcome = await during({ action: `assign '${change.role.name}' on`, kind: 'vault', vault: vaultState.target, settings }, () =>
        withRetry(() => roles.create(change.vaultId, name, change.roleDefinitionId, principalId), {
          retryable: (error) => (error as { code?: string }).code === 'PrincipalNotFound',
          deadline: Math.min(deadline, Date.now() + 150_000),
          baseDelayMs: 2000,
          maxDelayMs: 30000,
          onRetry: (_e, attempt, delay) =>
            core.warning(`${change.app}: the new identity has not reached the directory yet (PrincipalNotFound); retry ${attempt} in ${delay / 1000} s.`)
        })
      )
      if (outcome === 'created') {
        const line = `Granted ${change.app} on vault ${change.vault}: role '${change.role.name}'.`
        writes.push(line)
        core.notice(line)
      }
    }
  })
  return { principals, writes }
}
