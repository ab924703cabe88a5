// The container apps and jobs the fake holds, how they are seeded, and how GET shows them.
// Microsoft.App keeps its own store beside the fake's State (state.ts), keyed by that State.
// Shapes: ContainerApps_Get.json and Job_Patch.json (azure-rest-api-specs, Microsoft.App
// ContainerApps stable/2025-07-01). GET never returns secret values (listSecrets does:
// container-app-secrets.ts); the identity type is spelled 'SystemAssigned,UserAssigned' and
// user-assigned keys carry `resourcegroups` in lower case, as in ContainerApps_Get.json.
import { randomUUID } from 'node:crypto'
import { clone } from './common.ts'
import * as secrets from './container-app-secrets.ts'
import { makeRevision, retireOthers, type RevisionRecord } from './container-app-revisions.ts'
import { armIdView } from './user-assigned-identities.ts'
import { canonicalType } from './site-identity.ts'
import { addPrincipal, addResourceGroup, rgId, userAssignedValue, type State } from '../core/state.ts'
import type { ManagedIdentity } from '../core/types.ts'
export type { AppSecret } from './container-app-secrets.ts'

export type AppKind = 'app' | 'job'
export const KINDS = {
  app: {
    segment: 'containerApps',
    type: 'Microsoft.App/containerApps',
    ops: 'containerappOperation',
    noun: 'container App'
  },
  job: { segment: 'jobs', type: 'Microsoft.App/jobs', ops: 'containerappsjobOperation', noun: 'job' }
} as const

export interface ContainerAppRecord {
  id: string
  name: string
  type: string
  kind?: string
  location: string
  tags: Record<string, string>
  identity?: ManagedIdentity
  properties: {
    provisioningState: 'InProgress' | 'Succeeded' | 'Failed'
    configuration: { secrets: secrets.AppSecret[]; [k: string]: unknown }
    template: { containers?: unknown[]; [k: string]: unknown }
    latestRevisionName?: string
    latestReadyRevisionName?: string
    [k: string]: unknown
  }
}

interface Behaviour {
  kind: AppKind
  /** false: PATCH answers 200 with the resource; a number: 202, done that many ms later. */
  asyncDelayMs: number | false
  revisionReadyMs: number
  revisionFailure?: string
}
interface Operation {
  kind: AppKind
  resourceId: string
  status: 'InProgress' | 'Succeeded'
  startTime: string
  endTime?: string
}
interface Store {
  records: Map<string, ContainerAppRecord> // apps and jobs by lower-case id
  behaviour: Map<string, Behaviour>
  revisions: Map<string, RevisionRecord[]> // by lower-case app id, oldest first
  operations: Map<string, Operation> // by lower-case operation id
  busy: Map<string, string> // lower-case resource id -> its operation under way
  rbacDelayMs: number
}

// The fake's State belongs to files this one leaves alone; its container apps live beside it.
const stores = new WeakMap<State, Store>()
export function storeOf(state: State): Store {
  let s = stores.get(state)
  if (!s) {
    s = {
      records: new Map(),
      behaviour: new Map(),
      revisions: new Map(),
      operations: new Map(),
      busy: new Map(),
      rbacDelayMs: 0
    }
    stores.set(state, s)
  }
  return s
}

export const lc = (s: string): string => s.toLowerCase()
export const appId = (sub: string, rg: string, name: string, kind: AppKind): string =>
  `${rgId(sub, rg)}/providers/Microsoft.App/${KINDS[kind].segment}/${name}`
export const regionOf = (location: string): string => lc(location).replace(/\s+/g, '')

export interface ContainerAppSeed {
  resourceGroup: string
  name: string
  subscriptionId?: string
  location?: string
  tags?: Record<string, string>
  /** `functionapp` for native Functions on Container Apps (ContainerApps_Kind_FunctionApp_CreateOrUpdate.json). */
  kind?: string
  systemAssigned?: boolean
  userAssignedIdentities?: string[]
  /** Plain `{name, value}` or Key Vault `{name, keyVaultUrl, identity}` (seeded as already resolved). */
  secrets?: secrets.AppSecret[]
  registries?: { server: string; username?: string; passwordSecretRef?: string; identity?: string }[]
  containers?: { name: string; image: string; env?: { name: string; value?: string; secretRef?: string }[] }[]
  /** PATCH answers 202 and finishes `delayMs` later (default 300); false: 200 with the resource at once. */
  asyncUpdates?: { delayMs?: number } | false
  /** How long a new revision takes to become ready (default 500 ms). */
  revisionReadyMs?: number
  /** New revisions fail with this provisioningError (say, an image that cannot be pulled). */
  revisionFailure?: string
}

