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
  type ArmContext
} from './arm-common.ts'
import { applyIdentity } from './identity.ts'
import type { FakeResponse } from './server.ts'
import { randomUUID } from 'node:crypto'
import { addPrincipal, addResourceGroup, rgId, userAssignedValue, type State } from './state.ts'
import type { ManagedIdentity, NameValue, SiteRecord } from './types.ts'

export interface SiteSeed {
  resourceGroup: string
  name: string
  slot?: string
  kind?: string
  tags?: Record<string, string>
  appSettings?: Record<string, string>
  systemAssigned?: boolean
  userAssignedIdentities?: string[]
  subscriptionId?: string
  location?: string
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
      identity.tenantId = state.tenantId
      addPrincipal(state, identity.principalId, 0) // seeded long ago: replicated
    }
    if (uai.length)
      identity.userAssignedIdentities = Object.fromEntries(uai.map((id) => [id, userAssignedValue(state, id)]))
  }
  const appSettings: NameValue[] = Object.entries(s.appSettings ?? {}).map(([name, value]) => ({ name, value }))
  const site: SiteRecord = {
    id: siteId(sub, s.resourceGroup, s.name, s.slot),
    name: s.slot ? `${s.name}/${s.slot}` : s.name,
    type: s.slot ? 'Microsoft.Web/sites/slots' : 'Microsoft.Web/sites',
    kind: s.kind ?? 'app',
    location: s.location ?? 'West Europe',
    tags: { ...s.tags },
    identity,
    properties: { ...computed(s.resourceGroup, s.name, s.slot, sub), siteConfig: { appSettings } }
  }
  if (!identity) delete site.identity
  state.sites.set(site.id.toLowerCase(), site)
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
  if (method === 'GET') return site ? ok(clone(site)) : notFound()
  if (!isObject(req.body)) return invalidContent()
  const body = req.body
  if (method === 'PATCH') {
    if (!site) return notFound()
    return patchSite(state, site, body)
  }
  // PUT: the body becomes the site; only computed properties and the ids survive.
  if (typeof body.location !== 'string')
    return armError(400, 'LocationRequired', 'The location property is required for this definition.')
  const idRes = applyIdentity(state, site?.identity, body.identity, false)
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
      ...props,
      ...computed(rg, name, slot, sub, site?.properties),
      ...(typeof props.serverFarmId === 'string' ? { serverFarmId: props.serverFarmId } : {})
    }
  }
  if (idRes.identity) next.identity = idRes.identity
  state.sites.set(next.id.toLowerCase(), next)
  return ok(clone(next))
}

// PATCH merges the top-level fields it names; nested siteConfig merges one level deeper.
function patchSite(state: State, site: SiteRecord, body: Record<string, unknown>): FakeResponse {
  const next = clone(site)
  if ('identity' in body) {
    const idRes = applyIdentity(state, site.identity, body.identity, true)
    if ('error' in idRes) return idRes.error
    if (idRes.identity) next.identity = idRes.identity
    else delete next.identity
  }
  if (isObject(body.tags)) next.tags = clone(body.tags) as Record<string, string>
  if (typeof body.kind === 'string') next.kind = body.kind
  if (isObject(body.properties)) {
    const { siteConfig, ...rest } = clone(body.properties)
    Object.assign(next.properties, rest)
    if (isObject(siteConfig)) next.properties.siteConfig = { ...next.properties.siteConfig, ...siteConfig }
  }
  state.sites.set(next.id.toLowerCase(), next)
  return ok(clone(next))
}
