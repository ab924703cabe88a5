// Minimal RS256 JWTs: the fake OIDC issuer signs, the fake Entra ID verifies with the same key.
import { createSign, createVerify, type KeyObject } from 'node:crypto'

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
