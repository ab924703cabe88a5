// ARM front door: token check, api-version check, subscription check, then route by path.
import {
  API_VERSIONS,
  apiVersionError,
  armError,
  authorize,
  findResourceGroup,
  missingApiVersion,
  ok,
  subscriptionNotFound,
  type ApiFamily,
  type ArmContext
} from './common.ts'
import { handleSiteConfig } from './site-config.ts'
import { APP_API_VERSIONS, appApiVersionError, containerAppsRoute } from './container-apps.ts'
import { handleUserAssignedIdentity } from './user-assigned-identities.ts'
import { handleRoleAssignments } from './role-assignments.ts'
import { handleSecrets } from './secrets.ts'
import type { FakeRequest, FakeResponse, Handler } from '../core/server.ts'
import { handleSite, siteOperation } from './sites.ts'
import type { State } from '../core/state.ts'
import { handleVault, listResources, listVaults } from './vaults.ts'

interface Route {
  family: ApiFamily | 'app' // 'app': Microsoft.App (container-apps.ts), whose versions live there
  resourceType: string
  sub?: string
  rg?: string
  run: (ctx: ArmContext) => FakeResponse
}

const notFoundRoute = (req: FakeRequest): FakeResponse =>
  armError(404, 'InvalidResourceType', `The fake Azure Resource Manager has no route for ${req.method} ${req.path}.`)

// Segments are matched case-insensitively; values keep the caller's casing.
function route(req: FakeRequest, segs: string[]): Route | undefined {
  const l = segs.map((s) => s.toLowerCase())
  const ra = l.findIndex(
    (s, i) => s === 'providers' && l[i + 1] === 'microsoft.authorization' && l[i + 2] === 'roleassignments'
  )
  if (ra >= 0 && l[0] === 'subscriptions' && segs.length <= ra + 4) {
    const scope = '/' + segs.slice(0, ra).join('/')
    return {
      family: 'authorization',
      resourceType: 'roleAssignments',
      sub: segs[1],
      rg: l[2] === 'resourcegroups' ? segs[3] : undefined,
      run: (ctx) => handleRoleAssignments(ctx, scope, segs[ra + 3])
    }
  }
  if (l[0] !== 'subscriptions') return undefined
  const app = containerAppsRoute(segs)
  if (app) return { family: 'app', ...app }
  if (segs.length === 1 && req.method === 'GET')
    return { family: 'subscriptions', resourceType: 'subscriptions', run: listSubscriptions }
  const sub = segs[1]
  if (segs.length === 2 && req.method === 'GET')
    return { family: 'subscriptions', resourceType: 'subscriptions', sub, run: (ctx) => getSubscription(ctx, sub) }
  if (segs.length === 3 && l[2] === 'resources' && req.method === 'GET')
    return { family: 'resources', resourceType: 'resources', sub, run: (ctx) => listResources(ctx, sub) }
  if (
    segs.length === 5 &&
    l[2] === 'providers' &&
    l[3] === 'microsoft.keyvault' &&
    l[4] === 'vaults' &&
    req.method === 'GET'
  ) {
    return { family: 'keyVault', resourceType: 'vaults', sub, run: (ctx) => listVaults(ctx, sub) }
  }
  // The Azure-AsyncOperation URL of a 202 site update: subscription level (sites.ts siteOperation).
  if (
    segs.length === 8 &&
    l.slice(2, 5).join('/') === 'providers/microsoft.web/sites' &&
    l[6] === 'operationresults' &&
    req.method === 'GET'
  ) {
    return {
      family: 'web',
      resourceType: 'sites/operationresults',
      sub,
      run: (ctx) => siteOperation(ctx, sub, segs[5], segs[7])
    }
  }
  if (l[2] !== 'resourcegroups' || segs.length < 4) return undefined
  const rg = segs[3]
  if (segs.length === 4 && req.method === 'GET')
    return {
      family: 'resources',
      resourceType: 'resourceGroups',
      sub,
      rg,
      run: (ctx) => getResourceGroup(ctx, sub, rg)
    }
  if (l[4] !== 'providers') return undefined
  const p = l.slice(5, 7).join('/')
  if (p === 'microsoft.web/sites' && (segs.length === 8 || (segs.length === 10 && l[8] === 'slots'))) {
    return {
      family: 'web',
      resourceType: segs.length === 10 ? 'sites/slots' : 'sites',
      sub,
      rg,
      run: (ctx) => handleSite(ctx, sub, rg, segs[7], segs[9])
    }
  }
  // {site}[/slots/{slot}]/config/… and …/restart
  const slotted = l[8] === 'slots' && segs.length >= 11
  const under = segs.slice(slotted ? 10 : 8)
  if (
    p === 'microsoft.web/sites' &&
    segs.length >= 9 &&
    (l[slotted ? 10 : 8] === 'config' || l[slotted ? 10 : 8] === 'restart')
  ) {
    return {
      family: 'web',
      resourceType: slotted ? 'sites/slots/config' : 'sites/config',
      sub,
      rg,
      run: (ctx) => handleSiteConfig(ctx, sub, rg, segs[7], slotted ? segs[9] : undefined, under)
    }
  }
  if (p === 'microsoft.managedidentity/userassignedidentities' && segs.length === 8) {
    return {
      family: 'managedIdentity',
      resourceType: 'userAssignedIdentities',
      sub,
      rg,
      run: (ctx) => handleUserAssignedIdentity(ctx, sub, rg, segs[7])
    }
  }
  if (p === 'microsoft.keyvault/vaults' && l[8] === 'secrets' && (segs.length === 9 || segs.length === 10)) {
    return {
      family: 'keyVault',
      resourceType: 'vaults/secrets',
      sub,
      rg,
      run: (ctx) => handleSecrets(ctx, sub, rg, segs[7], segs[9])
    }
  }
  if (p === 'microsoft.keyvault/vaults') {
    if (segs.length === 7 && req.method === 'GET')
      return { family: 'keyVault', resourceType: 'vaults', sub, rg, run: (ctx) => listVaults(ctx, sub, rg) }
    if (segs.length === 8)
      return { family: 'keyVault', resourceType: 'vaults', sub, rg, run: (ctx) => handleVault(ctx, sub, rg, segs[7]) }
    if (segs.length === 10 && l[8] === 'accesspolicies') {
      return {
        family: 'keyVault',
        resourceType: 'vaults/accessPolicies',
        sub,
        rg,
        run: (ctx) => handleVault(ctx, sub, rg, segs[7], segs[9])
      }
    }
  }
  return undefined
}

