// The forward proxy (proxy.ts) with the clients the action really uses: @azure/core-rest-pipeline
// (every Azure SDK call), Node's fetch (the GitHub OIDC request) and plain node:https. The names
// under .invalid never resolve, so a 200 for one of them proves the request went through the proxy.
import { execFile } from 'node:child_process'
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server } from 'node:http'
import { get as httpsGet, createServer as createHttpsServer } from 'node:https'
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net'
import tls from 'node:tls'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  type Pipeline,
  type PipelineRequestOptions,
  type PipelineResponse,
  type ProxySettings
} from '@azure/core-rest-pipeline'
import { startProxy, type FakeProxy, type ProxyTarget } from '../core/proxy.ts'
import { makeTls, type TlsMaterial } from '../core/tls.ts'

const MGMT = 'management.fake-azure.invalid'
const LOGIN = 'login.fake-azure.invalid'
const OIDC = 'oidc.fake-azure.invalid'
const NOT_IN_CERT = 'elsewhere.fake-azure.invalid' // mapped by the proxy, absent from the certificate
const SECRET = 'Bearer s3cret-token'
const PROXY_ENV = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((n) => [n, n.toLowerCase()])

let material: TlsMaterial
let servers: Server[]
let proxy: FakeProxy
let authProxy: FakeProxy
let strictProxy: FakeProxy
let savedCa: string[]
const savedEnv: Record<string, string | undefined> = {}
const rawSockets: Socket[] = []
const httpClient = createDefaultHttpClient()

// Both upstreams echo what reached them, so a test can see what the proxy passed on.
const echo: RequestListener = (req, res) => {
  let body = ''
  req.on('data', (c: Buffer) => (body += c.toString()))
  req.on('end', () => {
    const { host, authorization } = req.headers
    res.setHeader('x-upstream', 'echo')
    res.end(
      JSON.stringify({ method: req.method, url: req.url, host, authorization, body, names: Object.keys(req.headers) })
    )
  })
}

async function listen(server: Server): Promise<ProxyTarget> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port }
}

function viaProxy(p: FakeProxy, auth: Partial<ProxySettings> = {}): Pipeline {
  return createPipelineFromOptions({
    retryOptions: { maxRetries: 0 },
    proxyOptions: { host: 'http://127.0.0.1', port: p.port, ...auth }
  })
}

function send(pipeline: Pipeline, url: string, init: Partial<PipelineRequestOptions> = {}): Promise<PipelineResponse> {
  return pipeline.sendRequest(httpClient, createPipelineRequest({ url, allowInsecureConnection: true, ...init }))
}

/** A hand-written CONNECT: the status line and headers the proxy answered, and the open socket. */
function rawConnect(
  port: number,
  target: string,
  extra = ''
): Promise<{ status: number; head: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => socket.write(`CONNECT ${target} HTTP/1.1\r\n${extra}\r\n`))
    rawSockets.push(socket)
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      resolve({ status: Number(head.split(' ')[1]), head, socket })
    }
    socket.on('data', onData).on('error', reject)
  })
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    res
      .on('data', (c: Buffer) => (text += c.toString()))
      .on('end', () => resolve(text))
      .on('error', reject)
  })
}

const errorCode = (e: any): string => e?.cause?.code ?? e?.code ?? String(e)

beforeAll(async () => {
  // Proxy variables from the machine running the tests would change what the SDK does.
  for (const n of PROXY_ENV) {
    savedEnv[n] = process.env[n]
    delete process.env[n]
  }
  material = makeTls([MGMT, LOGIN])
  savedCa = tls.getCACertificates('default')
  tls.setDefaultCACertificates([...savedCa, material.caCert])
  servers = [createHttpsServer({ key: material.key, cert: material.cert }, echo), createHttpServer(echo)]
  const [secure, plain] = await Promise.all(servers.map(listen))
  const hosts = { [`${MGMT}:443`]: secure, [LOGIN]: secure, [`${NOT_IN_CERT}:443`]: secure, [OIDC]: plain }
  ;[proxy, authProxy, strictProxy] = await Promise.all([
    startProxy({ hosts }),
    startProxy({ hosts, requireAuth: { user: 'runner', password: 'pa55' } }),
    startProxy({ hosts, unknownHostStatus: 403 })
  ])
})

afterAll(async () => {
  for (const s of rawSockets) s.destroy()
  await Promise.all([proxy, authProxy, strictProxy].map((p) => p?.close()))
  for (const s of servers ?? []) s.closeAllConnections()
  await Promise.all((servers ?? []).map((s) => new Promise((resolve) => s.close(resolve))))
  if (savedCa) tls.setDefaultCACertificates(savedCa)
  material?.cleanup()
  for (const [n, v] of Object.entries(savedEnv)) if (v !== undefined) process.env[n] = v
})

