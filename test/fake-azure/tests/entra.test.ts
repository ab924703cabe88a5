// The fake GitHub OIDC issuer and Entra ID, called directly: bodies and AADSTS codes.
import { startFakeAzure, type FakeAzure } from '../index.ts'
import { call, oidcToken, tokenForm } from './helpers.ts'

let fake: FakeAzure
beforeAll(async () => {
  fake = await startFakeAzure()
})
afterAll(async () => {
  await fake.close()
})
beforeEach(() => {
  fake.clearLog()
  fake.setOidcClaims({
    sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
    exp: undefined,
    nbf: undefined,
    iat: undefined
  })
})

const tokenUrl = (tenant = fake.tenantId): string => `${fake.authorityHost}/${tenant}/oauth2/v2.0/token`
const claimsOf = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())

describe('GitHub OIDC', () => {
  it('requires the request token', async () => {
    const r = await call(fake, `${fake.oidcRequestUrl}&audience=x`, { headers: { authorization: 'Bearer wrong' } })
    expect(r.status).toBe(401)
  })
  it('mints a JWT with the audience asked for and the configured claims', async () => {
    fake.setOidcClaims({ sub: 'repo:octo-org/octo-repo:environment:prod' })
    const c = claimsOf(await oidcToken(fake, 'my-aud'))
    expect(c).toMatchObject({
      aud: 'my-aud',
      sub: 'repo:octo-org/octo-repo:environment:prod',
      iss: 'https://token.actions.githubusercontent.com',
      repository: 'octo-org/octo-repo',
      ref: 'refs/heads/main'
    })
    expect((c.exp as number) - (c.iat as number)).toBe(600)
    expect(typeof c.jti).toBe('string')
  })
})

describe('Entra ID discovery', () => {
  it('answers openid-configuration with an issuer on the authority host', async () => {
    const r = await call(fake, `${fake.authorityHost}/${fake.tenantId}/v2.0/.well-known/openid-configuration`)
    expect(r.status).toBe(200)
    expect(r.body.issuer).toBe(`${fake.authorityHost}/${fake.tenantId}/v2.0`)
    expect(r.body.token_endpoint).toBe(`${fake.authorityHost}/${fake.tenantId}/oauth2/v2.0/token`)
    expect(r.body.authorization_endpoint).toBe(`${fake.authorityHost}/${fake.tenantId}/oauth2/v2.0/authorize`)
  })
  it('rejects an unknown tenant with AADSTS90002', async () => {
    const r = await call(
      fake,
      `${fake.authorityHost}/00000000-0000-0000-0000-000000000001/v2.0/.well-known/openid-configuration`
    )
    expect(r.status).toBe(400)
    expect(r.body.error_codes).toEqual([90002])
    expect(r.body.error_description).toMatch(/^AADSTS90002: Tenant '00000000-0000-0000-0000-000000000001' not found\./)
  })
  it('answers instance discovery', async () => {
    const auth = encodeURIComponent(`${fake.authorityHost}/${fake.tenantId}/oauth2/v2.0/authorize`)
    const r = await call(
      fake,
      `${fake.authorityHost}/common/discovery/instance?api-version=1.1&authorization_endpoint=${auth}`
    )
    expect(r.body.tenant_discovery_endpoint).toBe(
      `${fake.authorityHost}/${fake.tenantId}/v2.0/.well-known/openid-configuration`
    )
    expect(r.body.metadata[0].aliases).toEqual([new URL(fake.authorityHost).host])
  })
})