function listSubscriptions(ctx: ArmContext): FakeResponse {
  // Like ARM: only the subscriptions of the token's tenant.
  const value = [...ctx.state.subscriptions.values()]
    .filter((s) => s.tenantId.toLowerCase() === ctx.grant.tenantId.toLowerCase())
    .map((s) => subscriptionBody(s))
  return ok({ value, count: { type: 'Total', value: value.length } })
}

function subscriptionBody(s: {
  subscriptionId: string
  tenantId: string
  displayName: string
}): Record<string, unknown> {
  return {
    id: `/subscriptions/${s.subscriptionId}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: s.subscriptionId,
    tenantId: s.tenantId,
    displayName: s.displayName,
    state: 'Enabled',
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: 'PayAsYouGo_2014-09-01',
      spendingLimit: 'Off'
    }
  }
}

function getSubscription(ctx: ArmContext, sub: string): FakeResponse {
  const s = ctx.state.subscriptions.get(sub.toLowerCase())
  return s ? ok(subscriptionBody(s)) : subscriptionNotFound(sub)
}

function getResourceGroup(ctx: ArmContext, sub: string, rg: string): FakeResponse {
  const id = `/subscriptions/${sub}/resourceGroups/${rg}`
  const denied = authorize(ctx, 'Microsoft.Resources/subscriptions/resourceGroups/read', id)
  if (denied) return denied
  const missing = findResourceGroup(ctx, sub, rg)
  if (missing) return missing
  const g = ctx.state.resourceGroups.get(id.toLowerCase())!
  return ok({
    id: g.id,
    name: g.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: g.location,
    properties: { provisioningState: 'Succeeded' }
  })
}

function wrongTenant(tokenTenant: string, subTenant: string): FakeResponse {
  return armError(
    401,
    'InvalidAuthenticationTokenTenant',
    `The access token is from the wrong issuer 'https://sts.windows.net/${tokenTenant}/'. It must match the tenant 'https://sts.windows.net/${subTenant}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${subTenant}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`
  )
}

export function armHandler(state: State, armEndpoint: () => string): Handler {
  return (req: FakeRequest): FakeResponse => {
    const auth = req.headers.authorization
    if (!auth)
      return armError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.")
    const m = /^Bearer\s+(\S+)$/i.exec(auth)
    if (!m)
      return armError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is provided in an invalid format."
      )
    const grant = state.tokens.get(m[1])
    if (!grant) return armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.')
    // The SDK may send '//subscriptions/...' when given a scope with a leading slash.
    const segs = req.path
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s))
    const r = route(req, segs)
    const apiVersion = req.query['api-version']
    if (apiVersion === undefined || apiVersion === '') return missingApiVersion()
    if (!r) return notFoundRoute(req)
    if (!(r.family === 'app' ? APP_API_VERSIONS : API_VERSIONS[r.family]).includes(apiVersion)) {
      const rgRec =
        r.sub && r.rg
          ? state.resourceGroups.get(`/subscriptions/${r.sub}/resourcegroups/${r.rg}`.toLowerCase())
          : undefined
      const location = rgRec?.location ?? state.location
      return r.family === 'app'
        ? appApiVersionError(apiVersion, r.resourceType, location)
        : apiVersionError(r.family, apiVersion, r.resourceType, location)
    }
    if (r.sub !== undefined) {
      const sub = state.subscriptions.get(r.sub.toLowerCase())
      if (!sub) return subscriptionNotFound(r.sub)
      if (sub.tenantId.toLowerCase() !== grant.tenantId.toLowerCase()) return wrongTenant(grant.tenantId, sub.tenantId)
    }
    return r.run({ state, req, grant, apiVersion, armEndpoint: armEndpoint() })
  }
}
