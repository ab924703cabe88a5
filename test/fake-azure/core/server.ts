// HTTP(S) plumbing shared by the fake servers: read the whole body, apply faults and
// latency, call a synchronous handler (so each request is applied atomically), log, answer.
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { performance } from 'node:perf_hooks'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { webError } from '../arm/common.ts'
import type { State } from './state.ts'
import type { FaultRule, RequestLogEntry, ServerName } from './types.ts'

export interface FakeRequest {
  server: ServerName
  method: string
  path: string
  query: Record<string, string>
  headers: IncomingHttpHeaders
  rawBody: string
  body: unknown // parsed JSON or form; undefined when absent or unparsable
}

export interface FakeResponse {
  status: number
  headers?: Record<string, string>
  body?: unknown
}
export type Handler = (req: FakeRequest) => FakeResponse

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function parseBody(raw: string, contentType: string): unknown {
  if (!raw) return undefined
  if (contentType.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw))
  try {
    return JSON.parse(raw)
  } catch {
    return undefined
  }
}

// Credentials never reach the log: assertions, issued tokens, OIDC tokens.
const SECRET_KEYS = new Set(['client_assertion', 'access_token', 'value', 'client_secret', 'refresh_token'])
function redact(server: ServerName, body: unknown): unknown {
  if (server === 'arm' || !body || typeof body !== 'object' || Array.isArray(body)) return body
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(body)) out[k] = SECRET_KEYS.has(k) ? '[redacted]' : v
  return out
}

function takeFault(state: State, req: FakeRequest): FaultRule | undefined {
  const i = state.faults.findIndex(
    (f) =>
      (!f.server || f.server === req.server) &&
      (!f.method || f.method.toUpperCase() === req.method) &&
      (f.path === undefined ||
        (typeof f.path === 'string' ? req.path.toLowerCase().includes(f.path.toLowerCase()) : f.path.test(req.path)))
  )
  if (i < 0) return undefined
  const f = state.faults[i]
  if (f.skip) {
    // Let this many matching requests through first.
    state.faults[i] = { ...f, skip: f.skip - 1 }
    return undefined
  }
  const left = (f.times ?? 1) - 1
  if (left <= 0) state.faults.splice(i, 1)
  else state.faults[i] = { ...f, times: left }
  return f
}

const FAULT_ERRORS: Record<number, [string, string]> = {
  409: [
    'Conflict',
    'Cannot modify this site because another operation is in progress. Details: Id: 00000000-0000-0000-0000-000000000000, OperationName: Update, CreatedTime: now, RequestId: 00000000-0000-0000-0000-000000000000, EntityType: 1'
  ],
  429: [
    'TooManyRequests',
    'The request is being throttled as the limit has been reached for operation type - Write. For more information, see - https://aka.ms/srpthrottlinglimits'
  ],
  500: ['InternalServerError', 'Encountered internal server error. Diagnostic information: timestamp, activityId.'],
  502: ['BadGateway', 'The server received an invalid response from an upstream server.'],
  503: ['ServiceUnavailable', 'The service is temporarily unavailable. Please try again later.']
}

// What the IMDS doc's error table (Entra how-to-use-vm-token) says of these statuses.
const IMDS_FAULTS: Record<number, string> = {
  404: 'IMDS endpoint is updating',
  410: 'IMDS is going through updates. IMDS will be available within 70 seconds'
}

function faultResponse(server: ServerName, f: FaultRule, path: string): FakeResponse {
  const status = f.status ?? 500
  const headers: Record<string, string> = f.retryAfter !== undefined ? { 'retry-after': f.retryAfter } : {}
  if (f.body !== undefined) return { status, headers, body: f.body }
  const [code, message] = FAULT_ERRORS[status] ?? ['Error', `Injected fault with status ${status}.`]
  if (server === 'entra') {
    return {
      status,
      headers,
      body: { error: 'temporarily_unavailable', error_description: `AADSTS90033: ${message}`, error_codes: [90033] }
    }
  }
  if (server === 'imds') {
    // IMDS errors are {error, error_description} (the same doc); the codes here are the fake's.
    const text = IMDS_FAULTS[status] ?? message
    return {
      status,
      headers,
      body: { error: code.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase(), error_description: text }
    }
  }
  // Microsoft.Web answers its own errors (409, 400) in its own shape; the gateway's stay ARM's.
  if (f.webShape ?? ((status === 409 || status === 400) && /\/providers\/microsoft\.web\//i.test(path))) {
    // 59203 is the site-busy 409's ExtendedCode (the capture quoted in arm/common.ts).
    return { ...webError(status, code, message, status === 409 ? '59203' : '00000'), headers }
  }
  return { status, headers, body: { error: { code, message } } }
}

async function serve(
  state: State,
  server: ServerName,
  handler: Handler,
  req: IncomingMessage,
  res: ServerResponse
): Promise<void> {
  const start = performance.now()
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const rawBody = Buffer.concat(chunks).toString('utf8')
  // Not new URL(): a '//subscriptions/...' path would parse as a host name.
  const raw = req.url ?? '/'
  const q = raw.indexOf('?')
  const pathname = q < 0 ? raw : raw.slice(0, q)
  const search = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1))
  const fr: FakeRequest = {
    server,
    method: (req.method ?? 'GET').toUpperCase(),
    path: pathname,
    query: Object.fromEntries(search),
    headers: req.headers,
    rawBody,
    body: parseBody(rawBody, String(req.headers['content-type'] ?? ''))
  }
  const entry: RequestLogEntry = {
    server,
    method: fr.method,
    path: fr.path,
    query: fr.query,
    status: 0,
    start,
    end: start
  }
  if (fr.body !== undefined) entry.requestBody = redact(server, fr.body)
  state.log.push(entry)

  const fault = takeFault(state, fr)
  // Latency models the way to Azure; GitHub's OIDC endpoint and the VM-local IMDS are not on it.
  if (server !== 'oidc' && server !== 'imds' && server !== 'github' && state.latencyMs > 0) await sleep(state.latencyMs)
  if (fault?.delayMs) await sleep(fault.delayMs)
  fault?.before?.()
  if (fault?.drop) {
    entry.end = performance.now()
    req.socket.destroy()
    return
  }
  let out: FakeResponse
  if (fault && (fault.status !== undefined || fault.body !== undefined)) out = faultResponse(server, fault, fr.path)
  else {
    try {
      out = handler(fr)
    } catch (e) {
      out = {
        status: 500,
        body: { error: { code: 'InternalServerError', message: `fake-azure bug: ${(e as Error).stack}` } }
      }
    }
  }
  fault?.after?.()
  if (fault?.dropAnswer) {
    // The request was carried out; its answer is lost on the way back.
    entry.end = performance.now()
    req.socket.destroy()
    return
  }
  entry.status = out.status
  if (out.body !== undefined) entry.responseBody = redact(server, out.body)
  const text = out.body === undefined ? '' : JSON.stringify(out.body)
  res.writeHead(out.status, {
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
    'x-ms-request-id': randomUUID(),
    ...out.headers
  })
  entry.end = performance.now()
  res.end(text)
}

export interface Listening {
  server: Server
  port: number
  handler: Handler
}

export async function listen(
  state: State,
  name: ServerName,
  handler: Handler,
  tls?: { key: string; cert: string }
): Promise<Listening> {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    serve(state, name, handler, req, res).catch(() => req.socket.destroy())
  }
  const server: Server = tls
    ? createHttpsServer({ key: tls.key, cert: tls.cert }, onRequest)
    : createHttpServer(onRequest)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return { server, port: (server.address() as AddressInfo).port, handler }
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}
