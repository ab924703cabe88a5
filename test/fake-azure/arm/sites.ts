// Microsoft.Web/sites and slots: GET, PATCH (merge, identity semantics) and PUT (replace).
import {
  armError,
  authorize,
  clone,
  findResourceGroup,
  invalidContent,
  isObject,
  ok,
  resourceNotFound,
  webTemplateError,
  type ArmContext
} from './common.ts'
import { applyIdentity } from './site-identity.ts'
import type { LinkCaller } from './user-assigned-identities.ts'
import { configChanged } from './kv-references.ts'
import type { FakeResponse } from '../core/server.ts'
import { randomUUID } from 'node:crypto'
import { addPrincipal, addResourceGroup, rgId, userAssignedValue, type State } from '../core/state.ts'
import type { ConnStringInfo, ManagedIdentity, NameValue, SiteRecord } from '../core/types.ts'

/**
 * How a site answers an update. WebApps_Update lists 200 and 202 (azure-rest-api-specs
 * WebApps.json 2024-11-01, examples/UpdateWebApp.json: the 202 carries `azure-asyncoperation` and
 * a Site body; added for function apps on Container Apps, spec PR #27612). The PATCH is not
 * marked long-running, so clients get no poller. A 202 here applies the change `delayMs` later;
 * until then the site shows the old state and a second write answers 409 "another operation is
 * in progress".
 */
export interface AsyncUpdates {
  delayMs?: number
  /** Answer the 202 without a body (this project's issue 10 allows for it; no recording shows it; the spec example has one). */
  emptyBody?: boolean
}

export interface SiteSeed {
  resourceGroup: string
  name: string
  slot?: string
  kind?: string
  /** Default: on for kinds of function apps on Container Apps (`…,azurecontainerapps`). */
  asyncUpdates?: AsyncUpdates | false
  /** The tenant a system identity turned on for this site lands in (default: the fake's tenant). */
  identityTenantId?: string
  tags?: Record<string, string>
  appSettings?: Record<string, string>
  connectionStrings?: Record<string, { value: string; type: string }>
  /** The production site's slot-sticky names (site-config.ts); lists not given read back null. */
  slotConfigNames?: { appSettingNames?: string[]; connectionStringNames?: string[] }
  /** properties.keyVaultReferenceIdentity: 'SystemAssigned' (default) or a user-assigned identity's id. */
  keyVaultReferenceIdentity?: string
  systemAssigned?: boolean
  userAssignedIdentities?: string[]
  subscriptionId?: string
  location?: string
  /**
   * properties.managedEnvironmentId: a Functions app hosted on Container Apps the older way, a
   * Microsoft.Web site on a managed environment (WebApps.json Site: "Azure Resource Manager ID of
   * the customer's selected Managed Environment on which to host this app"). Default: set for kinds
   * of function apps on Container Apps (`…,azurecontainerapps`).
   */
  managedEnvironmentId?: string
}

export function siteId(sub: string, rg: string, name: string, slot?: string): string {
  return `${rgId(sub, rg)}/providers/Microsoft.Web/sites/${name}${slot ? `/slots/${slot}` : ''}`
}

// Properties the service computes; a PUT cannot remove them.
function computed(
  rg: string,
  name: string,
  slot: string | undefined,
  sub: string,
  prev?: SiteRecord['properties']
): SiteRecord['properties'] {
  const host = `${name}${slot ? `-${slot}` : ''}.azurewebsites.net`
  return {
    state: prev?.state ?? 'Running',
    enabled: prev?.enabled ?? true,
    defaultHostName: host,
    hostNames: prev?.hostNames ?? [host],
    serverFarmId: prev?.serverFarmId ?? `${rgId(sub, rg)}/providers/Microsoft.Web/serverfarms/${name}-plan`
  }
}

