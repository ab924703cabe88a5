// Shared by the fake's own tests: raw HTTP(S) calls that trust the fake's CA explicitly, and the
// GitHub OIDC -> Entra ID exchange done by hand.
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import tls from 'node:tls'
import type { FakeAzure } from '../index.ts'

export interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: any
}

export function call(
  fake: FakeAzure,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; form?: Record<string, string> } = {}
): Promise<Reply> {
  const u = new URL(url)
  const headers: Record<string, string> = { ...init.headers }
  let payload: string | undefined
  if (init.form) {
    payload = new URLSearchParams(init.form).toString()
    headers['content-type'] = 'application/x-www-form-urlencoded'
  } else if (init.body !== undefined) {
    payload = typeof init.body === 'string' ? init.body : JSON.stringify(init.body)
    headers['content-type'] = 'application/json'
  }
  const mod = u.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      { method: init.method ?? 'GET', headers, ca: readFileSync(fake.caCertPath), agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: unknown = text
          try {
            body = text ? JSON.parse(text) : undefined
          } catch {
            /* keep text */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body })
        })
      }
    )
    req.on('error', reject)
    if (payload !== undefined) req.write(payload)
    req.end()
  })
}

export async function oidcToken(fake: FakeAzure, audience = 'api://AzureADTokenExchange'): Promise<string> {
  const r = await call(fake, `${fake.oidcRequestUrl}&audience=${encodeURIComponent(audience)}`, {
    headers: { authorization: `Bearer ${fake.oidcRequestToken}` }
  })
  if (r.status !== 200) throw new Error(`OIDC ${r.status}`)
  return r.body.value
}

export function tokenForm(
  fake: FakeAzure,
  assertion: string,
  over: Record<string, string> = {}
): Record<string, string> {
  return {
    client_id: fake.clientId,
    scope: 'https://management.azure.com/.default',
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    ...over
  }
}

export async function armToken(fake: FakeAzure): Promise<string> {
  const r = await call(fake, `${fake.authorityHost}/${fake.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    form: tokenForm(fake, await oidcToken(fake))
  })
  if (r.status !== 200) throw new Error(`token ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.access_token
}

// An ARM caller bound to one token: arm('GET', '/subscriptions/...', body?, apiVersion?).
export async function armCaller(
  fake: FakeAzure
): Promise<(method: string, path: string, body?: unknown, apiVersion?: string | null) => Promise<Reply>> {
  const token = await armToken(fake)
  return (method, path, body, apiVersion = '2025-05-01') => {
    const sep = path.includes('?') ? '&' : '?'
    const url = `${fake.armEndpoint}${path}${apiVersion === null ? '' : `${sep}api-version=${apiVersion}`}`
    return call(fake, url, { method, body, headers: { authorization: `Bearer ${token}` } })
  }
}

// The SDKs' HTTP client uses Node's default CA list; Node 24 lets a running process extend it
// (NODE_EXTRA_CA_CERTS is only read at start-up).
export function trustFakeCa(fake: FakeAzure): void {
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), readFileSync(fake.caCertPath, 'utf8')])
}

export function getAssertion(fake: FakeAzure): () => Promise<string> {
  return () => oidcToken(fake)
}
