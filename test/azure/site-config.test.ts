// src/azure/site-config.ts against the fake with the action's pipeline: both reference lists (app
// settings and connection strings, slots too), identityType in either form, the refresh call, and
// the names of App Configuration references.
import { RestError } from '@azure/core-rest-pipeline'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { SiteConfig } from '../../src/azure/site-config.js'
import { RetryBudget } from '../../src/azure/http/budget.js'
import { webSites } from '../../src/azure/sites.js'
import type { AppTarget } from '../../src/model/targets.js'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { cloudOf, credentialFor } from './helpers.ts'

let fake: FakeAzure
const RG = 'appcfg-rg'
const target = (name: string, slot?: string): AppTarget => ({ name, slot, key: slot ? `${name}/${slot}` : name })
const client = (): SiteConfig =>
  new SiteConfig(webSites(credentialFor(fake), cloudOf(fake), new RetryBudget(30), fake.subscriptionId), RG)
const ref = (vault: string, secret: string): string => `@Microsoft.KeyVault(VaultName=${vault};SecretName=${secret})`
const APP_CONFIG = '@Microsoft.AppConfiguration(Endpoint=https://store.azconfig.io; Key=k)'

beforeAll(async () => {
  fake = await startFakeAzure({ referenceResolveDelayMs: 0 })
  const site = fake.addSite({ resourceGroup: RG, name: 'both', systemAssigned: true })
  fake.addVault({
    resourceGroup: RG,
    name: 'kv-both',
    accessPolicies: [
      { tenantId: fake.tenantId, objectId: site.identity!.principalId!, permissions: { secrets: ['get'] } }
    ],
    secrets: { db: {} }
  })
  fake.setAppSettings(RG, 'both', undefined, { DB: ref('kv-both', 'db'), FONT: APP_CONFIG, PLAIN: 'x' })
  fake.setConnectionStrings(RG, 'both', undefined, {
    Main: { value: ref('kv-both', 'missing'), type: 'SQLAzure' },
    Cfg: { value: APP_CONFIG, type: 'Custom' }
  })
})
afterAll(async () => {
  await fake.close()
})

describe('listReferences', () => {
  it('reads app settings and connection strings, connection strings marked, with the identity as a string', async () => {
    expect(await client().listReferences(target('both'))).toEqual([
      expect.objectContaining({ setting: 'DB', status: 'Resolved', vaultName: 'kv-both', identity: 'SystemAssigned' }),
      expect.objectContaining({ setting: 'Main', collection: 'connectionstrings', status: 'SecretNotFound' })
    ])
    const dbRef = (await client().listReferences(target('both')))[0]
    expect(dbRef.collection).toBeUndefined()
  })

  it('reads the spec form of identityType too', async () => {
    fake.setReferenceIdentityTypeAsObject(true)
    try {
      fake.setAppSettings(RG, 'both', undefined, fake.appSettings(RG, 'both')) // a refetch in the new form
      const [db] = await client().listReferences(target('both'))
      expect(db.identity).toBe('SystemAssigned')
    } finally {
      fake.setReferenceIdentityTypeAsObject(false)
    }
  })

  it("a slot's lists are its own", async () => {
    fake.addSlot({ resourceGroup: RG, site: 'both', slot: 'blue' })
    fake.setConnectionStrings(RG, 'both', 'blue', { Slot: { value: ref('kv-both', 'db'), type: 'Custom' } })
    expect(await client().listReferences(target('both', 'blue'))).toEqual([
      expect.objectContaining({ setting: 'Slot', collection: 'connectionstrings', status: 'MSINotEnabled' })
    ])
  })
})

describe('refreshReferences', () => {
  it('POSTs the documented refresh: the app restarts and its references resolve again', async () => {
    fake.addSecret(RG, 'kv-both', 'missing')
    expect((await client().listReferences(target('both')))[1].status).toBe('SecretNotFound') // cached
    const restarts = fake.restarts(RG, 'both')
    fake.clearLog()
    await client().refreshReferences(target('both'))
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toContainEqual(
      `POST /subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/sites/both/config/configreferences/appsettings/refresh`
    )
    expect(fake.restarts(RG, 'both')).toBe(restarts + 1)
    expect((await client().listReferences(target('both')))[1].status).toBe('Resolved')
  })
})

describe('listAppConfigurationReferences', () => {
  it('names the settings and connection strings that are App Configuration references, nothing else', async () => {
    expect(await client().listAppConfigurationReferences(target('both'))).toEqual([
      { setting: 'FONT', collection: 'appsettings' },
      { setting: 'Cfg', collection: 'connectionstrings' }
    ])
  })

  it('without config/list/action the read fails with a 403 RestError (src/read/read.ts treats it as unknown)', async () => {
    fake.addSite({ resourceGroup: RG, name: 'closed' })
    fake.deny(
      'Microsoft.Web/sites/config/list/action',
      `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/sites/closed`
    )
    const error = await client()
      .listAppConfigurationReferences(target('closed'))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RestError)
    expect((error as RestError).statusCode).toBe(403)
  })
})
