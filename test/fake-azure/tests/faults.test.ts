// Fault injection, latency and the request log, seen from a raw client.
import { startFakeAzure, type FakeAzure } from '../index.ts'
import { armCaller, call, type Reply } from './helpers.ts'

let fake: FakeAzure
let arm: (method: string, path: string, body?: unknown, apiVersion?: string | null) => Promise<Reply>
const site = (): string =>
  `/subscriptions/${fake.subscriptionId}/resourceGroups/f-rg/providers/Microsoft.Web/sites/f-app`

beforeAll(async () => {
  fake = await startFakeAzure()
  arm = await armCaller(fake)
  fake.addSite({ resourceGroup: 'f-rg', name: 'f-app' })
})
afterAll(async () => {
  await fake.close()
})
beforeEach(() => fake.clearLog())

it('answers a status fault N times with an ARM body and Retry-After, then recovers', async () => {
  fake.addFault({ server: 'arm', method: 'GET', path: '/sites/f-app', status: 429, retryAfter: '7', times: 2 })
  const a = await arm('GET', site())
  expect(a.status).toBe(429)
  expect(a.headers['retry-after']).toBe('7')
  expect(a.body.error.code).toBe('TooManyRequests')
  expect((await arm('GET', site())).status).toBe(429)
  expect((await arm('GET', site())).status).toBe(200)
})

it("409 Conflict on a site comes in Microsoft.Web's own shape; other faults in ARM's; a custom body is sent as is", async () => {
  fake.addFault({ method: 'PATCH', status: 409 })
  const c = await arm('PATCH', site(), { tags: {} })
  expect(c.body).toMatchObject({ Code: 'Conflict', Target: null, Innererror: null })
  expect(c.body.Message).toMatch(/^Cannot modify this site because another operation is in progress/)
  expect(c.body.Details).toEqual([
    { Message: c.body.Message },
    { Code: 'Conflict' },
    { ErrorEntity: expect.objectContaining({ Code: 'Conflict', ExtendedCode: '59203' }) }
  ])
  expect(c.body.error).toBeUndefined()
  fake.addFault({ method: 'PATCH', status: 409, webShape: false })
  expect((await arm('PATCH', site(), { tags: {} })).body.error.code).toBe('Conflict')
  fake.addFault({ path: /f-app$/, status: 503, body: { error: { code: 'Custom', message: 'x' } } })
  expect((await arm('GET', site())).body).toEqual({ error: { code: 'Custom', message: 'x' } })
})

it('matches method and path: other requests are untouched', async () => {
  fake.addFault({ method: 'PATCH', path: '/sites/other', status: 500 })
  expect((await arm('PATCH', site(), { tags: { x: '1' } })).status).toBe(200)
  expect((await arm('GET', site())).status).toBe(200)
})

it('drop destroys the connection without an answer', async () => {
  fake.addFault({ server: 'arm', path: '/sites/f-app', drop: true })
  await expect(arm('GET', site())).rejects.toThrow(/socket hang up|ECONNRESET/)
  expect(fake.requests.at(-1)).toMatchObject({ server: 'arm', method: 'GET', status: 0 })
  expect((await arm('GET', site())).status).toBe(200)
})

it('delayMs and latency slow requests down', async () => {
  fake.addFault({ server: 'arm', delayMs: 150 })
  let t = performance.now()
  expect((await arm('GET', site())).status).toBe(200)
  expect(performance.now() - t).toBeGreaterThanOrEqual(140)
  fake.setLatency(100)
  t = performance.now()
  await arm('GET', site())
  await call(fake, `${fake.authorityHost}/${fake.tenantId}/v2.0/.well-known/openid-configuration`)
  expect(performance.now() - t).toBeGreaterThanOrEqual(190)
  fake.setLatency(0)
  const slow = fake.requests.filter((r) => r.end - r.start >= 95)
  expect(slow.map((r) => r.server)).toEqual(['arm', 'arm', 'entra'])
})

it('faults on Entra answer an AAD-shaped body', async () => {
  fake.addFault({ server: 'entra', status: 503, retryAfter: '0' })
  const r = await call(fake, `${fake.authorityHost}/${fake.tenantId}/v2.0/.well-known/openid-configuration`)
  expect(r.status).toBe(503)
  expect(r.body.error).toBe('temporarily_unavailable')
})

it('logs method, path, query, status, times and bodies, never the Authorization header', async () => {
  await arm('PATCH', site(), { tags: { logged: 'yes' } })
  const e = fake.requests.at(-1)!
  expect(e).toMatchObject({
    server: 'arm',
    method: 'PATCH',
    path: site(),
    query: { 'api-version': '2025-05-01' },
    status: 200,
    requestBody: { tags: { logged: 'yes' } }
  })
  expect((e.responseBody as { tags: Record<string, string> }).tags).toEqual({ logged: 'yes' })
  expect(e.end).toBeGreaterThanOrEqual(e.start)
  expect(JSON.stringify(fake.requests)).not.toMatch(/Bearer/i)
  fake.clearLog()
  expect(fake.requests).toHaveLength(0)
})
