// Revisions of a Microsoft.App container app (api-version 2025-07-01): why a write does or does not
// make one, and how one becomes ready, healthy — or not.
//
// A revision is an immutable snapshot of `properties.template`: CommonDefinitions.json describes
// the (Job)Template as "Defines the desired state of an immutable revision. Any changes to this
// section Will result in a new revision being created". Secrets live in `configuration`, which
// ContainerApps.json calls "Non versioned Container App configuration properties": changing them
// makes no revision. Names are `<app>--<suffix>` (Microsoft Learn, "Update and deploy changes in
// Azure Container Apps"; the spec examples use a single dash). The shape is the Revision model of
// ContainerAppsRevisions.json and examples/Revisions_Get.json: createdTime, fqdn, template,
// active, replicas, trafficWeight, provisioningError, healthState (Healthy | Unhealthy | None),
// provisioningState (Provisioning | Provisioned | Failed | …), runningState (Running | Processing |
// Stopped | Degraded | Failed | Unknown). How long provisioning takes and which states it passes
// through on the way are not documented: the fake's choice (Provisioning/Processing/None first).
import { randomBytes } from 'node:crypto'
import { clone } from './common.ts'

export const REVISION_TYPE = 'Microsoft.App/containerApps/revisions'

export interface RevisionRecord {
  id: string
  name: string
  type: string
  properties: {
    createdTime: string
    lastActiveTime?: string
    fqdn: string
    template: unknown
    active: boolean
    replicas: number
    trafficWeight: number
    healthState: 'Healthy' | 'Unhealthy' | 'None'
    provisioningState: 'Provisioning' | 'Provisioned' | 'Failed' | 'Deprovisioning' | 'Deprovisioned'
    runningState: 'Running' | 'Processing' | 'Stopped' | 'Degraded' | 'Failed' | 'Unknown'
    provisioningError?: string
  }
}

/** How the next revisions of an app turn out. */
export interface RevisionBehaviour {
  /** How long a new revision takes to become ready (or to fail). */
  readyMs: number
  /** Set: new revisions fail with this provisioningError (e.g. an image that cannot be pulled). */
  failure?: string
}

// Revision suffixes Azure generates look like 'pjxhsye' (the spec examples): 7 lowercase letters/digits.
function suffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  return [...randomBytes(7)].map((b) => alphabet[b % alphabet.length]).join('')
}

/**
 * A revision of `template` for the app `appId`/`appName`. `ready` says it is ready at once (a
 * seeded app); otherwise it settles `behaviour.readyMs` later and `onSettled` runs then.
 */
export function makeRevision(
  app: { id: string; name: string },
  template: unknown,
  behaviour: RevisionBehaviour,
  onSettled: (rev: RevisionRecord) => void,
  ready = false
): RevisionRecord {
  const name = `${app.name}--${suffix()}`
  const rev: RevisionRecord = {
    id: `${app.id}/revisions/${name}`,
    name,
    type: REVISION_TYPE,
    properties: {
      createdTime: new Date().toISOString(),
      fqdn: `${name}.fake-env.westeurope.azurecontainerapps.io`,
      template: clone(template),
      active: true,
      replicas: 0,
      trafficWeight: 0,
      healthState: 'None',
      provisioningState: 'Provisioning',
      runningState: 'Processing'
    }
  }
  const settle = (): void => {
    settleRevision(rev, ready ? undefined : behaviour.failure)
    onSettled(rev)
  }
  if (ready || behaviour.readyMs <= 0) settle()
  else setTimeout(settle, behaviour.readyMs).unref()
  return rev
}

function settleRevision(rev: RevisionRecord, failure: string | undefined): void {
  const p = rev.properties
  if (failure) {
    Object.assign(p, { provisioningState: 'Failed', runningState: 'Failed', healthState: 'Unhealthy' })
    p.provisioningError = failure
    return
  }
  Object.assign(p, { provisioningState: 'Provisioned', runningState: 'Running', healthState: 'Healthy' })
  Object.assign(p, { replicas: 1, trafficWeight: 100 })
}

/**
 * In single-revision mode (the default, `activeRevisionsMode: Single`) a revision that became
 * ready takes all traffic and the ones before it are deactivated (Microsoft Learn, "Revisions in
 * Azure Container Apps"); a failed one leaves the previous one serving.
 */
export function retireOthers(all: RevisionRecord[], ready: RevisionRecord): void {
  for (const r of all) {
    if (r === ready || !r.properties.active) continue
    Object.assign(r.properties, { active: false, replicas: 0, trafficWeight: 0, runningState: 'Stopped' })
    r.properties.lastActiveTime = new Date().toISOString()
  }
}

// Key order is not a change: objects compare with sorted keys.
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical)
  if (typeof v !== 'object' || v === null) return v
  return Object.fromEntries(
    Object.entries(v)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, x]) => [k, canonical(x)])
  )
}

/** Whether a write changes the template (and so makes a revision). How the service compares: no source found. */
export function templateChanged(before: unknown, after: unknown): boolean {
  return JSON.stringify(canonical(before ?? null)) !== JSON.stringify(canonical(after ?? null))
}