export function seedSite(state: State, s: SiteSeed): SiteRecord {
  const sub = s.subscriptionId ?? state.subscriptionId
  addResourceGroup(state, s.resourceGroup, sub)
  if (s.slot && !state.sites.has(siteId(sub, s.resourceGroup, s.name).toLowerCase())) {
    throw new Error(`addSlot: site '${s.name}' does not exist in '${s.resourceGroup}'`)
  }
  let identity: ManagedIdentity | undefined
  const uai = s.userAssignedIdentities ?? []
  if (s.systemAssigned || uai.length) {
    identity = {
      type:
        s.systemAssigned && uai.length
          ? 'SystemAssigned, UserAssigned'
          : s.systemAssigned
            ? 'SystemAssigned'
            : 'UserAssigned'
    }
    if (s.systemAssigned) {
      identity.principalId = randomUUID()
      identity.tenantId = s.identityTenantId ?? state.tenantId
      addPrincipal(state, identity.principalId, 0) // seeded long ago: replicated
    }
    if (uai.length)
      identity.userAssignedIdentities = Object.fromEntries(uai.map((id) => [id, userAssignedValue(state, id)]))
  }
  if (s.slot && s.slotConfigNames) throw new Error('addSlot: slotConfigNames belong to the production site')
  const appSettings: NameValue[] = Object.entries(s.appSettings ?? {}).map(([name, value]) => ({ name, value }))
  const connectionStrings: ConnStringInfo[] = Object.entries(s.connectionStrings ?? {}).map(([name, c]) => ({
    name,
    connectionString: c.value,
    type: c.type
  }))
  const onContainerApps = (s.kind ?? '').toLowerCase().includes('azurecontainerapps')
  const managedEnvironmentId =
    s.managedEnvironmentId ??
    (onContainerApps
      ? `${rgId(sub, s.resourceGroup)}/providers/Microsoft.App/managedEnvironments/${s.name}-env`
      : undefined)
  const site: SiteRecord = {
    id: siteId(sub, s.resourceGroup, s.name, s.slot),
    name: s.slot ? `${s.name}/${s.slot}` : s.name,
    type: s.slot ? 'Microsoft.Web/sites/slots' : 'Microsoft.Web/sites',
    kind: s.kind ?? 'app',
    location: s.location ?? 'West Europe',
    tags: { ...s.tags },
    identity,
    properties: {
      ...computed(s.resourceGroup, s.name, s.slot, sub),
      siteConfig: { appSettings, connectionStrings },
      // Reads back as SystemAssigned even without an identity (`az webapp show` outputs quoted
      // publicly show it so, also beside `"identity": null`).
      keyVaultReferenceIdentity: s.keyVaultReferenceIdentity ?? 'SystemAssigned',
      ...(managedEnvironmentId ? { managedEnvironmentId } : {})
    }
  }
  if (!identity) delete site.identity
  state.sites.set(site.id.toLowerCase(), site)
  if (s.slotConfigNames) {
    state.slotConfigNames.set(site.id.toLowerCase(), {
      appSettingNames: s.slotConfigNames.appSettingNames ?? null,
      connectionStringNames: s.slotConfigNames.connectionStringNames ?? null,
      azureStorageConfigNames: null
    })
  }
  const async = s.asyncUpdates ?? (site.kind.toLowerCase().includes('azurecontainerapps') ? {} : false)
  if (s.identityTenantId) state.siteIdentityTenant.set(site.id.toLowerCase(), s.identityTenantId)
  if (async)
    state.siteAsync.set(site.id.toLowerCase(), { delayMs: async.delayMs ?? 1500, emptyBody: !!async.emptyBody })
  return clone(site)
}

