// Microsoft.App container apps and Container Apps jobs (api-version 2025-07-01): GET, PATCH as a
// long-running operation, POST …/listSecrets, and the revisions of an app. Sources, per behaviour:
// - ContainerApps.json / Jobs.json (azure-rest-api-specs, specification/app/resource-manager/
//   Microsoft.App/ContainerApps/stable/2025-07-01): ContainerApps_Update and Jobs_Update are
//   "Patches … using JSON Merge Patch", x-ms-long-running-operation, answering 200 (the resource)
//   or 202 "Patch operation is in progress" with a Location header; examples ContainerApps_Patch.json
//   and Job_Patch.json show an `azure-asyncoperation` header on the 202 and no body.
// - The two URLs, at subscription scope: Location → …/locations/{loc}/containerappOperationResults/{id}
//   (202 while running, then the resource: azure-cli containerapp _clients.py poll_results, a live
//   URL in Azure/azure-cli#29980) and Azure-AsyncOperation → …/containerappOperationStatuses/{id}
//   ({status}: azure-cli _clients.py poll_status; Azure/azure-cli#30078 switched to it because only
//   it carries the error). Jobs: containerappsjobOperation{Results,Statuses} (Job_Patch.json and
//   the provider's resource types). Reading them needs Microsoft.App/locations/…/read at the
//   subscription (Microsoft's Container Apps operations list).
// - GET never returns secret values; POST …/listSecrets does (ContainerApps_ListSecrets.json,
//   Job_ListSecrets.json, Azure/azure-dev#3871). Identity: ContainerApps_Get.json
//   ('SystemAssigned,UserAssigned', user-assigned keys with `resourcegroups` lower-cased).
// - A write while another is under way: 409 ContainerAppLockConflict "Cannot modify container App
//   '…' because another modification is in progress. Please retry the operation."
//   (microsoft/azure-container-apps#175). During the operation GET shows the new configuration
//   with provisioningState InProgress (azure-cli _clients.py poll() waits on it).
// Errors are ARM's `{error:{code,message}}` (CommonDefinitions.json DefaultErrorResponse).
import { randomUUID } from 'node:crypto'
import {
  armError,
  authorize,
  clone,
  findResourceGroup,
  invalidContent,
  isObject,
  ok,
  resourceNotFound,
  type ArmContext
} from './common.ts'
import {
  appId,
  appView,
  KINDS,
  lc,
  newRevision,
  regionOf,
  storeOf,
  type AppKind,
  type ContainerAppRecord
} from './container-app-records.ts'
import * as secrets from './container-app-secrets.ts'
import { templateChanged } from './container-app-revisions.ts'
import { applyIdentity } from './site-identity.ts'
import type { FakeResponse } from '../core/server.ts'

/** Stable api-versions of Microsoft.App: the provider's list in an azure-cli recording (2024) and the 2025-07-01 spec. */
export const APP_API_VERSIONS = ['2025-07-01', '2024-03-01', '2023-05-01', '2022-10-01', '2022-03-01']

/** Routes under Microsoft.App; `undefined` for any other path. Segments compare case-insensitively. */
export function containerAppsRoute(
  segs: string[]
): { resourceType: string; sub: string; rg?: string; run: (ctx: ArmContext) => FakeResponse } | undefined {
  const l = segs.map(lc)
  if (l[0] !== 'subscriptions') return undefined
  const sub = segs[1]
  if (segs.length === 8 && l[2] === 'providers' && l[3] === 'microsoft.app' && l[4] === 'locations') {
    const op = (['app', 'job'] as const)
      .flatMap((k) => ['results', 'statuses'].map((what) => ({ k, what, seg: lc(`${KINDS[k].ops}${what}`) })))
      .find((o) => o.seg === l[6])
    if (op) return { resourceType: `locations/${segs[6]}`, sub, run: (ctx) => operation(ctx, op.k, op.what, segs[7]) }
  }
  if (l[2] !== 'resourcegroups' || l[4] !== 'providers' || l[5] !== 'microsoft.app' || segs.length < 8) return undefined
  const kind: AppKind | undefined = l[6] === 'containerapps' ? 'app' : l[6] === 'jobs' ? 'job' : undefined
  if (!kind) return undefined
  const [rg, name, rest] = [segs[3], segs[7], l.slice(8)]
  const resourceType = KINDS[kind].segment
  if (rest.length === 0) return { resourceType, sub, rg, run: (ctx) => handleApp(ctx, kind, sub, rg, name) }
  if (rest.length === 1 && rest[0] === 'listsecrets')
    return { resourceType, sub, rg, run: (ctx) => listSecrets(ctx, kind, sub, rg, name) }
  if (kind === 'app' && rest[0] === 'revisions' && rest.length <= 2)
    return { resourceType: 'containerApps/revisions', sub, rg, run: (ctx) => revisions(ctx, sub, rg, name, segs[9]) }
  return undefined
}

