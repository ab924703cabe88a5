// App settings, connection strings and slot-sticky names of sites and slots, and Key Vault secret
// metadata on the control plane. The reference status is in kv-references.test.ts.
import { startFakeAzure, type FakeAzure } from '../index.ts'
import { armCaller, type Reply } from './helpers.ts'

let fake: FakeAzure
let arm: (method: string, path: string, body?: unknown, apiVersion?: string | null) => Promise<Reply>
const KV = '2026-02-01'
const RG = 'cfg-rg'
const V1 = '0123456789abcdef0123456789abcdef'
const V2 = 'fedcba9876543210fedcba9876543210'
const rgId = (rg = RG): string => `/subscriptions/${fake.subscriptionId}/resourceGroups/${rg}`
const site = (name: string): string => `${rgId()}/providers/Microsoft.Web/sites/${name}`
const vault = (name: string, rg = RG): string => `${rgId(rg)}/providers/Microsoft.KeyVault/vaults/${name}`
const putSettings = (path: string, properties: Record<string, string>): Promise<Reply> =>
  arm('PUT', `${path}/config/appsettings`, { properties })

beforeAll(async () => {
  fake = await startFakeAzure({ referenceResolveDelayMs: 0 })
  arm = await armCaller(fake)
})
afterAll(async () => {
  await fake.close()
})

describe('app settings, connection strings, slot names', () => {
  it('list answers the dictionary; PUT replaces it all, restarts once, leaves connection strings and sticky names', async () => {
    fake.addSite({
      resourceGroup: RG,
      name: 'cfg-app',
      appSettings: { A: '1', B: '2' },
      connectionStrings: { Db: { value: 'Server=db', type: 'SQLAzure' } },
      slotConfigNames: { appSettingNames: ['A'] }
    })
    const list = await arm('POST', `${site('cfg-app')}/config/appsettings/list`)
    expect(list.status).toBe(200)
    expect(list.body).toEqual({
      id: `${site('cfg-app')}/config/appsettings`,
      name: 'appsettings',
      type: 'Microsoft.Web/sites/config',
      location: 'West Europe',
      properties: { A: '1', B: '2' }
    })
    const put = await putSettings(site('cfg-app'), { A: '1', C: '3' })
    expect(put.status).toBe(200)
    expect(put.body.properties).toEqual({ A: '1', C: '3' })
    expect((await arm('POST', `${site('cfg-app')}/config/appsettings/list`)).body.properties).toEqual({
      A: '1',
      C: '3'
    })
    expect(fake.restarts(RG, 'cfg-app')).toBe(1)
    const cs = await arm('POST', `${site('cfg-app')}/config/connectionstrings/list`)
    expect(cs.body.properties).toEqual({ Db: { value: 'Server=db', type: 'SQLAzure' } })
    const names = await arm('GET', `${site('cfg-app')}/config/slotConfigNames`)
    expect(names.body).toEqual({
      id: `${site('cfg-app')}/config/slotConfigNames`,
      name: 'slotConfigNames',
      type: 'Microsoft.Web/sites/config',
      location: 'West Europe',
      properties: { appSettingNames: ['A'], connectionStringNames: null, azureStorageConfigNames: null }
    })
    // GET of the site never shows the values.
    const got = await arm('GET', site('cfg-app'))
    expect(got.body.properties.siteConfig).toMatchObject({ appSettings: null, connectionStrings: null })
    expect(fake.appSettings(RG, 'cfg-app')).toEqual({ A: '1', C: '3' })
  })

  it('invalid bodies are Microsoft.Web 400s and change nothing', async () => {
    fake.addSite({ resourceGroup: RG, name: 'cfg-bad', appSettings: { A: '1' } })
    for (const body of [{ properties: { A: 1 } }, {}, { properties: ['A'] }]) {
      const r = await arm('PUT', `${site('cfg-bad')}/config/appsettings`, body)
      expect(r.status).toBe(400)
      expect(r.body).toMatchObject({ Code: 'BadRequest', Target: null })
    }
    const cs = await arm('PUT', `${site('cfg-bad')}/config/connectionstrings`, {
      properties: { Db: { value: 'x', type: 'Oracle' } }
    })
    expect(cs.status).toBe(400)
    // ExtendedCode 01007 with its template and the parameter (arm-common.ts invalidParameter).
    expect(cs.body.Message).toBe('The parameter properties.Db has an invalid value.')
    expect(cs.body.Details[2].ErrorEntity).toEqual({
      Code: 'BadRequest',
      ExtendedCode: '01007',
      Message: 'The parameter properties.Db has an invalid value.',
      MessageTemplate: 'The parameter {0} has an invalid value.',
      Parameters: ['properties.Db']
    })
    expect(fake.appSettings(RG, 'cfg-bad')).toEqual({ A: '1' })
    expect(fake.restarts(RG, 'cfg-bad')).toBe(0)
  })

  it('a slot has its own settings and restarts; sticky names live on the production site only', async () => {
    fake.addSite({ resourceGroup: RG, name: 'cfg-slotted', appSettings: { P: 'prod' } })
    fake.addSlot({ resourceGroup: RG, site: 'cfg-slotted', slot: 'staging', appSettings: { S: 'stage' } })
    const slot = `${site('cfg-slotted')}/slots/staging`
    const list = await arm('POST', `${slot}/config/appsettings/list`)
    expect(list.body).toMatchObject({
      id: `${slot}/config/appsettings`,
      type: 'Microsoft.Web/sites/slots/config',
      properties: { S: 'stage' }
    })
    expect((await putSettings(slot, { S: 'new' })).status).toBe(200)
    expect(fake.appSettings(RG, 'cfg-slotted', 'staging')).toEqual({ S: 'new' })
    expect(fake.appSettings(RG, 'cfg-slotted')).toEqual({ P: 'prod' })
    expect(fake.restarts(RG, 'cfg-slotted', 'staging')).toBe(1)
    expect(fake.restarts(RG, 'cfg-slotted')).toBe(0)
    expect((await arm('GET', `${slot}/config/slotConfigNames`)).status).toBe(404)
  })

  it('slotConfigNames and connection strings PUT replace; a connection string change restarts, sticky names do not', async () => {
    fake.addSite({
      resourceGroup: RG,
      name: 'cfg-put',
      slotConfigNames: { appSettingNames: ['A'], connectionStringNames: ['Db'] }
    })
    const names = await arm('PUT', `${site('cfg-put')}/config/slotConfigNames`, {
      properties: { appSettingNames: ['X'] }
    })
    expect(names.body.properties).toEqual({
      appSettingNames: ['X'],
      connectionStringNames: null,
      azureStorageConfigNames: null
    })
    expect(fake.slotConfigNames(RG, 'cfg-put').appSettingNames).toEqual(['X'])
    const cs = await arm('PUT', `${site('cfg-put')}/config/connectionstrings`, {
      properties: { Cache: { value: 'redis', type: 'rediscache' } }
    })
    expect(cs.body.properties).toEqual({ Cache: { value: 'redis', type: 'RedisCache' } })
    expect(fake.connectionStrings(RG, 'cfg-put')).toEqual({ Cache: { value: 'redis', type: 'RedisCache' } })
    expect(fake.restarts(RG, 'cfg-put')).toBe(1)
    expect((await arm('POST', `${site('cfg-put')}/restart`)).status).toBe(200)
    expect(fake.restarts(RG, 'cfg-put')).toBe(2)
  })
})