export function handleSite(ctx: ArmContext, sub: string, rg: string, name: string, slot?: string): FakeResponse {
  const { state, req } = ctx
  const id = siteId(sub, rg, name, slot)
  const type = slot ? 'Microsoft.Web/sites/slots' : 'Microsoft.Web/sites'
  const method = req.method
  if (method !== 'GET' && method !== 'PATCH' && method !== 'PUT') {
    return armError(405, 'MethodNotAllowed', `The fake does not support ${method} on ${type}.`)
  }
  const denied = authorize(ctx, `${type}/${method === 'GET' ? 'read' : 'write'}`, id)
  if (denied) return denied
  const noRg = findResourceGroup(ctx, sub, rg)
  if (noRg) return noRg
  const parent = state.sites.get(siteId(sub, rg, name).toLowerCase())
  if (slot && !parent) return resourceNotFound('Microsoft.Web/sites', name, rg)
  const site = state.sites.get(id.toLowerCase())
  const notFound = (): FakeResponse =>
    resourceNotFound('Microsoft.Web/sites', slot ? `${name}/slots/${slot}` : name, rg)
  if (method === 'GET') return site ? ok(siteView(site)) : notFound()
  if (!isObject(req.body)) return invalidContent()
  const body = req.body
  if (method === 'PATCH') {
    if (!site) return notFound()
    const busy = state.sitePending.get(site.id.toLowerCase())
    if (busy) return operationInProgress(busy)
    return patchSite(ctx, site, body, { grant: ctx.grant, action: `${type}/write`, scope: id })
  }
  if (site && state.sitePending.has(site.id.toLowerCase()))
    return operationInProgress(state.sitePending.get(site.id.toLowerCase())!)
  // PUT: the body becomes the site; only computed properties and the ids survive.
  if (typeof body.location !== 'string')
    return armError(400, 'LocationRequired', 'The location property is required for this definition.')
  const caller = { grant: ctx.grant, action: `${type}/write`, scope: id }
  const idRes = applyIdentity(state, site?.identity, body.identity, { keepUserAssigned: false, caller })
  if ('error' in idRes) return idRes.error
  const props = isObject(body.properties) ? clone(body.properties) : {}
  const next: SiteRecord = {
    id: site?.id ?? id,
    name: slot ? `${site?.name.split('/')[0] ?? name}/${slot}` : (site?.name ?? name),
    type,
    kind: typeof body.kind === 'string' ? body.kind : 'app',
    location: body.location,
    tags: isObject(body.tags) ? (clone(body.tags) as Record<string, string>) : {},
    properties: {
      keyVaultReferenceIdentity: 'SystemAssigned',
      ...props,
      ...computed(rg, name, slot, sub, site?.properties),
      ...(typeof props.serverFarmId === 'string' ? { serverFarmId: props.serverFarmId } : {})
    }
  }
  if (idRes.identity) next.identity = idRes.identity
  defaultReferenceIdentity(next)
  state.sites.set(next.id.toLowerCase(), next)
  if (site) configChanged(state, next.id.toLowerCase(), true) // its settings were replaced too
  return ok(siteView(next))
}

/**
 * Another writer's PATCH of a site or slot (the portal, a deployment, another workflow), applied
 * as the action's own PATCH is: for tests that need a second writer (FaultRule before/after).
 */
export function patchSiteAsOther(
  state: State,
  armEndpoint: string,
  id: string,
  body: Record<string, unknown>
): FakeResponse {
  const site = state.sites.get(id.toLowerCase())
  if (!site) throw new Error(`patchSiteAsOther: no site '${id}'`)
  const grant = { tenantId: state.tenantId, clientId: 'portal', spObjectId: randomUUID() }
  const req = { server: 'arm', method: 'PATCH', path: id, query: {}, headers: {}, rawBody: '', body } as const
  const ctx: ArmContext = { state, req: { ...req }, grant, apiVersion: '2025-05-01', armEndpoint }
  return patchSite(ctx, site, body, { grant, action: 'Microsoft.Web/sites/write', scope: id })
}

/**
 * The site as GET answers it: siteConfig without setting values. Real GETs show
 * `"appSettings": null` and `"connectionStrings": null` in siteConfig (az webapp show and
 * az functionapp create outputs quoted in many READMEs); the values need POST …/config/…/list.
 */
export function siteView(site: SiteRecord): SiteRecord {
  const v = clone(site)
  if (v.properties.siteConfig)
    v.properties.siteConfig = { ...v.properties.siteConfig, appSettings: null, connectionStrings: null }
  return v
}

