// A forward HTTP proxy for tests of the action behind a corporate proxy (self-hosted runners).
// Tests give the action host names that only this proxy can resolve (`*.fake-azure.invalid`:
// the .invalid TLD never resolves), so a request that ignores HTTPS_PROXY/HTTP_PROXY fails with
// ENOTFOUND instead of quietly succeeding. Two request forms, as real clients send them:
// - `CONNECT host:port` (https through a proxy; also @actions/http-client's tunnel for plain http):
//   the socket is piped to the mapped target, TLS stays end to end;
// - absolute-form `GET http://host:port/path HTTP/1.1` (http-proxy-agent, undici for http URLs):
//   the request is replayed over plain http to the mapped target and the answer streamed back.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'

export interface ProxyTarget {
  host: string
  port: number
}

/** One request seen by the proxy. Header values are never recorded: bearer tokens cross it in clear. */
export interface ProxyLogEntry {
  /** 'CONNECT' or the HTTP method of an absolute-form request. */
  method: string
  /** The requested `host:port` (host lower-cased), not the mapped target. */
  target: string
  /** Absolute-form requests only: the path without its query. */
  path?: string
  /** 200 for an accepted CONNECT, the upstream status for a forwarded request, else 400/403/407/502. */
  status: number
}

export interface ProxyOptions {
  /**
   * Which names the proxy can reach: 'name:port' (exact) or 'name' (any port) → real target.
   * Keys are case-insensitive. Anything else is refused (`unknownHostStatus`) and logged.
   */
  hosts: Record<string, ProxyTarget>
  /** When set, requests without this Proxy-Authorization (Basic) get 407. */
  requireAuth?: { user: string; password: string }
  /**
   * Answer to a host not in `hosts` (default 502). Proxy agents hand a refused CONNECT's status to
   * the caller as if the server had sent it, so the SDKs retry a 502; 403 fails fast.
   */
  unknownHostStatus?: 403 | 502
}

export interface FakeProxy {
  /** `http://127.0.0.1:port`, for HTTPS_PROXY/HTTP_PROXY (add `user:password@` yourself). */
  url: string
  port: number
  log: ProxyLogEntry[]
  close(): Promise<void>
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade'
])

export async function startProxy(options: ProxyOptions): Promise<FakeProxy> {
  const hosts = new Map(Object.entries(options.hosts).map(([k, v]) => [k.toLowerCase(), v]))
  const log: ProxyLogEntry[] = []
  const refused = options.unknownHostStatus ?? 502
  // Tunnels are detached from the http server, so server.close() would wait on them forever.
  const sockets = new Set<Duplex>()
  const track = (s: Duplex): void => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  }

  const lookup = (host: string, port: number): ProxyTarget | undefined =>
    hosts.get(`${host}:${port}`) ?? hosts.get(host)

  const authorized = (headers: IncomingHttpHeaders): boolean => {
    if (!options.requireAuth) return true
    const { user, password } = options.requireAuth
    return headers['proxy-authorization'] === `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  }

  const server = createServer((req, res) => {
    const record = (status: number, target = '', path?: string): void => {
      log.push({ method: req.method ?? '', target, ...(path === undefined ? {} : { path }), status })
    }
    let url: URL
    try {
      url = new URL(req.url ?? '')
      if (url.protocol !== 'http:') throw new Error('not http')
    } catch {
      // Origin-form (`GET /path`) means the client talked to us as if we were the server.
      record(400)
      res.writeHead(400).end('fake proxy: expected an absolute http:// URL\n')
      return
    }
    const port = Number(url.port || 80)
    const target = `${url.hostname}:${port}`
    if (!authorized(req.headers)) {
      record(407, target, url.pathname)
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="fake"' }).end()
      return
    }
    const to = lookup(url.hostname, port)
    if (!to) {
      record(refused, target, url.pathname)
      res.writeHead(refused).end(`fake proxy: unknown host ${target}\n`)
      return
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !HOP_BY_HOP.has(k)))
    const upstream = httpRequest(
      { host: to.host, port: to.port, method: req.method, path: url.pathname + url.search, headers, agent: false },
      (answer: IncomingMessage) => {
        record(answer.statusCode ?? 0, target, url.pathname)
        const back = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => !HOP_BY_HOP.has(k)))
        res.writeHead(answer.statusCode ?? 502, back)
        answer.pipe(res)
      }
    )
    upstream.on('socket', track)
    upstream.on('error', () => {
      if (res.headersSent) return res.destroy()
      record(502, target, url.pathname)
      res.writeHead(502).end(`fake proxy: ${target} unreachable\n`)
    })
    req.pipe(upstream)
  })

  server.on('connection', track)
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    client.on('error', () => client.destroy())
    // Authority form: `host:port`, or `[v6]:port`.
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '')
    const target = m ? `${m[1].toLowerCase()}:${m[2]}` : (req.url ?? '')
    const refuse = (status: number, text: string, extra = ''): void => {
      log.push({ method: 'CONNECT', target, status })
      client.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`)
    }
    if (!m) return refuse(400, 'Bad Request')
    if (!authorized(req.headers)) {
      return refuse(407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="fake"\r\n')
    }
    const to = lookup(m[1].toLowerCase(), Number(m[2]))
    if (!to) return refuse(refused, refused === 403 ? 'Forbidden' : 'Bad Gateway')
    const upstream: Socket = connect(to.port, to.host)
    track(upstream)
    let open = false
    upstream.on('error', () => (open ? client.destroy() : refuse(502, 'Bad Gateway')))
    upstream.once('connect', () => {
      open = true
      log.push({ method: 'CONNECT', target, status: 200 })
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) upstream.write(head)
      upstream.pipe(client).pipe(upstream)
      client.once('close', () => upstream.destroy())
      upstream.once('close', () => client.destroy())
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      })
  }
}
