// The fake's Microsoft.App container apps and jobs, driven over HTTPS as a client would drive them:
// GET without secret values, PATCH as a long-running operation, listSecrets, Key Vault secrets
// checked with the app's identity, and revisions.
import { startFakeAzure, type FakeAzure } from '../index.ts'
import { armCaller, type Reply } from './helpers.ts'

const V = '2025-07-01'
const RG = 'aca-rg'
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6'
let fake: FakeAzure
let arm: (method: string, path: string, body?: unknown, apiVersion?: string | null) => Promise<Reply>
const uai = (n: string): string =>
  `/subscriptions/${fake.subscriptionId}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`
const app = (name: string, kind = 'containerApps'): string =>
  `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.App/${kind}/${name}`
const kvUrl = (vault: string, secret: string): string => `https://${vault}.vault.azure.net/secrets/${secret}`
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

// Follows an Azure-AsyncOperation URL (absolute, on the fake) until it is no longer InProgress.
async function settle(url: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const r = await arm('GET', new URL(url).pathname + new URL(url).search, undefined, null)
    if (r.body.status !== 'InProgress') return r.body.status
    await sleep(100)
  }
  throw new Error(`operation ${url} never ended`)
}

beforeAll(async () => {
  fake = await startFakeAzure()
  arm = await armCaller(fake)
  fake.addUserAssignedIdentity({ resourceGroup: 'ids', name: 'keep' })
  fake.addUserAssignedIdentity({ resourceGroup: 'ids', name: 'reader' })
  fake.addVault({ resourceGroup: RG, name: 'policy-kv', secrets: { 'db-password': {} } })
  fake.addVault({ resourceGroup: RG, name: 'rbac-kv', enableRbacAuthorization: true, secrets: { token: {} } })
})
afterAll(async () => {
  await fake.close()
})

describe('GET and listSecrets', () => {
  it('lists secrets by name only (Key Vault ones with URL and identity); listSecrets has the values', async () => {
    fake.addContainerApp({
      resourceGroup: RG,
      name: 'shop',
      systemAssigned: true,
      userAssignedIdentities: [uai('keep')],
      secrets: [
        { name: 'plain', value: 'p-value' },
        { name: 'from-kv', keyVaultUrl: kvUrl('policy-kv', 'db-password'), identity: 'system' }
      ]
    })
    const got = await arm('GET', app('shop'), undefined, V)
    expect(got.status).toBe(200)
    expect(got.body.properties.configuration.secrets).toEqual([
      { name: 'plain' },
      { name: 'from-kv', keyVaultUrl: kvUrl('policy-kv', 'db-password'), identity: 'system' }
    ])
    expect(JSON.stringify(got.body)).not.toContain('p-value')
    expect(got.body.identity.type).toBe('SystemAssigned,UserAssigned')
    expect(Object.keys(got.body.identity.userAssignedIdentities)).toEqual([
      uai('keep').replace('resourceGroups', 'resourcegroups')
    ])
    expect(got.body.properties.latestReadyRevisionName).toBe(got.body.properties.latestRevisionName)
    const listed = await arm('POST', `${app('shop')}/listSecrets`, undefined, V)
    expect(listed.body.value).toEqual([
      { name: 'plain', value: 'p-value' },
      { name: 'from-kv', value: expect.any(String), keyVaultUrl: kvUrl('policy-kv', 'db-password'), identity: 'system' }
    ])
  })

  it('answers NoRegisteredProviderFound for an api-version Microsoft.App lacks, and 403 without listSecrets/action', async () => {
    const old = await arm('GET', app('shop'), undefined, '2021-01-01')
    expect(old.body.error.code).toBe('NoRegisteredProviderFound')
    expect(old.body.error.message).toContain("The supported api-versions are '2025-07-01, ")
    fake.addContainerApp({ resourceGroup: RG, name: 'locked-secrets' })
    fake.deny('Microsoft.App/containerApps/listSecrets/action', app('locked-secrets'))
    const denied = await arm('POST', `${app('locked-secrets')}/listSecrets`, undefined, V)
    expect(denied.status).toBe(403)
    expect(denied.body.error.code).toBe('AuthorizationFailed')
  })
})