// PATCH merges the top-level fields it names; nested siteConfig merges one level deeper.
function patchSite(ctx: ArmContext, site: SiteRecord, body: Record<string, unknown>, caller: LinkCaller): FakeResponse {
  const { state } = ctx
  const next = clone(site)
  if ('identity' in body) {
    const idRes = applyIdentity(state, site.identity, body.identity, {
      keepUserAssigned: true,
      newTenantId: state.siteIdentityTenant.get(site.id.toLowerCase()),
      caller
    })
    if ('error' in idRes) return idRes.error
    if (idRes.identity) next.identity = idRes.identity
    else delete next.identity
  }
  if (isObject(body.tags)) next.tags = clone(body.tags) as Record<string, string>
  if (typeof body.kind === 'string') next.kind = body.kind
  if (isObject(body.properties)) {
    const { siteConfig, ...rest } = clone(body.properties)
    Object.assign(next.properties, rest)
    // null is "not given", as a site read back and patched carries `appSettings: null` (siteView).
    const given = isObject(siteConfig) ? Object.entries(siteConfig).filter(([, v]) => v !== null) : []
    if (given.length) next.properties.siteConfig = { ...next.properties.siteConfig, ...Object.fromEntries(given) }
  }
  defaultReferenceIdentity(next)
  const key = site.id.toLowerCase()
  // Settings written through siteConfig are a configuration change like a PUT of config/appsettings.
  // So is a change of the identity or of keyVaultReferenceIdentity: adding an identity restarts the
  // app (MicrosoftDocs/azure-docs PR #89321), and "any configuration change to the app causes an
  // app restart and an immediate refetch of all referenced secrets" (app-service-key-vault-references.md),
  // with the identity in force when the change lands. Whether a PATCH that changes neither
  // restarts the app: no source found; here only a change counts.
  const cfg = isObject(body.properties) ? body.properties.siteConfig : undefined
  const changesConfig =
    (isObject(cfg) && (Array.isArray(cfg.appSettings) || Array.isArray(cfg.connectionStrings))) ||
    JSON.stringify(site.identity ?? null) !== JSON.stringify(next.identity ?? null) ||
    site.properties.keyVaultReferenceIdentity !== next.properties.keyVaultReferenceIdentity
  const apply = (): void => {
    state.sites.set(key, next)
    if (changesConfig) configChanged(state, key, true)
  }
  const async = state.siteAsync.get(key)
  if (!async) {
    apply()
    return ok(siteView(next))
  }
  const operationId = randomUUID()
  state.sitePending.set(key, { operationId, createdAt: new Date().toISOString() })
  setTimeout(() => {
    apply()
    state.sitePending.delete(key)
  }, async.delayMs).unref()
  // The 202 of WebApps_Update carries only Azure-AsyncOperation, at the subscription level (no
  // resource group), without Location or Retry-After (UpdateWebApp.json, api-version 2024-11-01).
  // A slot's URL is not in the spec: the fake names the site's (inferred).
  const siteName = site.id.split('/')[8]
  const sub = site.id.split('/')[2]
  const status = `${ctx.armEndpoint}/subscriptions/${sub}/providers/Microsoft.Web/sites/${siteName}/operationResults/${operationId}?api-version=${ctx.apiVersion}`
  return {
    status: 202,
    headers: { 'azure-asyncoperation': status },
    body: async.emptyBody ? undefined : siteView(site)
  }
}

/**
 * azure-rest-api-specs#37553: with a system identity the service sets an unset
 * keyVaultReferenceIdentity to SystemAssigned; changing the identity never resets it, so a detached
 * user-assigned identity stays named there (its references then report MSINotEnabled).
 */
function defaultReferenceIdentity(site: SiteRecord): void {
  if (site.identity?.principalId && site.properties.keyVaultReferenceIdentity == null)
    site.properties.keyVaultReferenceIdentity = 'SystemAssigned'
}

// App Service's own wording of the time in the busy message: "CreatedTime: 12/28/2022 8:57:50 PM" (the capture in arm-common.ts).
function webTime(iso: string): string {
  const d = new Date(iso)
  const h = d.getUTCHours() % 12 || 12
  const pad = (n: number): string => String(n).padStart(2, '0')
  const ampm = d.getUTCHours() < 12 ? 'AM' : 'PM'
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${ampm}`
}

/** 409 while an update is under way: ExtendedCode 59203 and its template, as in the live capture quoted in common.ts. */
export function operationInProgress(busy: { operationId: string; createdAt: string }): FakeResponse {
  return webTemplateError(
    409,
    'Conflict',
    '59203',
    'Cannot modify this site because another operation is in progress. Details: {0}',
    [
      `Id: ${busy.operationId}, OperationName: Update, CreatedTime: ${webTime(busy.createdAt)}, RequestId: ${randomUUID()}, EntityType: 3`
    ]
  )
}

/**
 * GET /subscriptions/{sub}/providers/Microsoft.Web/sites/{name}/operationResults/{id}: the URL a
 * 202 update names in Azure-AsyncOperation (UpdateWebApp.json; no resource group in it). Its
 * answer is not in the spec: the fake's is the ARM async-operation shape {id, name, status}.
 */
export function siteOperation(ctx: ArmContext, sub: string, name: string, operationId: string): FakeResponse {
  const prefix = `/subscriptions/${sub}/`.toLowerCase()
  const running = [...ctx.state.sitePending.entries()].some(
    ([id, pending]) =>
      id.startsWith(prefix) &&
      id.split('/')[8] === name.toLowerCase() &&
      pending.operationId.toLowerCase() === operationId.toLowerCase()
  )
  return ok({ id: operationId, name: operationId, status: running ? 'InProgress' : 'Succeeded' })
}