beforeEach(() => {
  for (const p of [proxy, authProxy, strictProxy]) p.log.length = 0
})

it('core-rest-pipeline tunnels https to a .invalid host with CONNECT; TLS is checked end to end', async () => {
  const res = await send(viaProxy(proxy), `https://${MGMT}/subscriptions?api-version=2022-12-01`, {
    method: 'PUT',
    body: '{"a":1}',
    headers: createHttpHeaders({ authorization: SECRET, 'content-type': 'application/json' })
  })
  expect(res.status).toBe(200)
  expect(JSON.parse(res.bodyAsText!)).toMatchObject({
    method: 'PUT',
    url: '/subscriptions?api-version=2022-12-01',
    host: MGMT,
    authorization: SECRET,
    body: '{"a":1}'
  })
  expect(proxy.log).toEqual([{ method: 'CONNECT', target: `${MGMT}:443`, status: 200 }])
})

it('core-rest-pipeline picks HTTPS_PROXY up when the pipeline is built (a name-only key maps any port)', async () => {
  process.env.HTTPS_PROXY = proxy.url
  let pipeline: Pipeline
  try {
    pipeline = createPipelineFromOptions({ retryOptions: { maxRetries: 0 } })
  } finally {
    delete process.env.HTTPS_PROXY
  }
  // The variable is gone now: the policy read it once, at construction.
  const res = await send(pipeline, `https://${LOGIN}:8443/tenant/oauth2/v2.0/token`, { method: 'POST', body: 'x=1' })
  expect(res.status).toBe(200)
  expect(JSON.parse(res.bodyAsText!)).toMatchObject({ url: '/tenant/oauth2/v2.0/token', host: `${LOGIN}:8443` })
  expect(proxy.log).toEqual([{ method: 'CONNECT', target: `${LOGIN}:8443`, status: 200 }])
})

it('a name the certificate does not carry fails TLS through the tunnel, and node:https works over a raw CONNECT', async () => {
  await expect(send(viaProxy(proxy), `https://${NOT_IN_CERT}/`)).rejects.toMatchObject({
    code: 'ERR_TLS_CERT_ALTNAME_INVALID'
  })
  // Host names are matched case-insensitively, as DNS does.
  const { status, socket } = await rawConnect(proxy.port, `MANAGEMENT.Fake-Azure.INVALID:443`)
  expect(status).toBe(200)
  const res = await new Promise<IncomingMessage>((resolve, reject) =>
    httpsGet(
      { host: MGMT, defaultPort: 443, path: '/raw', createConnection: () => tls.connect({ socket, servername: MGMT }) },
      resolve
    ).on('error', reject)
  )
  expect(res.statusCode).toBe(200)
  expect(JSON.parse(await readAll(res))).toMatchObject({ url: '/raw', host: MGMT })
  expect(proxy.log).toEqual([
    { method: 'CONNECT', target: `${NOT_IN_CERT}:443`, status: 200 },
    { method: 'CONNECT', target: `${MGMT}:443`, status: 200 }
  ])
})

it('forwards an absolute-form http request: method, path, query, headers, body; answer streamed back', async () => {
  const res = await send(viaProxy(proxy), `http://${OIDC}/token?api-version=2.0&audience=api%3A%2F%2Fx`, {
    method: 'POST',
    body: 'hello',
    headers: createHttpHeaders({ authorization: SECRET })
  })
  expect(res.status).toBe(200)
  expect(res.headers.get('x-upstream')).toBe('echo')
  expect(JSON.parse(res.bodyAsText!)).toMatchObject({
    method: 'POST',
    url: '/token?api-version=2.0&audience=api%3A%2F%2Fx',
    host: OIDC,
    authorization: SECRET,
    body: 'hello'
  })
  // No header values and no query string in the log: the bearer token crossed the proxy in clear.
  expect(proxy.log).toEqual([{ method: 'POST', target: `${OIDC}:80`, path: '/token', status: 200 }])
  expect(JSON.stringify(proxy.log)).not.toContain('s3cret')
})

it('refuses and logs a host it does not know, over CONNECT and absolute form', async () => {
  const pipeline = viaProxy(proxy)
  // The proxy agent hands the refused CONNECT's status to the caller as an ordinary response.
  expect((await send(pipeline, 'https://unknown.fake-azure.invalid/x')).status).toBe(502)
  expect((await send(pipeline, 'http://unknown.fake-azure.invalid:8080/y?z=1')).status).toBe(502)
  expect((await rawConnect(strictProxy.port, 'github.com:443')).status).toBe(403)
  expect(proxy.log).toEqual([
    { method: 'CONNECT', target: 'unknown.fake-azure.invalid:443', status: 502 },
    { method: 'GET', target: 'unknown.fake-azure.invalid:8080', path: '/y', status: 502 }
  ])
  expect(strictProxy.log).toEqual([{ method: 'CONNECT', target: 'github.com:443', status: 403 }])
})