describe('settings through the site resource', () => {
  it('a PATCH of the site read back (appSettings: null) keeps them; a PATCH with settings replaces and restarts', async () => {
    fake.addSite({ resourceGroup: RG, name: 'cfg-patch', appSettings: { A: '1' } })
    const got = await arm('GET', site('cfg-patch'))
    expect((await arm('PATCH', site('cfg-patch'), { properties: got.body.properties })).status).toBe(200)
    expect(fake.appSettings(RG, 'cfg-patch')).toEqual({ A: '1' })
    expect(fake.restarts(RG, 'cfg-patch')).toBe(0)
    await arm('PATCH', site('cfg-patch'), { properties: { siteConfig: { appSettings: [{ name: 'B', value: '2' }] } } })
    expect(fake.appSettings(RG, 'cfg-patch')).toEqual({ B: '2' })
    expect(fake.restarts(RG, 'cfg-patch')).toBe(1)
  })
})

describe('secrets on the control plane', () => {
  it('GET answers metadata, never a value; names compare case-insensitively; a missing one is a 404', async () => {
    fake.addVault({ resourceGroup: RG, name: 'kv-meta', secrets: { 'db-password': { versions: [V1, V2] } } })
    const r = await arm('GET', `${vault('kv-meta')}/secrets/DB-PASSWORD`, undefined, KV)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      id: `${vault('kv-meta')}/secrets/db-password`,
      name: 'db-password',
      type: 'Microsoft.KeyVault/vaults/secrets',
      location: 'westeurope',
      properties: {
        attributes: { enabled: true, created: expect.any(Number), updated: expect.any(Number) },
        secretUri: 'https://kv-meta.vault.azure.net/secrets/db-password',
        secretUriWithVersion: `https://kv-meta.vault.azure.net/secrets/db-password/${V2}`
      }
    })
    const missing = await arm('GET', `${vault('kv-meta')}/secrets/nope`, undefined, KV)
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('SecretNotFound')
    const rotated = fake.addSecret(RG, 'kv-meta', 'db-password')
    expect(rotated.versions).toHaveLength(3)
    const after = await arm('GET', `${vault('kv-meta')}/secrets/db-password`, undefined, KV)
    expect(after.body.properties.secretUriWithVersion).toMatch(new RegExp(`/${rotated.versions[2]}$`))
  })

  it('lists page like the vault list, and the read can be denied', async () => {
    fake.addVault({ resourceGroup: RG, name: 'kv-many', secrets: { a: {}, b: {}, c: { enabled: false } } })
    const first = await arm('GET', `${vault('kv-many')}/secrets?$top=2`, undefined, KV)
    expect(first.body.value.map((s: { name: string }) => s.name)).toEqual(['a', 'b'])
    const next = new URL(first.body.nextLink as string)
    const second = await arm('GET', `${next.pathname}${next.search}`, undefined, null)
    expect(second.body.value).toMatchObject([{ name: 'c', properties: { attributes: { enabled: false } } }])
    expect(second.body.nextLink).toBeUndefined()
    fake.deny('Microsoft.KeyVault/vaults/secrets/read', vault('kv-many'))
    expect((await arm('GET', `${vault('kv-many')}/secrets/a`, undefined, KV)).status).toBe(403)
  })
})
