// Minimal RS256 JWTs: the fake OIDC issuer signs, the fake Entra ID verifies with the same key.
import { createSign, createVerify, randomBytes, type KeyObject } from 'node:crypto'
import type { TokenGrant } from './state.ts'

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url')

export function signJwt(payload: Record<string, unknown>, key: KeyObject, kid: string): string {
  const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid }))
  const body = b64url(JSON.stringify(payload))
  const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key)
  return `${head}.${body}.${b64url(sig)}`
}

export interface DecodedJwt {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  signatureValid: boolean
}

// Returns undefined when the text is not a JWT at all.
export function decodeJwt(token: string, publicKey: KeyObject): DecodedJwt | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'))
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
    const signatureValid =
      header.alg === 'RS256' &&
      createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`).verify(publicKey, Buffer.from(parts[2], 'base64url'))
    return { header, payload, signatureValid }
  } catch {
    return undefined
  }
}

/**
 * An access token as Entra ID issues them to a managed identity or to the az CLI: JWT-shaped so
 * callers can read `tid` from it (the action does: tenantOfToken in
 * src/signin/runner-identity.ts), its signature random bytes nobody
 * checks. Registered in `tokens` so the fake ARM accepts it for `grant`.
 */
export function mintAccessToken(
  tokens: Map<string, TokenGrant>,
  grant: TokenGrant,
  claims: Record<string, unknown>,
  lifetimeSeconds = 3599
): { token: string; exp: number; iat: number } {
  const iat = Math.floor(Date.now() / 1000)
  const exp = iat + lifetimeSeconds
  const payload = {
    aud: 'https://management.azure.com/',
    iss: `https://sts.windows.net/${grant.tenantId}/`,
    iat,
    nbf: iat,
    exp,
    appid: grant.clientId,
    oid: grant.spObjectId,
    tid: grant.tenantId,
    ...claims
  }
  const token = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}.${randomBytes(32).toString('base64url')}`
  tokens.set(token, { ...grant })
  return { token, exp, iat }
}
