// src/azure/container-apps.ts through the action's pipeline against the fake's Microsoft.App:
// identity PATCHes that name only what changes, long-running operations waited out, secrets
// written from a fresh read without losing any, revisions read back.
import { RestError } from '@azure/core-rest-pipeline'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { RetryBudget } from '../../src/azure/http/budget.js'
import {
  ContainerApps,
  containerTarget,
  type ContainerSecret,
  type SecretsChange
} from '../../src/azure/container-apps.js'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { armCaller } from '../fake-azure/tests/helpers.ts'
import { captureCommands, cloudOf, credentialFor } from './helpers.ts'

let fake: FakeAzure
const RG = 'aca-client-rg'
const client = (seconds = 60): ContainerApps =>
  new ContainerApps(credentialFor(fake), cloudOf(fake), new RetryBudget(seconds), fake.subscriptionId, RG)
const uai = (n: string): string =>
  `/subscriptions/${fake.subscriptionId}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`
const kvUrl = (secret: string): string => `https://aca-kv.vault.azure.net/secrets/${secret}`
const patches = (name: string): unknown[] =>
  fake.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/${name}`)).map((r) => r.requestBody)
const output = captureCommands()

/** Adds a Key Vault secret `name` → `secret`, and an env var `env` reading it in every container. */
const wireKeyVaultSecret =
  (name: string, secret: string, env: string): SecretsChange =>
  ({ secrets, template }) => {
    if (secrets.some((s) => s.name === name && s.keyVaultUrl === kvUrl(secret))) return undefined
    const containers = (template.containers as { env?: unknown[] }[]).map((c) => ({
      ...c,
      env: [...(c.env ?? []), { name: env, secretRef: name }]
    }))
    const added: ContainerSecret = { name, keyVaultUrl: kvUrl(secret), identity: 'system' }
    return { secrets: [...secrets, added], template: { ...template, containers } }
  }

beforeAll(async () => {
  fake = await startFakeAzure()
  for (const n of ['one', 'two']) fake.addUserAssignedIdentity({ resourceGroup: 'ids', name: n })
  fake.addVault({ resourceGroup: RG, name: 'aca-kv', secrets: { 'db-password': {}, other: {} } })
})
afterAll(async () => {
  await fake.close()
})

describe('identity', () => {
  it('turns the system identity on naming no user-assigned identity, and waits out the 202', async () => {
    fake.addContainerApp({ resourceGroup: RG, name: 'sys', userAssignedIdentities: [uai('one')] })
    const apps = client()
    const before = await apps.read(containerTarget('app', 'sys'))
    fake.clearLog()
    const after = await apps.setSystemIdentity(before, true)
    expect(patches('sys')).toEqual([{ identity: { type: 'SystemAssigned,UserAssigned' } }])
    expect(fake.requests.some((r) => /containerappOperationStatuses/.test(r.path))).toBe(true)
    expect(after).toMatchObject({ systemAssigned: true, provisioningState: 'Succeeded' })
    expect(after.principalId).toMatch(/^[0-9a-f-]{36}$/)
    expect(after.userAssignedIds.map((id) => id.toLowerCase())).toEqual([uai('one').toLowerCase()])
    expect(output.lines.join('\n')).toContain(
      'containerapp:sys: Azure accepted turning on the system-assigned identity'
    )
  })

  it('attaches and detaches one user-assigned identity by name only; the last one changes the type', async () => {
    fake.addContainerApp({ resourceGroup: RG, name: 'ua', systemAssigned: true, userAssignedIdentities: [uai('one')] })
    const apps = client()
    fake.clearLog()
    const attached = await apps.setUserAssigned(await apps.read(containerTarget('app', 'ua')), uai('two'), true)
    expect(attached.userAssignedIds).toHaveLength(2)
    const detached = await apps.setUserAssigned(attached, uai('one'), false)
    const last = await apps.setUserAssigned(detached, uai('two'), false)
    const held = (id: string): string => attached.userAssignedIds.find((u) => u.toLowerCase() === id.toLowerCase())!
    expect(patches('ua')).toEqual([
      { identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [uai('two')]: {} } } },
      { identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [held(uai('one'))]: null } } },
      { identity: { type: 'SystemAssigned' } }
    ])
    expect(last).toMatchObject({ systemAssigned: true, userAssignedIds: [] })
  })

  it('writes nothing when the identity is already there, and works on a job', async () => {
    fake.addContainerAppJob({ resourceGroup: RG, name: 'nightly', systemAssigned: true })
    const apps = client()
    fake.clearLog()
    const job = await apps.setSystemIdentity(await apps.read(containerTarget('job', 'nightly')), true)
    expect(patches('nightly')).toEqual([])
    expect(job.target.key).toBe('job:nightly')
    const off = await apps.setSystemIdentity(job, false)
    expect(off.systemAssigned).toBe(false)
    expect(fake.getContainerApp(RG, 'nightly', 'job')!.identity).toBeUndefined()
  })

  it('falls back to the app provisioningState when the operation status may not be read', async () => {
    fake.addContainerApp({ resourceGroup: RG, name: 'rg-scoped' })
    fake.deny('Microsoft.App/locations/containerappOperationStatuses/read', `/subscriptions/${fake.subscriptionId}`)
    const apps = client()
    const after = await apps.setSystemIdentity(await apps.read(containerTarget('app', 'rg-scoped')), true)
    expect(after.systemAssigned).toBe(true)
    expect(after.provisioningState).toBe('Succeeded')
  })
})

describe('secrets', () => {
  it('keeps every secret (plain, registry password) and adds a Key Vault one with its env var; a re-run writes nothing', async () => {
    fake.addContainerApp({
      resourceGroup: RG,
      name: 'shop',
      systemAssigned: true,
      secrets: [
        { name: 'plain', value: 'plain-value-123' },
        { name: 'registry-password', value: 'registry-value-456' }
      ],
      registries: [{ server: 'shop.azurecr.io', username: 'shop', passwordSecretRef: 'registry-password' }],
      containers: [{ name: 'web', image: 'shop:v1', env: [{ name: 'PLAIN', secretRef: 'plain' }] }]
    })
    const target = containerTarget('app', 'shop')
    const principal = fake.getContainerApp(RG, 'shop')!.identity!.principalId!
    const apps = client()
    const denied = await apps
      .writeSecrets(target, wireKeyVaultSecret('db', 'db-password', 'DB'))
      .catch((e: unknown) => e)
    expect(denied).toBeInstanceOf(RestError)
    expect((denied as RestError).code).toBe('InvalidParameterValueInContainerTemplate')
    const arm = await armCaller(fake)
    const policy = { tenantId: fake.tenantId, objectId: principal, permissions: { secrets: ['get'] } }
    const vault = `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/aca-kv`
    await arm('PUT', `${vault}/accessPolicies/add`, { properties: { accessPolicies: [policy] } }, '2026-02-01')
    const before = fake.getContainerApp(RG, 'shop')!.properties.latestRevisionName
    const { wrote, app } = await apps.writeSecrets(target, wireKeyVaultSecret('db', 'db-password', 'DB'))
    expect(wrote).toBe(true)
    expect(fake.containerAppSecrets(RG, 'shop')).toEqual([
      { name: 'plain', value: 'plain-value-123' },
      { name: 'registry-password', value: 'registry-value-456' },
      { name: 'db', value: expect.any(String), keyVaultUrl: kvUrl('db-password'), identity: 'system' }
    ])
    expect(app.latestRevisionName).not.toBe(before) // the env var changed the template
    const rerun = await apps.writeSecrets(target, wireKeyVaultSecret('db', 'db-password', 'DB'))
    expect(rerun.wrote).toBe(false)
    expect(output.lines.join('\n')).not.toMatch(/plain-value-123|registry-value-456|fake-key-vault-value/)
  })

  it('a secrets-only change makes no revision', async () => {
    fake.addContainerApp({ resourceGroup: RG, name: 'quiet', secrets: [{ name: 'a', value: 'x' }] })
    const target = containerTarget('app', 'quiet')
    const apps = client()
    const before = await apps.read(target)
    const { app } = await apps.writeSecrets(target, ({ secrets }) => ({
      secrets: [...secrets, { name: 'b', value: 'y' }]
    }))
    expect(app.latestRevisionName).toBe(before.latestRevisionName)
    expect(app.secrets).toEqual([{ name: 'a' }, { name: 'b' }])
    expect((await apps.listSecrets(target)).map((s) => s.value)).toEqual(['x', 'y'])
  })
})

describe('revisions', () => {
  it('reads the new revision until it is ready and healthy, and lists the retired one', async () => {
    fake.addContainerApp({ resourceGroup: RG, name: 'rev', revisionReadyMs: 200 })
    const target = containerTarget('app', 'rev')
    const apps = client()
    const { app } = await apps.writeSecrets(target, ({ secrets, template }) => ({
      secrets,
      template: { ...template, containers: [{ name: 'rev', image: 'rev:v2' }] }
    }))
    let latest = await apps.readRevision(target, app.latestRevisionName!)
    for (let i = 0; i < 20 && latest.provisioningState === 'Provisioning'; i++) {
      await new Promise((r) => setTimeout(r, 100))
      latest = await apps.readRevision(target, app.latestRevisionName!)
    }
    expect(latest).toMatchObject({ provisioningState: 'Provisioned', runningState: 'Running', healthState: 'Healthy' })
    expect((await apps.read(target)).latestReadyRevisionName).toBe(latest.name)
    expect((await apps.listRevisions(target)).map((r) => r.active)).toEqual([false, true])
  })
})
