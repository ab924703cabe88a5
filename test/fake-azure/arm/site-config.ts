// Configuration of sites and slots (@azure/arm-appservice 19, api-version 2025-05-01: its operations
// and models): app settings and connection strings (POST …/list, PUT replaces the whole collection),
// slot-sticky names, Key Vault reference status (kv-references.ts) and restart.
//
// Actions from the Azure RBAC permissions reference (Microsoft.Web): reading settings is
// `config/list/Action` ("List Web App's security sensitive settings"), which Reader lacks; writing
// is `config/Write`. The status of references is a GET, so a `*/read` action (an inference: ARM
// derives it from the path; no source found). A ReadOnly lock refuses the POST …/list too, as it
// refuses every POST (state.ts lockedBy).
import {
  armError,
  authorize,
  findResourceGroup,
  invalidParameter,
  isObject,
  ok,
  resourceNotFound,
  type ArmContext
} from './common.ts'
import { configChanged, configReferences, refreshReferences } from './kv-references.ts'
import type { FakeResponse } from '../core/server.ts'
import { operationInProgress, siteId } from './sites.ts'
import type { State } from '../core/state.ts'
import type { ConnStringInfo, SiteRecord, SlotConfigNames } from '../core/types.ts'

// ConnectionStringType in the SDK's models.d.ts.
const CONNECTION_TYPES = [
  'MySql',
  'SQLServer',
  'SQLAzure',
  'Custom',
  'NotificationHub',
  'ServiceBus',
  'EventHub',
  'ApiHub',
  'DocDb',
  'RedisCache',
  'PostgreSQL'
]
const lc = (s: string): string => s.toLowerCase()

interface Op {
  action: string // after 'Microsoft.Web/sites[/slots]/'
  write?: boolean
  run: (ctx: ArmContext, site: SiteRecord) => FakeResponse
}

// Which operation a path under the site (already lower-case, split) and a method name, if any.
function pick(rest: string[], method: string, slot: boolean, original: string[]): Op | 'method' | undefined {
  const path = rest.join('/')
  const is = (m: string): boolean => method === m
  const listOf = (which: 'appsettings' | 'connectionstrings'): Op => ({
    action: 'config/list/action',
    run: (_ctx, site) => ok(dictionary(site, which))
  })
  if (path === 'restart') return is('POST') ? { action: 'restart/action', run: restart } : 'method'
  if (path === 'config/appsettings/list' || path === 'config/connectionstrings/list')
    return is('POST') ? listOf(rest[1] as 'appsettings') : 'method'
  if (path === 'config/appsettings')
    return is('PUT') ? { action: 'config/write', write: true, run: putAppSettings } : 'method'
  if (path === 'config/connectionstrings')
    return is('PUT') ? { action: 'config/write', write: true, run: putConnectionStrings } : 'method'
  // The production site's only: the SDK has no slot form (@azure/arm-appservice has
  // listSlotConfigurationNames / updateSlotConfigurationNames on the site only).
  if (path === 'config/slotconfignames' && !slot) {
    if (is('GET')) return { action: 'config/read', run: (ctx, site) => ok(slotNamesBody(ctx.state, site)) }
    return is('PUT') ? { action: 'config/write', write: true, run: putSlotNames } : 'method'
  }
  // Key Vault reference statuses, of app settings and (WebApps_GetKeyVaultReferencesForConnectionStrings)
  // of connection strings; the refresh action exists for app settings only (kv-references.ts).
  const collection = rest[2] === 'appsettings' || rest[2] === 'connectionstrings' ? rest[2] : undefined
  if (rest[0] === 'config' && rest[1] === 'configreferences' && collection && rest.length <= 4) {
    if (collection === 'appsettings' && rest.length === 4 && rest[3] === 'refresh' && is('POST'))
      return {
        action: 'config/appsettings/refresh/action',
        write: true,
        run: (ctx, site) => refreshReferences(ctx, site)
      }
    if (!is('GET')) return 'method'
    return {
      action: `config/${collection}/read`,
      run: (ctx, site) => configReferences(ctx, site, collection, original[3])
    }
  }
  return undefined
}