describe('PATCH: a long-running operation', () => {
  it('answers 202 with both operation URLs; GET shows InProgress; the status then the result end', async () => {
    fake.addContainerApp({ resourceGroup: RG, name: 'ident', userAssignedIdentities: [uai('keep')] })
    const before = fake.getContainerApp(RG, 'ident')!
    const r = await arm('PATCH', app('ident'), { identity: { type: 'SystemAssigned,UserAssigned' } }, V)
    expect(r.status).toBe(202)
    expect(r.body).toBeUndefined()
    expect(r.headers['azure-asyncoperation']).toMatch(
      /\/providers\/Microsoft\.App\/locations\/westeurope\/containerappOperationStatuses\/[0-9a-f-]{36}\?api-version=2025-07-01$/
    )
    expect(r.headers.location).toMatch(/\/containerappOperationResults\/[0-9a-f-]{36}\?api-version=2025-07-01$/)
    const during = await arm('GET', app('ident'), undefined, V)
    expect(during.body.properties.provisioningState).toBe('InProgress')
    const again = await arm('PATCH', app('ident'), { tags: { a: 'b' } }, V)
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('ContainerAppLockConflict')
    const result = new URL(r.headers.location as string)
    expect((await arm('GET', result.pathname + result.search, undefined, null)).status).toBe(202)
    expect(await settle(r.headers['azure-asyncoperation'] as string)).toBe('Succeeded')
    const done = await arm('GET', result.pathname + result.search, undefined, null)
    expect(done.status).toBe(200)
    expect(done.body.identity.principalId).toMatch(/^[0-9a-f-]{36}$/)
    expect(Object.keys(done.body.identity.userAssignedIdentities)).toHaveLength(1) // kept, not named
    const after = fake.getContainerApp(RG, 'ident')!
    expect(after.properties.provisioningState).toBe('Succeeded')
    expect(after.revisions.map((x) => x.name)).toEqual(before.revisions.map((x) => x.name)) // no new revision
  })

  it('reading the operation status needs its read action at the subscription', async () => {
    fake.addContainerApp({ resourceGroup: RG, name: 'no-poll' })
    fake.deny('Microsoft.App/locations/containerappOperationStatuses/read', `/subscriptions/${fake.subscriptionId}`)
    const r = await arm('PATCH', app('no-poll'), { tags: { t: '1' } }, V)
    const status = new URL(r.headers['azure-asyncoperation'] as string)
    const read = await arm('GET', status.pathname + status.search, undefined, null)
    expect(read.status).toBe(403)
    expect(read.body.error.message).toContain('Microsoft.App/locations/containerappOperationStatuses/read')
  })

  it('answers 200 with the app when the app is seeded without asynchronous updates', async () => {
    fake.addContainerApp({ resourceGroup: RG, name: 'sync', asyncUpdates: false })
    const r = await arm('PATCH', app('sync'), { tags: { t: '1' } }, V)
    expect(r.status).toBe(200)
    expect(r.body.tags).toEqual({ t: '1' })
  })
})