export function seedContainerApp(state: State, kind: AppKind, s: ContainerAppSeed): ContainerAppRecord {
  const sub = s.subscriptionId ?? state.subscriptionId
  addResourceGroup(state, s.resourceGroup, sub)
  const id = appId(sub, s.resourceGroup, s.name, kind)
  const store = storeOf(state)
  if (store.records.has(lc(id))) throw new Error(`addContainerApp: '${id}' exists already`)
  const uai = s.userAssignedIdentities ?? []
  const flags = { system: !!s.systemAssigned, user: uai.length > 0 }
  const identity: ManagedIdentity | undefined = flags.system || flags.user ? { type: canonicalType(flags) } : undefined
  if (identity) {
    if (flags.system) {
      identity.principalId = randomUUID()
      identity.tenantId = state.tenantId
      addPrincipal(state, identity.principalId, 0) // seeded long ago: replicated
    }
    if (uai.length)
      identity.userAssignedIdentities = Object.fromEntries(uai.map((u) => [u, userAssignedValue(state, u)]))
  }
  const env = `${rgId(sub, s.resourceGroup)}/providers/Microsoft.App/managedEnvironments/${s.resourceGroup}-env`
  const containers = s.containers ?? [{ name: s.name, image: 'mcr.microsoft.com/k8se/quickstart:latest' }]
  const rec: ContainerAppRecord = {
    id,
    name: s.name,
    type: KINDS[kind].type,
    ...(s.kind ? { kind: s.kind } : {}),
    location: s.location ?? 'West Europe',
    tags: { ...s.tags },
    ...(identity ? { identity } : {}),
    properties: {
      provisioningState: 'Succeeded',
      ...(kind === 'app'
        ? { managedEnvironmentId: env, runningStatus: 'Running' }
        : { environmentId: env, runningState: 'Ready' }),
      configuration: {
        secrets: (s.secrets ?? []).map((x) => ({
          ...x,
          value: x.value ?? (x.keyVaultUrl ? `fake-key-vault-value:${x.name}` : undefined)
        })),
        ...(kind === 'app' ? { activeRevisionsMode: 'Single' } : { triggerType: 'Manual', replicaTimeout: 1800 }),
        ...(s.registries ? { registries: clone(s.registries) } : {})
      },
      template: { containers: clone(containers) }
    }
  }
  store.records.set(lc(id), rec)
  store.behaviour.set(lc(id), {
    kind,
    asyncDelayMs: s.asyncUpdates === false ? false : (s.asyncUpdates?.delayMs ?? 300),
    revisionReadyMs: s.revisionReadyMs ?? 500,
    revisionFailure: s.revisionFailure
  })
  if (kind === 'app') newRevision(state, rec, true)
  return clone(rec)
}

// A new revision of the app's template; the app names it latest now and latest ready once it is.
export function newRevision(state: State, rec: ContainerAppRecord, ready = false): void {
  const store = storeOf(state)
  const key = lc(rec.id)
  const all = store.revisions.get(key) ?? []
  store.revisions.set(key, all)
  const b = store.behaviour.get(key)!
  const rev = makeRevision(
    rec,
    rec.properties.template,
    { readyMs: b.revisionReadyMs, failure: b.revisionFailure },
    (r) => {
      if (r.properties.provisioningState !== 'Provisioned') return
      retireOthers(all, r)
      const current = store.records.get(key)
      if (current) current.properties.latestReadyRevisionName = r.name
    },
    ready
  )
  all.push(rev)
  rec.properties.latestRevisionName = rev.name
}

/** The record as GET answers it: no secret values; identity spelled as Microsoft.App spells it. */
export function appView(rec: ContainerAppRecord): Record<string, unknown> {
  const v = clone(rec) as ContainerAppRecord & Record<string, unknown>
  if (v.identity) {
    v.identity.type = v.identity.type.replace(', ', ',')
    if (v.identity.userAssignedIdentities)
      v.identity.userAssignedIdentities = Object.fromEntries(
        Object.entries(v.identity.userAssignedIdentities).map(([k, x]) => [armIdView(k), x])
      )
  }
  const configuration = {
    ...v.properties.configuration,
    secrets: secrets.secretsView(rec.properties.configuration.secrets)
  }
  return { ...v, properties: { ...v.properties, configuration } }
}

/**
 * A container app or job as a test sees it: GET's view (`configuration.secrets` without values,
 * null when there are none), plus the revisions of an app.
 */
export type ContainerAppInfo = ContainerAppRecord & { revisions: RevisionRecord[] }

export interface ContainerAppApi {
  /** A Microsoft.App container app (ContainerApps_Get.json), with one ready, healthy revision. */
  addContainerApp(a: ContainerAppSeed): ContainerAppInfo
  /** A Container Apps job (Microsoft.App/jobs, Job_Patch.json); jobs have no revisions. */
  addContainerAppJob(j: Omit<ContainerAppSeed, 'revisionReadyMs' | 'revisionFailure'>): ContainerAppInfo
  /** GET's view of an app (or job), with its revisions; undefined when there is none. */
  getContainerApp(rg: string, name: string, kind?: AppKind): ContainerAppInfo | undefined
  /** The app's (or job's) secrets as POST …/listSecrets answers them: with values. */
  containerAppSecrets(rg: string, name: string, kind?: AppKind): secrets.AppSecret[]
  /**
   * For this long after a role assignment is made, Container Apps' synchronous Key Vault check does
   * not count it (Azure RBAC changes take time to take effect). Default 0.
   */
  setRoleAssignmentPropagation(ms: number): void
}

export function containerAppApi(state: State): ContainerAppApi {
  const info = (rec: ContainerAppRecord): ContainerAppInfo => ({
    ...(appView(rec) as unknown as ContainerAppRecord),
    revisions: clone(storeOf(state).revisions.get(lc(rec.id)) ?? [])
  })
  const lookup = (rg: string, name: string, kind: AppKind): ContainerAppRecord | undefined =>
    storeOf(state).records.get(lc(appId(state.subscriptionId, rg, name, kind)))
  return {
    addContainerApp: (a) => info(seedContainerApp(state, 'app', a)),
    addContainerAppJob: (j) => info(seedContainerApp(state, 'job', j)),
    getContainerApp: (rg, name, kind = 'app') => {
      const rec = lookup(rg, name, kind)
      return rec && info(rec)
    },
    containerAppSecrets: (rg, name, kind = 'app') => {
      const rec = lookup(rg, name, kind)
      if (!rec) throw new Error(`containerAppSecrets: no ${kind} '${name}' in '${rg}'`)
      return secrets.secretsWithValues(rec.properties.configuration.secrets)
    },
    setRoleAssignmentPropagation: (ms) => {
      storeOf(state).rbacDelayMs = ms
    }
  }
}