export function handleSiteConfig(
  ctx: ArmContext,
  sub: string,
  rg: string,
  name: string,
  slot: string | undefined,
  rest: string[]
): FakeResponse {
  const { state, req } = ctx
  const type = slot ? 'Microsoft.Web/sites/slots' : 'Microsoft.Web/sites'
  const op = pick(rest.map(lc), req.method, !!slot, rest)
  if (op === undefined)
    return armError(
      404,
      'InvalidResourceType',
      `The fake Azure Resource Manager has no route for ${req.method} ${req.path}.`
    )
  if (op === 'method')
    return armError(405, 'MethodNotAllowed', `The fake does not support ${req.method} on ${req.path}.`)
  const id = siteId(sub, rg, name, slot)
  // A POST action is authorized over the resource it acts on, without the action's own segment: a
  // real denial of POST …/config/publishingcredentials/list names 'Microsoft.Web/sites/config/list/action'
  // over scope '…/sites/{name}/config/publishingcredentials' (an AuthorizationFailed quoted in a blog post).
  const scope = [id, ...(op.action.endsWith('/action') ? rest.slice(0, -1) : rest)].join('/')
  const denied = authorize(ctx, `${type}/${op.action}`, scope)
  if (denied) return denied
  const noRg = findResourceGroup(ctx, sub, rg)
  if (noRg) return noRg
  const site = state.sites.get(lc(id))
  if (!site) return resourceNotFound('Microsoft.Web/sites', slot ? `${name}/slots/${slot}` : name, rg)
  const busy = op.write ? state.sitePending.get(lc(id)) : undefined
  if (busy) return operationInProgress(busy)
  return op.run(ctx, site)
}

// StringDictionary / ConnectionStringDictionary. `location` is the fake's choice: a captured
// updateApplicationSettings *request* body carries one, the ListAppSettings.json example (a
// response) has `kind` and none; no client reads it.
function dictionary(site: SiteRecord, which: 'appsettings' | 'connectionstrings'): Record<string, unknown> {
  const cfg = site.properties.siteConfig
  const properties =
    which === 'appsettings'
      ? Object.fromEntries((cfg?.appSettings ?? []).map((s) => [s.name, s.value]))
      : Object.fromEntries(
          (cfg?.connectionStrings ?? []).map((c) => [c.name, { value: c.connectionString, type: c.type }])
        )
  return {
    id: `${site.id}/config/${which}`,
    name: which,
    type: `${site.type}/config`,
    location: site.location,
    properties
  }
}

const badParameter = invalidParameter

// Replaces the collection: names absent from the body are deleted (SDK: "Replaces the application
// settings of an app"; Azure/azure-powershell#13684). "Updating or removing application settings
// will cause an app recycle" (az webapp config appsettings docs), and the references refetch.
function putAppSettings(ctx: ArmContext, site: SiteRecord): FakeResponse {
  const body = ctx.req.body
  const props = isObject(body) ? body.properties : undefined
  if (!isObject(props)) return badParameter('properties')
  const bad = Object.entries(props).find(([k, v]) => !k || typeof v !== 'string')
  if (bad) return badParameter(`properties.${bad[0]}`)
  const appSettings = Object.entries(props).map(([name, value]) => ({ name, value: value as string }))
  site.properties.siteConfig = { ...site.properties.siteConfig, appSettings }
  configChanged(ctx.state, lc(site.id), true)
  return ok(dictionary(site, 'appsettings'))
}

// Their own collection and PUT ("Replaces the connection strings of an app"); also a config change.
function putConnectionStrings(ctx: ArmContext, site: SiteRecord): FakeResponse {
  const body = ctx.req.body
  const props = isObject(body) ? body.properties : undefined
  if (!isObject(props)) return badParameter('properties')
  const out: ConnStringInfo[] = []
  for (const [name, v] of Object.entries(props)) {
    const type =
      isObject(v) && typeof v.type === 'string'
        ? CONNECTION_TYPES.find((t) => lc(t) === lc(v.type as string))
        : undefined
    if (!isObject(v) || typeof v.value !== 'string' || !type) return badParameter(`properties.${name}`)
    out.push({ name, connectionString: v.value, type })
  }
  site.properties.siteConfig = { ...site.properties.siteConfig, connectionStrings: out }
  configChanged(ctx.state, lc(site.id), true)
  return ok(dictionary(site, 'connectionstrings'))
}