describe('secrets', () => {
  it('replaces the whole list; a secret sent back without its value is refused; no revision', async () => {
    fake.addContainerApp({
      resourceGroup: RG,
      name: 'sec',
      asyncUpdates: false,
      secrets: [{ name: 'a', value: 'one' }],
      containers: [{ name: 'web', image: 'x', env: [{ name: 'A', secretRef: 'a' }] }]
    })
    const rev = fake.getContainerApp(RG, 'sec')!.properties.latestRevisionName
    const noValue = await arm('PATCH', app('sec'), { properties: { configuration: { secrets: [{ name: 'a' }] } } }, V)
    expect(noValue.status).toBe(400)
    expect(noValue.body.error).toEqual({
      code: 'ContainerAppSecretInvalid',
      message:
        "Invalid Request: Container app secret(s) with name(s) 'a' are invalid: value or keyVaultUrl and identity should be provided."
    })
    const dropped = await arm(
      'PATCH',
      app('sec'),
      { properties: { configuration: { secrets: [{ name: 'b', value: '2' }] } } },
      V
    )
    expect(dropped.body.error).toEqual({
      code: 'ContainerAppSecretRefNotFound',
      message: "SecretRef 'a' defined for container 'web' not found."
    })
    const badName = await arm(
      'PATCH',
      app('sec'),
      { properties: { configuration: { secrets: [{ name: 'Bad_Name', value: '2' }] } } },
      V
    )
    expect(badName.body.error.code).toBe('ContainerAppInvalidSecretName')
    const both = [
      { name: 'a', value: 'one' },
      { name: 'b', value: 'two' }
    ]
    const okWrite = await arm('PATCH', app('sec'), { properties: { configuration: { secrets: both } } }, V)
    expect(okWrite.status).toBe(200)
    expect(fake.containerAppSecrets(RG, 'sec')).toEqual(both)
    expect(fake.getContainerApp(RG, 'sec')!.properties.latestRevisionName).toBe(rev)
  })

  it('checks a Key Vault URL and fetches the secret with the app identity, synchronously', async () => {
    fake.addContainerApp({ resourceGroup: RG, name: 'kv', systemAssigned: true, asyncUpdates: false })
    const put = (url: string, identity = 'system'): Promise<Reply> =>
      arm(
        'PATCH',
        app('kv'),
        { properties: { configuration: { secrets: [{ name: 'db', keyVaultUrl: url, identity }] } } },
        V
      )
    const badUrl = await put('https://policy-kv.vault.azure.net/')
    expect(badUrl.body.error.code).toBe('ContainerAppSecretKeyVaultUrlInvalid')
    const noAccess = await put(kvUrl('policy-kv', 'db-password'))
    expect(noAccess.status).toBe(400)
    expect(noAccess.body.error).toEqual({
      code: 'InvalidParameterValueInContainerTemplate',
      message:
        "The following field(s) are either invalid or missing. Field 'configuration.secrets' is invalid with details: 'Invalid value: \"db\": Unable to get value using Managed identity system for secret db. Error: unable to fetch secret 'db' using Managed identity 'system'';."
    })
    const principal = fake.getContainerApp(RG, 'kv')!.identity!.principalId!
    await arm(
      'PUT',
      `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/policy-kv/accessPolicies/add`,
      {
        properties: {
          accessPolicies: [{ tenantId: fake.tenantId, objectId: principal, permissions: { secrets: ['get'] } }]
        }
      },
      '2026-02-01'
    )
    expect((await put(kvUrl('policy-kv', 'db-password'))).status).toBe(200)
    expect(fake.containerAppSecrets(RG, 'kv')[0].value).toEqual(expect.stringContaining('db-password'))
    expect((await put(kvUrl('policy-kv', 'missing'))).body.error.code).toBe('InvalidParameterValueInContainerTemplate')
    await arm(
      'PATCH',
      `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/policy-kv`,
      { properties: { networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' } } },
      '2026-02-01'
    )
    expect((await put(kvUrl('policy-kv', 'db-password'))).status).toBe(400) // not a trusted service
  })

  it('does not count a role assignment until it has propagated', async () => {
    fake.addContainerApp({
      resourceGroup: RG,
      name: 'rbac',
      userAssignedIdentities: [uai('reader')],
      asyncUpdates: false
    })
    const ident = fake.getContainerApp(RG, 'rbac')!.identity!
    const principal = Object.values(ident.userAssignedIdentities!)[0].principalId
    fake.setRoleAssignmentPropagation(800)
    const vault = `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/rbac-kv`
    const assigned = await arm(
      'PUT',
      `${vault}/providers/Microsoft.Authorization/roleAssignments/6f1e0d0c-0000-4000-8000-000000000001`,
      {
        properties: {
          roleDefinitionId: `/subscriptions/${fake.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_USER}`,
          principalId: principal,
          principalType: 'ServicePrincipal'
        }
      },
      '2022-04-01'
    )
    expect(assigned.status).toBe(201)
    const body = {
      properties: {
        configuration: { secrets: [{ name: 'tok', keyVaultUrl: kvUrl('rbac-kv', 'token'), identity: uai('reader') }] }
      }
    }
    const early = await arm('PATCH', app('rbac'), body, V)
    expect(early.body.error.message).toContain(
      `Unable to get value using Managed identity ${uai('reader')} for secret tok`
    )
    await sleep(900)
    expect((await arm('PATCH', app('rbac'), body, V)).status).toBe(200)
    fake.setRoleAssignmentPropagation(0)
  })
})

describe('revisions', () => {
  it('a template change makes a revision that becomes ready and healthy; the old one retires', async () => {
    fake.addContainerApp({ resourceGroup: RG, name: 'rev', revisionReadyMs: 300 })
    const first = fake.getContainerApp(RG, 'rev')!.properties.latestRevisionName!
    const r = await arm(
      'PATCH',
      app('rev'),
      { properties: { template: { containers: [{ name: 'rev', image: 'v2' }] } } },
      V
    )
    expect(r.status).toBe(202)
    const during = (await arm('GET', app('rev'), undefined, V)).body.properties
    expect(during.latestRevisionName).not.toBe(first)
    expect(during.latestRevisionName).toMatch(/^rev--[a-z0-9]{7}$/)
    expect(during.latestReadyRevisionName).toBe(first)
    const fresh = await arm('GET', `${app('rev')}/revisions/${during.latestRevisionName}`, undefined, V)
    expect(fresh.body.properties).toMatchObject({ provisioningState: 'Provisioning', healthState: 'None' })
    await sleep(400)
    const after = (await arm('GET', app('rev'), undefined, V)).body.properties
    expect(after.latestReadyRevisionName).toBe(during.latestRevisionName)
    const list = (await arm('GET', `${app('rev')}/revisions`, undefined, V)).body.value
    expect(list.map((x: { properties: { active: boolean; healthState: string } }) => x.properties)).toEqual([
      expect.objectContaining({ active: false, trafficWeight: 0 }),
      expect.objectContaining({
        active: true,
        provisioningState: 'Provisioned',
        runningState: 'Running',
        healthState: 'Healthy'
      })
    ])
  })

  it('a failing revision reports its provisioningError and leaves the ready one serving', async () => {
    fake.addContainerApp({
      resourceGroup: RG,
      name: 'bad',
      revisionReadyMs: 50,
      revisionFailure: 'ImagePullBackOff: image not found'
    })
    const first = fake.getContainerApp(RG, 'bad')!.properties.latestRevisionName
    await arm('PATCH', app('bad'), { properties: { template: { containers: [{ name: 'bad', image: 'nope' }] } } }, V)
    await sleep(150)
    const got = fake.getContainerApp(RG, 'bad')!
    expect(got.properties.latestReadyRevisionName).toBe(first)
    expect(got.revisions.at(-1)!.properties).toMatchObject({
      provisioningState: 'Failed',
      runningState: 'Failed',
      healthState: 'Unhealthy',
      provisioningError: 'ImagePullBackOff: image not found'
    })
  })
})

describe('jobs', () => {
  it('PATCH is a job operation; listSecrets works; a job has no revisions', async () => {
    fake.addContainerAppJob({ resourceGroup: RG, name: 'nightly', secrets: [{ name: 'k', value: 'v' }] })
    const r = await arm('PATCH', app('nightly', 'jobs'), { identity: { type: 'SystemAssigned' } }, V)
    expect(r.status).toBe(202)
    expect(r.headers['azure-asyncoperation']).toContain('/containerappsjobOperationStatuses/')
    expect(await settle(r.headers['azure-asyncoperation'] as string)).toBe('Succeeded')
    const got = await arm('GET', app('nightly', 'jobs'), undefined, V)
    expect(got.body.type).toBe('Microsoft.App/jobs')
    expect(got.body.identity.type).toBe('SystemAssigned')
    expect((await arm('POST', `${app('nightly', 'jobs')}/listSecrets`, undefined, V)).body.value).toEqual([
      { name: 'k', value: 'v' }
    ])
    expect((await arm('GET', `${app('nightly', 'jobs')}/revisions`, undefined, V)).body.error.code).toBe(
      'InvalidResourceType'
    )
  })
})
