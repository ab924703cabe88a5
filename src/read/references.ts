// An app's Key Vault references as App Service reports them, read again while they are still
// being resolved: after a configuration change App Service reports Initialized for a while, and a
// gate (verify) or a confirmation (apply) judges final statuses only.
import type { Azure } from '../azure/clients.js'
import type { RetryBudget } from '../azure/http/budget.js'
import { pollUntil } from '../azure/http/poll.js'
import { during, onTarget } from '../azure/operation.js'
import type { Inputs } from '../inputs/inputs.js'
import { PENDING, type ReferenceState } from '../model/references.js'
import type { AppTarget } from '../model/targets.js'

/**
 * An app's references, read again (backing off from 1 s to 5 s) while `pending` holds and the
 * budget lasts; `first` is the last read already made, if any. Returns the last read.
 */

export async function pollReferences(
  inputs: Inputs,
  azure: Azure,
  budget: RetryBudget,
  target: AppTarget,
  first: ReferenceState[] | undefined,
  pending: (refs: ReferenceState[]) => boolean
): Promise<ReferenceState[]> {
  const read = (): Promise<ReferenceState[]> =>
    during(onTarget(inputs, target, 'read the Key Vault references of'), () => azure.siteConfig.listReferences(target))
  const { value } = await pollUntil({
    read,
    done: (refs) => !pending(refs),
    budget,
    firstDelayMs: 1000,
    maxDelayMs: 5000,
    known: first
  })
  return value!
}
/**
 * Reads an app's references again until none is `Initialized` (App Service is resolving them
 * after a configuration change), or the budget is spent: a gate judges final statuses only.
 */

export async function settledReferences(
  inputs: Inputs,
  azure: Azure,
  budget: RetryBudget,
  references: Map<string, ReferenceState[]>
): Promise<Map<string, ReferenceState[]>> {
  const settled = new Map(references)
  await Promise.all(
    inputs.apps
      .filter((target) => !target.kind) // Key Vault references are App Service's
      .map(async (target) => {
        const first = settled.get(target.key) ?? []
        const refs = await pollReferences(inputs, azure, budget, target, first, (list) =>
          list.some((r) => r.status === PENDING)
        )
        if (refs !== first) settled.set(target.key, refs)
      })
  )
  return settled
}

/**
 * The gate's view of container apps whose secrets `app-settings` wires: the latest revision, once
 * it has settled, described when it is not provisioned and healthy (jobs have no revisions).
 */
export async function unhealthyRevisions(inputs: Inputs, azure: Azure): Promise<string[]> {
  if (inputs.appSettings.length === 0) return []
  const apps = inputs.apps.filter((target) => target.kind === 'containerapp')
  const found = await Promise.all(
    apps.map((target) =>
      during(onTarget(inputs, target, 'read the latest revision of'), async () => {
        const r = await azure.containerApps().latestRevision(target)
        if (!r || (r.provisioningState === 'Provisioned' && r.healthState === 'Healthy')) return []
        return [
          `${target.key}: latest revision ${r.name} is ${r.provisioningState ?? '?'} / ${r.runningState ?? '?'} / ${r.healthState ?? '?'}${r.provisioningError ? ` (${r.provisioningError})` : ''}`
        ]
      })
    )
  )
  return found.flat()
}
