// Entra ID's v2.0 endpoints as MSAL uses them for a client-assertion (workload identity) sign-in.
// Errors carry the real AADSTS codes and texts because the action translates them for users.
import { randomBytes, randomUUID } from 'node:crypto'
import { decodeJwt } from '../core/jwt.ts'
import type { OidcKeys } from './github-oidc.ts'
import type { FakeRequest, FakeResponse, Handler } from '../core/server.ts'
import type { State } from '../core/state.ts'

export const ARM_RESOURCES = [
  'https://management.azure.com',
  'https://management.usgovcloudapi.net',
  'https://management.chinacloudapi.cn'
]

// AAD prints "2024-05-16 10:11:12Z" in `timestamp` and the same instant in the description.
const aadTime = (d = new Date()): string =>
  d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
const isoTicks = (secs: number): string =>
  new Date(secs * 1000).toISOString().replace(/\.(\d+)Z$/, (_m, ms: string) => `.${ms}0000Z`)

function aadError(status: number, error: string, code: number, text: string): FakeResponse {
  const traceId = randomUUID()
  const correlationId = randomUUID()
  const timestamp = aadTime()
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`
    }
  }
}

const tenantNotFound = (tenant: string): FakeResponse =>
  aadError(
    400,
    'invalid_request',
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`
  )

function openidConfiguration(host: string, tenant: string): Record<string, unknown> {
  const base = `${host}/${tenant}`
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid'],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net'
  }
}

function validScope(scope: string, armEndpoint: string): boolean {
  // MSAL may append OIDC scopes; exactly one resource '.default' must remain.
  const scopes = scope.split(' ').filter((x) => x && !['openid', 'profile', 'offline_access'].includes(x))
  if (scopes.length !== 1) return false
  const m = /^(.*?)\/?\/\.default$/.exec(scopes[0])
  if (!m) return false
  const resource = m[1].toLowerCase()
  return ARM_RESOURCES.includes(resource) || resource === armEndpoint.toLowerCase()
}

function token(
  state: State,
  keys: OidcKeys,
  tenant: string,
  f: Record<string, string>,
  armEndpoint: string
): FakeResponse {
  if (!f.grant_type)
    return aadError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'grant_type'."
    )
  if (f.grant_type !== 'client_credentials') {
    return aadError(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${f.grant_type}'.`
    )
  }
  if (!f.client_id)
    return aadError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'client_id'."
    )
  const app = state.applications.get(f.client_id.toLowerCase())
  if (!app || app.tenantId.toLowerCase() !== tenant.toLowerCase()) {
    return aadError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${f.client_id}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`
    )
  }
  if (!f.client_assertion) {
    return aadError(
      401,
      'invalid_client',
      7000216,
      "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."
    )
  }
  if (f.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    return aadError(400, 'invalid_request', 50027, `Invalid client_assertion_type '${f.client_assertion_type ?? ''}'.`)
  }
  const jwt = decodeJwt(f.client_assertion, keys.publicKey)
  if (!jwt) return aadError(400, 'invalid_client', 50027, 'JWT token is invalid or malformed.')
  if (!jwt.signatureValid) {
    return aadError(
      400,
      'invalid_client',
      50013,
      'Assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]'
    )
  }
  const p = jwt.payload
  const now = Math.floor(Date.now() / 1000)
  const nbf = typeof p.nbf === 'number' ? p.nbf : 0
  const exp = typeof p.exp === 'number' ? p.exp : 0
  if (now < nbf || now >= exp) {
    return aadError(
      400,
      'invalid_client',
      700024,
      `Client assertion is not within its valid time range. Current time: ${isoTicks(now)}, assertion valid from ${isoTicks(nbf)}, expiry time of assertion ${isoTicks(exp)}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`
    )
  }
  const auds = Array.isArray(p.aud) ? p.aud : [p.aud]
  const match = state.federatedCredentials.some(
    (c) =>
      c.clientId.toLowerCase() === app.clientId.toLowerCase() &&
      c.issuer === p.iss &&
      c.subject === p.sub &&
      auds.includes(c.audience)
  )
  if (!match) {
    return aadError(
      400,
      'invalid_client',
      700213,
      `No matching federated identity record found for presented assertion subject '${String(p.sub)}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`
    )
  }
  if (!f.scope)
    return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.")
  if (!validScope(f.scope, armEndpoint)) {
    return aadError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${f.scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`
    )
  }
  const accessToken = randomBytes(32).toString('base64url')
  state.tokens.set(accessToken, { tenantId: app.tenantId, clientId: app.clientId, spObjectId: app.spObjectId })
  return {
    status: 200,
    body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken }
  }
}

export function entraHandler(
  state: State,
  keys: OidcKeys,
  hosts: { authorityHost: () => string; armEndpoint: () => string }
): Handler {
  return (req: FakeRequest): FakeResponse => {
    const host = hosts.authorityHost()
    const parts = req.path.split('/').filter(Boolean)
    if (req.method === 'GET' && req.path.toLowerCase() === '/common/discovery/instance') {
      // tenant_discovery_endpoint names the tenant of the authority MSAL asked about.
      const auth = req.query.authorization_endpoint ?? ''
      const tenant = /\/([^/]+)\/oauth2\//.exec(auth)?.[1] ?? 'common'
      const h = new URL(host).host
      return {
        status: 200,
        body: {
          tenant_discovery_endpoint: `${host}/${tenant}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: h, preferred_cache: h, aliases: [h] }]
        }
      }
    }
    const tenant = parts[0] ?? ''
    const rest = parts.slice(1).join('/').toLowerCase()
    if (req.method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
      if (!state.tenants.has(tenant.toLowerCase())) return tenantNotFound(tenant)
      return { status: 200, body: openidConfiguration(host, tenant) }
    }
    if (req.method === 'GET' && rest === 'discovery/v2.0/keys') return { status: 200, body: { keys: [] } }
    if (req.method === 'POST' && rest === 'oauth2/v2.0/token') {
      if (!state.tenants.has(tenant.toLowerCase())) return tenantNotFound(tenant)
      const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string>
      return token(state, keys, tenant, form, hosts.armEndpoint())
    }
    return {
      status: 404,
      body: { error: 'not_found', error_description: `fake Entra ID has no ${req.method} ${req.path}` }
    }
  }
}