it('without the proxy the .invalid names do not resolve (ENOTFOUND)', async () => {
  // The bare HttpClient: no pipeline, so no proxy policy.
  for (const url of [`https://${MGMT}/`, `http://${OIDC}/token`]) {
    await expect(
      httpClient.sendRequest(createPipelineRequest({ url, allowInsecureConnection: true }))
    ).rejects.toMatchObject({ code: 'ENOTFOUND' })
    expect(errorCode(await fetch(url).catch((e: unknown) => e))).toBe('ENOTFOUND')
  }
})

it('answers 407 with Proxy-Authenticate without the right credentials, and passes with them', async () => {
  const raw = await rawConnect(authProxy.port, `${MGMT}:443`)
  expect(raw.status).toBe(407)
  expect(raw.head).toMatch(/\r\nProxy-Authenticate: Basic realm="fake"\r\n/i)
  expect((await send(viaProxy(authProxy), `https://${MGMT}/`)).status).toBe(407)
  expect((await send(viaProxy(authProxy, { username: 'runner', password: 'nope' }), `https://${MGMT}/`)).status).toBe(
    407
  )
  const plain = await send(viaProxy(authProxy), `http://${OIDC}/token`)
  expect(plain.status).toBe(407)
  expect(plain.headers.get('proxy-authenticate')).toBe('Basic realm="fake"')

  const good = viaProxy(authProxy, { username: 'runner', password: 'pa55' })
  expect((await send(good, `https://${MGMT}/`)).status).toBe(200)
  const forwarded = await send(good, `http://${OIDC}/token`)
  expect(forwarded.status).toBe(200)
  // Proxy-Authorization is for the proxy only.
  expect(JSON.parse(forwarded.bodyAsText!).names).not.toContain('proxy-authorization')
  expect(authProxy.log.map((e) => `${e.method} ${e.target} ${e.status}`)).toEqual([
    `CONNECT ${MGMT}:443 407`,
    `CONNECT ${MGMT}:443 407`,
    `CONNECT ${MGMT}:443 407`,
    `GET ${OIDC}:80 407`,
    `CONNECT ${MGMT}:443 200`,
    `GET ${OIDC}:80 200`
  ])
})

// A fresh process, as the action runs: Node reads NODE_USE_ENV_PROXY and NO_PROXY at start-up.
// Asynchronous on purpose: a synchronous spawn would block this process, where the proxy runs.
const probe = `
import { createDefaultHttpClient, createPipelineFromOptions, createPipelineRequest } from '@azure/core-rest-pipeline'
const pipeline = createPipelineFromOptions({ retryOptions: { maxRetries: 0 } })
const client = createDefaultHttpClient()
const what = (e) => e?.cause?.code ?? e?.code ?? String(e)
const out = {
  fetchHttps: await fetch('https://${MGMT}/').then((r) => r.status, what),
  fetchHttp: await fetch('http://${OIDC}/token').then((r) => r.status, what),
  sdkHttps: await pipeline.sendRequest(client, createPipelineRequest({ url: 'https://${MGMT}/' })).then((r) => r.status, what)
}
console.log(JSON.stringify(out))
`
async function runProbe(env: Record<string, string>): Promise<Record<string, number | string>> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !PROXY_ENV.includes(k)))
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: resolve(import.meta.dirname, '../..'), // where `-e` resolves @azure/core-rest-pipeline
    env: { ...base, NODE_EXTRA_CA_CERTS: material.caCertPath, HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, ...env }
  })
  return JSON.parse(stdout)
}

it('fetch honours HTTPS_PROXY/HTTP_PROXY only with NODE_USE_ENV_PROXY=1; NO_PROXY bypasses the proxy', async () => {
  expect(await runProbe({ NODE_USE_ENV_PROXY: '1' })).toEqual({ fetchHttps: 200, fetchHttp: 200, sdkHttps: 200 })
  // undici tunnels plain http with CONNECT too.
  expect(proxy.log.map((e) => `${e.method} ${e.target}`).sort()).toEqual([
    `CONNECT ${MGMT}:443`,
    `CONNECT ${MGMT}:443`,
    `CONNECT ${OIDC}:80`
  ])
  expect(await runProbe({})).toEqual({ fetchHttps: 'ENOTFOUND', fetchHttp: 'ENOTFOUND', sdkHttps: 200 })
  proxy.log.length = 0
  expect(await runProbe({ NODE_USE_ENV_PROXY: '1', NO_PROXY: '.fake-azure.invalid' })).toEqual({
    fetchHttps: 'ENOTFOUND',
    fetchHttp: 'ENOTFOUND',
    sdkHttps: 'ENOTFOUND'
  })
  expect(proxy.log).toEqual([])
})