describe('Entra ID token endpoint', () => {
  it('issues an opaque bearer token for a valid federated assertion', async () => {
    const r = await call(fake, tokenUrl(), {
      method: 'POST',
      form: tokenForm(fake, await oidcToken(fake), { claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}' })
    })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 })
    expect(r.body.access_token).toMatch(/^[A-Za-z0-9_-]{20,}$/)
  })
  it('accepts the scope with a trailing slash and other clouds', async () => {
    for (const scope of ['https://management.azure.com//.default', 'https://management.usgovcloudapi.net/.default']) {
      const r = await call(fake, tokenUrl(), {
        method: 'POST',
        form: tokenForm(fake, await oidcToken(fake), { scope })
      })
      expect(r.status).toBe(200)
    }
    const bad = await call(fake, tokenUrl(), {
      method: 'POST',
      form: tokenForm(fake, await oidcToken(fake), { scope: 'https://vault.azure.net/user_impersonation' })
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toBe('invalid_scope')
  })
  it('AADSTS700213 names the presented subject when no federated credential matches', async () => {
    fake.setOidcClaims({ sub: 'repo:Octo-Org/octo-repo:ref:refs/heads/main' }) // case differs
    const r = await call(fake, tokenUrl(), { method: 'POST', form: tokenForm(fake, await oidcToken(fake)) })
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({ error: 'invalid_client', error_codes: [700213] })
    expect(r.body.error_description).toMatch(
      /^AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:Octo-Org\/octo-repo:ref:refs\/heads\/main'\. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion\. https:\/\/learn\.microsoft\.com\/entra\/workload-id\/workload-identity-federation Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/
    )
    expect(r.body.trace_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(r.body.correlation_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(r.body.timestamp).toMatch(/Z$/)
  })
  it('AADSTS700213 when the audience does not match; a new federated credential fixes it', async () => {
    const assertion = await oidcToken(fake, 'custom-aud')
    const r = await call(fake, tokenUrl(), { method: 'POST', form: tokenForm(fake, assertion) })
    expect(r.body.error_codes).toEqual([700213])
    fake.addFederatedCredential({
      clientId: fake.clientId,
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      audience: 'custom-aud'
    })
    const r2 = await call(fake, tokenUrl(), { method: 'POST', form: tokenForm(fake, assertion) })
    expect(r2.status).toBe(200)
  })
  it('AADSTS700024 for an expired assertion', async () => {
    const now = Math.floor(Date.now() / 1000)
    fake.setOidcClaims({ iat: now - 1200, nbf: now - 1200, exp: now - 600 })
    const r = await call(fake, tokenUrl(), { method: 'POST', form: tokenForm(fake, await oidcToken(fake)) })
    expect(r.status).toBe(400)
    expect(r.body.error_codes).toEqual([700024])
    expect(r.body.error_description).toMatch(
      /^AADSTS700024: Client assertion is not within its valid time range\. Current time: .*, expiry time of assertion /
    )
  })
  it('AADSTS700024 for an assertion not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000)
    fake.setOidcClaims({ iat: now, nbf: now + 300, exp: now + 900 })
    const r = await call(fake, tokenUrl(), { method: 'POST', form: tokenForm(fake, await oidcToken(fake)) })
    expect(r.body.error_codes).toEqual([700024])
  })
  it('rejects a tampered signature', async () => {
    const [h, p, s] = (await oidcToken(fake)).split('.')
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(p, 'base64url').toString()),
        sub: 'repo:evil/repo:ref:refs/heads/main'
      })
    ).toString('base64url')
    const r = await call(fake, tokenUrl(), { method: 'POST', form: tokenForm(fake, `${h}.${forged}.${s}`) })
    expect(r.status).toBe(400)
    expect(r.body.error_codes).toEqual([50013])
  })
  it('AADSTS700016 for an application not in the tenant', async () => {
    const r = await call(fake, tokenUrl(), {
      method: 'POST',
      form: tokenForm(fake, await oidcToken(fake), { client_id: '11111111-2222-3333-4444-555555555555' })
    })
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] })
    expect(r.body.error_description).toContain(
      `AADSTS700016: Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory '${fake.tenantId}'.`
    )
  })
  it('AADSTS90002 for an unknown tenant on the token endpoint', async () => {
    const r = await call(fake, tokenUrl('22222222-2222-2222-2222-222222222222'), {
      method: 'POST',
      form: tokenForm(fake, await oidcToken(fake))
    })
    expect(r.body.error_codes).toEqual([90002])
  })
  it('requires client_credentials and the jwt-bearer assertion type', async () => {
    const a = await oidcToken(fake)
    const g = await call(fake, tokenUrl(), { method: 'POST', form: tokenForm(fake, a, { grant_type: 'password' }) })
    expect(g.body.error).toBe('unsupported_grant_type')
    const t = await call(fake, tokenUrl(), { method: 'POST', form: tokenForm(fake, a, { client_assertion_type: 'x' }) })
    expect(t.status).toBe(400)
  })
  it('an application in a second tenant signs in only there', async () => {
    const other = '33333333-3333-3333-3333-333333333333'
    fake.addApplication('44444444-4444-4444-4444-444444444444', other)
    fake.addFederatedCredential({
      clientId: '44444444-4444-4444-4444-444444444444',
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      audience: 'api://AzureADTokenExchange'
    })
    const form = tokenForm(fake, await oidcToken(fake), { client_id: '44444444-4444-4444-4444-444444444444' })
    expect((await call(fake, tokenUrl(other), { method: 'POST', form })).status).toBe(200)
    expect((await call(fake, tokenUrl(), { method: 'POST', form })).body.error_codes).toEqual([700016])
  })
  it('never logs the assertion or the issued token', async () => {
    await call(fake, tokenUrl(), { method: 'POST', form: tokenForm(fake, await oidcToken(fake)) })
    const entry = fake.requests.find((e) => e.server === 'entra' && e.method === 'POST')!
    expect(entry.status).toBe(200)
    expect((entry.requestBody as Record<string, string>).client_assertion).toBe('[redacted]')
    expect((entry.responseBody as Record<string, string>).access_token).toBe('[redacted]')
    expect((fake.requests.find((e) => e.server === 'oidc')!.responseBody as Record<string, string>).value).toBe(
      '[redacted]'
    )
  })
})