/**
 * A list never set reads back null: the az CLI guards every read with
 * `slot_cfg_names.app_setting_names or []` (azure-cli appservice/custom.py).
 */
export function slotNames(state: State, site: SiteRecord): SlotConfigNames {
  return structuredClone(
    state.slotConfigNames.get(lc(site.id)) ?? {
      appSettingNames: null,
      connectionStringNames: null,
      azureStorageConfigNames: null
    }
  )
}

function slotNamesBody(state: State, site: SiteRecord): Record<string, unknown> {
  return {
    id: `${site.id}/config/slotConfigNames`,
    name: 'slotConfigNames',
    type: 'Microsoft.Web/sites/config',
    location: site.location,
    properties: slotNames(state, site)
  }
}

// PUT replaces all three lists (SlotConfigNamesResource in WebApps.json; azure-cli's appservice
// custom.py reads the names and writes the whole object back).
function putSlotNames(ctx: ArmContext, site: SiteRecord): FakeResponse {
  const body = ctx.req.body
  const props = isObject(body) ? body.properties : undefined
  if (!isObject(props)) return badParameter('properties')
  const next: Record<string, string[] | null> = {}
  for (const k of ['appSettingNames', 'connectionStringNames', 'azureStorageConfigNames']) {
    const v = props[k]
    if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((n) => typeof n !== 'string')))
      return badParameter(`properties.${k}`)
    next[k] = (v as string[] | undefined) ?? null
  }
  ctx.state.slotConfigNames.set(lc(site.id), next as unknown as SlotConfigNames)
  return ok(slotNamesBody(ctx.state, site))
}

// POST {site}/restart (200, no body): a restart, which does not refetch references (azure-docs#100848).
function restart(ctx: ArmContext, site: SiteRecord): FakeResponse {
  ctx.state.siteRestarts.set(lc(site.id), (ctx.state.siteRestarts.get(lc(site.id)) ?? 0) + 1)
  return { status: 200 }
}

/** The FakeAzure helpers over a site's or slot's configuration (index.ts). */
export function configApi(state: State) {
  const find = (rg: string, name: string, slot?: string): SiteRecord => {
    const site = state.sites.get(lc(siteId(state.subscriptionId, rg, name, slot)))
    if (!site) throw new Error(`no site '${name}'${slot ? ` slot '${slot}'` : ''} in '${rg}'`)
    return site
  }
  return {
    appSettings: (rg: string, name: string, slot?: string): Record<string, string> =>
      dictionary(find(rg, name, slot), 'appsettings').properties as Record<string, string>,
    connectionStrings: (rg: string, name: string, slot?: string): Record<string, { value: string; type: string }> =>
      dictionary(find(rg, name, slot), 'connectionstrings').properties as Record<
        string,
        { value: string; type: string }
      >,
    slotConfigNames: (rg: string, name: string): SlotConfigNames => slotNames(state, find(rg, name)),
    restarts: (rg: string, name: string, slot?: string): number =>
      state.siteRestarts.get(lc(find(rg, name, slot).id)) ?? 0,
    // A configuration change made behind the API's back: no restart counted, references refetch.
    setAppSettings: (rg: string, name: string, slot: string | undefined, settings: Record<string, string>): void => {
      const site = find(rg, name, slot)
      const appSettings = Object.entries(settings).map(([n, value]) => ({ name: n, value }))
      site.properties.siteConfig = { ...site.properties.siteConfig, appSettings }
      configChanged(state, lc(site.id), false)
    },
    setConnectionStrings: (
      rg: string,
      name: string,
      slot: string | undefined,
      strings: Record<string, { value: string; type: string }>
    ): void => {
      const site = find(rg, name, slot)
      const connectionStrings = Object.entries(strings).map(([n, c]) => ({
        name: n,
        connectionString: c.value,
        type: c.type
      }))
      site.properties.siteConfig = { ...site.properties.siteConfig, connectionStrings }
      configChanged(state, lc(site.id), false)
    }
  }
}
