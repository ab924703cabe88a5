// The ADFS-style authority the az CLI needs. az (MSAL for Python 1.21) skips instance discovery
// only when the authority's first path segment is `adfs`; it then asks for
// `GET {host}/adfs/.well-known/openid-configuration` (no tenant, no `/v2.0`) and posts the
// client-assertion form to whatever `token_endpoint` that document names. Pointing it at the
// tenant's v2.0 token endpoint lets the existing Entra handler issue the token unchanged.
// MSAL for Python 1.21 does not compare `issuer` with the authority.
//
// Wiring (test/fake-azure/index.ts):
//   listen(state, 'entra', withAdfs(entraHandler(state, keys, {...}),
//     { authorityHost: () => urls.entra, tenantId: () => state.tenantId }), tls)
import type { FakeRequest, FakeResponse, Handler } from '../core/server.ts'

export const ADFS_DISCOVERY_PATH = '/adfs/.well-known/openid-configuration'

/** The discovery document of `{adfsHost}/adfs`; tokens are issued by `{tokenHost}/{tenantId}`. */
export function adfsOpenidConfiguration(
  adfsHost: string,
  tokenHost: string,
  tenantId: string
): Record<string, unknown> {
  const base = `${adfsHost}/adfs`
  return {
    issuer: base,
    authorization_endpoint: `${base}/oauth2/authorize`,
    token_endpoint: `${tokenHost}/${tenantId}/oauth2/v2.0/token`,
    jwks_uri: `${base}/discovery/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    id_token_signing_alg_values_supported: ['RS256']
  }
}

/** Entra handler plus the ADFS discovery document for the fake's own tenant. */
export function withAdfs(entra: Handler, opts: { authorityHost: () => string; tenantId: () => string }): Handler {
  return (req: FakeRequest): FakeResponse => {
    if (req.method === 'GET' && req.path.toLowerCase() === ADFS_DISCOVERY_PATH) {
      const host = opts.authorityHost()
      return { status: 200, body: adfsOpenidConfiguration(host, host, opts.tenantId()) }
    }
    return entra(req)
  }
}
