// The runner's ACTIONS_ID_TOKEN_REQUEST_URL endpoint: a bearer-protected GET that mints an RS256
// JWT shaped like GitHub's, signed with a key the fake Entra ID trusts.
import { randomUUID, type KeyObject } from 'node:crypto'
import { signJwt } from '../core/jwt.ts'
import type { FakeRequest, FakeResponse, Handler } from '../core/server.ts'
import type { State } from '../core/state.ts'

export interface OidcKeys {
  privateKey: KeyObject
  publicKey: KeyObject
  kid: string
}

export function oidcHandler(state: State, keys: OidcKeys, requestToken: string): Handler {
  return (req: FakeRequest): FakeResponse => {
    if (req.method !== 'GET' || req.path !== '/token') return { status: 404, body: { message: 'Not Found' } }
    if (req.headers.authorization !== `Bearer ${requestToken}`) {
      return {
        status: 401,
        body: { message: 'Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable: bad or missing request token' }
      }
    }
    const c = state.oidcClaims
    const now = Math.floor(Date.now() / 1000)
    const iat = c.iat ?? now
    const [owner] = c.repository.split('/')
    const payload = {
      jti: randomUUID(),
      sub: c.sub,
      aud: req.query.audience || c.aud,
      ref: c.ref,
      repository: c.repository,
      repository_owner: owner,
      event_name: 'push',
      ref_type: 'branch',
      runner_environment: 'github-hosted',
      iss: c.iss,
      nbf: c.nbf ?? iat - 5,
      iat,
      exp: c.exp ?? iat + 600
    }
    return { status: 200, body: { count: 1, value: signJwt(payload, keys.privateKey, keys.kid) } }
  }
}