/** ARM's answer to an api-version Microsoft.App does not have (the gateway's words, as arm-common.ts has them). */
export function appApiVersionError(version: string, resourceType: string, location: string): FakeResponse {
  return armError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location '${location}' and API version '${version}' for type '${resourceType}'. The supported api-versions are '${APP_API_VERSIONS.join(', ')}'. The supported locations are 'westeurope, northeurope, eastus, eastus2, westus2, centralus, uksouth, swedencentral'.`
  )
}

// The read, existence and resource-group checks every handler starts with.
function find(
  ctx: ArmContext,
  kind: AppKind,
  sub: string,
  rg: string,
  name: string,
  action: string
): ContainerAppRecord | FakeResponse {
  const id = appId(sub, rg, name, kind)
  const denied = authorize(ctx, `${KINDS[kind].type}/${action}`, id)
  if (denied) return denied
  const noRg = findResourceGroup(ctx, sub, rg)
  if (noRg) return noRg
  return storeOf(ctx.state).records.get(lc(id)) ?? resourceNotFound(KINDS[kind].type, name, rg)
}
const isRecord = (r: ContainerAppRecord | FakeResponse): r is ContainerAppRecord => 'id' in r

function handleApp(ctx: ArmContext, kind: AppKind, sub: string, rg: string, name: string): FakeResponse {
  const method = ctx.req.method
  if (method !== 'GET' && method !== 'PATCH')
    return armError(405, 'MethodNotAllowed', `The fake does not support ${method} on ${KINDS[kind].type}.`)
  const rec = find(ctx, kind, sub, rg, name, method === 'GET' ? 'read' : 'write')
  if (!isRecord(rec)) return rec
  if (method === 'GET') return ok(appView(rec))
  if (!isObject(ctx.req.body)) return invalidContent()
  const store = storeOf(ctx.state)
  if (store.busy.has(lc(rec.id)))
    return armError(
      409,
      'ContainerAppLockConflict',
      `Cannot modify ${KINDS[kind].noun} '${rec.name}' because another modification is in progress. Please retry the operation.`
    )
  const next = patched(ctx, kind, rec, ctx.req.body)
  if (!('id' in next)) return next
  return accept(ctx, kind, rec, next)
}

// JSON merge patch (RFC 7396): objects merge, null deletes, arrays and values replace.
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch)
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

// Read-only properties a body may carry back from a GET; the service keeps its own.
const READ_ONLY = [
  'provisioningState',
  'runningStatus',
  'runningState',
  'latestRevisionName',
  'latestReadyRevisionName',
  'managedEnvironmentId',
  'environmentId'
]

/** The app after the PATCH, checked as the service checks it, or the error it answers. */
function patched(
  ctx: ArmContext,
  kind: AppKind,
  rec: ContainerAppRecord,
  body: Record<string, unknown>
): ContainerAppRecord | FakeResponse {
  const next = clone(rec)
  if ('identity' in body) {
    const caller = { grant: ctx.grant, action: `${KINDS[kind].type}/write`, scope: rec.id }
    const res = applyIdentity(ctx.state, rec.identity, body.identity, { keepUserAssigned: true, caller })
    // identity.ts words its errors in Microsoft.Web's shape; Microsoft.App answers ARM's.
    if ('error' in res) return asArmError(res.error)
    if (res.identity) next.identity = res.identity
    else delete next.identity
  }
  if (isObject(body.tags)) next.tags = clone(body.tags) as Record<string, string>
  const props = isObject(body.properties) ? body.properties : {}
  // The secrets array is replaced whole, as merge patch replaces arrays, but checked first.
  const { secrets: given, ...configuration } = isObject(props.configuration) ? props.configuration : {}
  const merged = mergePatch(rec.properties, { ...props, configuration })
  next.properties = merged as ContainerAppRecord['properties']
  for (const k of READ_ONLY) if (k in rec.properties) next.properties[k] = rec.properties[k]
  next.properties.configuration.secrets = rec.properties.configuration.secrets
  const secretsGiven = given !== undefined
  if (secretsGiven) {
    const checked = secrets.checkSecretShapes(given)
    if (!Array.isArray(checked)) return checked
    next.properties.configuration.secrets = checked
  }
  const refs = secrets.checkSecretRefs(next)
  if (refs) return refs
  if (secretsGiven) {
    const denied = secrets.resolveKeyVaultSecrets(ctx.state, next, storeOf(ctx.state).rbacDelayMs)
    if (denied) return denied
  }
  return next
}

function asArmError(res: FakeResponse): FakeResponse {
  const b = res.body as { Code?: string; Message?: string }
  return b.Code ? armError(res.status, b.Code, b.Message ?? '') : res
}

// Stores the accepted write; a 202 leaves it InProgress until the operation ends.
function accept(ctx: ArmContext, kind: AppKind, rec: ContainerAppRecord, next: ContainerAppRecord): FakeResponse {
  const { state } = ctx
  const store = storeOf(state)
  const key = lc(rec.id)
  const behaviour = store.behaviour.get(key)!
  store.records.set(key, next)
  if (kind === 'app' && templateChanged(rec.properties.template, next.properties.template)) newRevision(state, next)
  if (behaviour.asyncDelayMs === false) return ok(appView(next))
  const opId = randomUUID()
  next.properties.provisioningState = 'InProgress'
  store.operations.set(lc(opId), {
    kind,
    resourceId: rec.id,
    status: 'InProgress',
    startTime: new Date().toISOString()
  })
  store.busy.set(key, opId)
  setTimeout(() => {
    const op = store.operations.get(lc(opId))!
    Object.assign(op, { status: 'Succeeded', endTime: new Date().toISOString() })
    store.busy.delete(key)
    const current = store.records.get(key)
    if (current) current.properties.provisioningState = 'Succeeded'
  }, behaviour.asyncDelayMs).unref()
  const base = `${ctx.armEndpoint}/subscriptions/${rec.id.split('/')[2]}/providers/Microsoft.App/locations/${regionOf(rec.location)}/${KINDS[kind].ops}`
  const q = `?api-version=${ctx.apiVersion}`
  return {
    status: 202,
    headers: {
      'azure-asyncoperation': `${base}Statuses/${opId}${q}`,
      location: `${base}Results/${opId}${q}`,
      'retry-after': '1'
    }
  }
}

// GET …/locations/{loc}/{kind}Operation{Statuses|Results}/{id}
function operation(ctx: ArmContext, kind: AppKind, what: string, opId: string): FakeResponse {
  const path = ctx.req.path.replace(/^\/+/, '/')
  const denied = authorize(
    ctx,
    `Microsoft.App/locations/${KINDS[kind].ops}${what === 'results' ? 'Results' : 'Statuses'}/read`,
    path
  )
  if (denied) return denied
  const op = storeOf(ctx.state).operations.get(lc(opId))
  if (!op || op.kind !== kind) return armError(404, 'OperationNotFound', `The operation '${opId}' was not found.`)
  if (what === 'statuses')
    return ok({
      id: path,
      name: opId,
      status: op.status,
      startTime: op.startTime,
      ...(op.endTime ? { endTime: op.endTime } : {})
    })
  if (op.status === 'InProgress')
    return {
      status: 202,
      headers: { location: `${ctx.armEndpoint}${path}?api-version=${ctx.apiVersion}`, 'retry-after': '1' }
    }
  const rec = storeOf(ctx.state).records.get(lc(op.resourceId))
  return rec ? ok(appView(rec)) : { status: 204 }
}

// POST …/listSecrets: the values, which GET never shows.
function listSecrets(ctx: ArmContext, kind: AppKind, sub: string, rg: string, name: string): FakeResponse {
  if (ctx.req.method !== 'POST') return armError(405, 'MethodNotAllowed', 'listSecrets accepts POST only.')
  const rec = find(ctx, kind, sub, rg, name, 'listSecrets/action')
  if (!isRecord(rec)) return rec
  return ok({ value: secrets.secretsWithValues(rec.properties.configuration.secrets) })
}

// GET …/containerApps/{app}/revisions[/{revision}] (ContainerAppsRevisions_ListRevisions / _GetRevision).
function revisions(ctx: ArmContext, sub: string, rg: string, name: string, revision?: string): FakeResponse {
  if (ctx.req.method !== 'GET') return armError(405, 'MethodNotAllowed', 'Revisions are read-only in the fake.')
  const rec = find(ctx, 'app', sub, rg, name, 'revisions/read')
  if (!isRecord(rec)) return rec
  const all = storeOf(ctx.state).revisions.get(lc(rec.id)) ?? []
  if (revision === undefined) return ok({ value: all.map((r) => clone(r)) })
  const one = all.find((r) => lc(r.name) === lc(revision))
  return one ? ok(clone(one)) : resourceNotFound('Microsoft.App/containerApps/revisions', `${name}/${revision}`, rg)
}
