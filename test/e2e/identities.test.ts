// User-assigned identities for the apps, and sign-in without OIDC (the runner's managed identity,
// an az session), end to end with the bundled action.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction, targetInputs, type ActionRun } from './run-action.ts'

let fake: FakeAzure
const RG = 'uai-rg'
const IDS = 'ids-rg'
let counter = 0
const next = (prefix: string): string => `${prefix}-${++counter}`

beforeAll(async () => {
  fake = await startFakeAzure({ imds: true, referenceResolveDelayMs: 300 })
  fake.addResourceGroup(RG)
  fake.addResourceGroup(IDS)
})
afterAll(async () => fake?.close())
beforeEach(() => fake.clearLog())

const ok = (run: ActionRun): void => {
  expect(run.error).toBe('')
  expect(run.exitCode).toBe(0)
}
const armWrites = (): string[] =>
  fake.requests
    .filter((r) => r.server === 'arm' && r.method !== 'GET' && !r.path.endsWith('/list'))
    .map((r) => `${r.method} ${r.path}`)
const policyOf = (vault: string, objectId: string) =>
  fake.getVault(RG, vault)!.properties.accessPolicies.find((p) => p.objectId === objectId)?.permissions

describe('identity: a user-assigned identity for the apps', () => {
  it('by name: attached (system and other identities kept), made the reference identity, granted; outputs its ids; re-run writes nothing', async () => {
    const app = next('app')
    const vault = next('kv')
    const uai = fake.addUserAssignedIdentity({ resourceGroup: IDS, name: next('shop-id') })
    const other = fake.addUserAssignedIdentity({ resourceGroup: IDS, name: next('other-id') })
    const site = fake.addSite({
      resourceGroup: RG,
      name: app,
      systemAssigned: true,
      userAssignedIdentities: [other.id]
    })
    fake.addVault({ resourceGroup: RG, name: vault })
    const inputs = targetInputs(RG, app, vault, { identity: uai.name, 'identity-resource-group': IDS })
    const run = await runAction(fake, inputs)
    ok(run)
    const after = fake.getSite(RG, app)!
    expect(after.identity?.type).toBe('SystemAssigned, UserAssigned')
    expect(after.identity?.principalId).toBe(site.identity!.principalId) // system identity untouched
    expect(
      Object.keys(after.identity!.userAssignedIdentities!)
        .map((k) => k.toLowerCase())
        .sort()
    ).toEqual([other.id, uai.id].map((k) => k.toLowerCase()).sort())
    expect(after.properties.keyVaultReferenceIdentity?.toLowerCase()).toBe(uai.id.toLowerCase())
    expect(policyOf(vault, uai.properties.principalId)).toEqual({ secrets: ['get', 'list'] })
    expect(policyOf(vault, site.identity!.principalId!)).toBeUndefined()
    expect(run.outputs['principal-id']).toBe(uai.properties.principalId)
    expect(run.outputs['client-id']).toBe(uai.properties.clientId)
    expect(JSON.parse(run.outputs['principal-ids'])).toEqual({ [app]: uai.properties.principalId })

    fake.clearLog()
    const again = await runAction(fake, inputs)
    ok(again)
    expect(again.outputs.changed).toBe('false')
    expect(armWrites()).toEqual([])
  })

  it('by resource id, on an RBAC vault, for an app and its slot (slots do not inherit), with app-settings resolving through it', async () => {
    const app = next('app')
    const vault = next('kv')
    const uai = fake.addUserAssignedIdentity({ resourceGroup: IDS, name: next('shop-id') })
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addSlot({ resourceGroup: RG, site: app, slot: 'staging' })
    fake.addVault({ resourceGroup: RG, name: vault, enableRbacAuthorization: true, secrets: { db: {} } })
    const run = await runAction(
      fake,
      targetInputs(RG, `${app},${app}/staging`, vault, {
        identity: uai.id,
        'app-settings': 'DB=db',
        'secret-permissions': 'get'
      })
    )
    ok(run)
    expect(JSON.parse(run.outputs.references)).toEqual({
      [app]: { DB: 'Resolved' },
      [`${app}/staging`]: { DB: 'Resolved' }
    })
    for (const slot of [undefined, 'staging']) {
      const s = fake.getSite(RG, app, slot)!
      expect(s.identity?.type).toBe('UserAssigned') // no system identity was turned on
      expect(s.properties.keyVaultReferenceIdentity?.toLowerCase()).toBe(uai.id.toLowerCase())
    }
    const roles = fake.roleAssignments().filter((a) => a.properties.principalId === uai.properties.principalId)
    expect(roles).toHaveLength(1) // one assignment for the identity, not one per app
  })

  it('revoke with disable-identity: grants removed, identity detached, reference identity reset; the identity itself and the others kept', async () => {
    const app = next('app')
    const vault = next('kv')
    const uai = fake.addUserAssignedIdentity({ resourceGroup: IDS, name: next('shop-id') })
    const other = fake.addUserAssignedIdentity({ resourceGroup: IDS, name: next('other-id') })
    fake.addSite({ resourceGroup: RG, name: app, systemAssigned: true, userAssignedIdentities: [other.id] })
    fake.addVault({ resourceGroup: RG, name: vault })
    const inputs = targetInputs(RG, app, vault, { identity: uai.id })
    ok(await runAction(fake, inputs))
    const run = await runAction(fake, { ...inputs, mode: 'revoke', 'disable-identity': 'true' })
    ok(run)
    const after = fake.getSite(RG, app)!
    expect(Object.keys(after.identity!.userAssignedIdentities!)).toEqual([other.id])
    expect(after.identity?.type).toBe('SystemAssigned, UserAssigned')
    expect(after.properties.keyVaultReferenceIdentity).toBe('SystemAssigned')
    expect(policyOf(vault, uai.properties.principalId)).toBeUndefined()
    expect(fake.requests.some((r) => r.method === 'DELETE' && /userAssignedIdentities/i.test(r.path))).toBe(false)
    const again = await runAction(fake, { ...inputs, mode: 'revoke', 'disable-identity': 'true' })
    ok(again)
    expect(again.outputs.changed).toBe('false')
  })

  it('without Managed Identity Operator on the identity, the attach fails saying which role to grant', async () => {
    const app = next('app')
    const vault = next('kv')
    const uai = fake.addUserAssignedIdentity({ resourceGroup: IDS, name: next('locked-id') })
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    fake.deny('Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', uai.id)
    const run = await runAction(fake, targetInputs(RG, app, vault, { identity: uai.id }))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(`Could not attach user-assigned identity '${uai.name}' to app '${app}'`)
    expect(run.error).toContain('Managed Identity Operator')
    expect(run.error).toContain('LinkedAuthorizationFailed')
  })

  it('one identity for two apps: when one app cannot take it, the grant is still made for the other', async () => {
    const [a, b] = [next('app'), next('app')]
    const vault = next('kv')
    const uai = fake.addUserAssignedIdentity({ resourceGroup: IDS, name: next('shared-id') })
    fake.addSite({ resourceGroup: RG, name: a })
    const locked = fake.addSite({ resourceGroup: RG, name: b })
    fake.addVault({ resourceGroup: RG, name: vault })
    fake.addLock(locked.id, 'ReadOnly')
    const run = await runAction(fake, targetInputs(RG, `${a},${b}`, vault, { identity: uai.id }))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(b)
    expect(run.error).toContain('ScopeLocked')
    expect(Object.keys(fake.getSite(RG, a)!.identity?.userAssignedIdentities ?? {})).toEqual([uai.id])
    expect(fake.getSite(RG, b)!.identity?.userAssignedIdentities).toBeUndefined()
    expect(policyOf(vault, uai.properties.principalId)).toEqual({ secrets: ['get', 'list'] })
  })

  it('verify with only the attach missing (the identity already granted) fails, naming the attach', async () => {
    const [a, b] = [next('app'), next('app')]
    const vault = next('kv')
    const uai = fake.addUserAssignedIdentity({ resourceGroup: IDS, name: next('shared-id') })
    fake.addSite({ resourceGroup: RG, name: a })
    fake.addSite({ resourceGroup: RG, name: b })
    fake.addVault({ resourceGroup: RG, name: vault })
    ok(await runAction(fake, targetInputs(RG, a, vault, { identity: uai.id })))
    const gate = await runAction(fake, targetInputs(RG, b, vault, { identity: uai.id, mode: 'verify' }))
    expect(gate.exitCode).toBe(1)
    expect(gate.error).toMatch(/^Verify failed: 1 thing\(s\) missing:/)
    expect(gate.error).toContain(`${b}: apply would attach`)
    expect(gate.error).toContain(uai.name)
    ok(await runAction(fake, targetInputs(RG, b, vault, { identity: uai.id })))
    ok(await runAction(fake, targetInputs(RG, b, vault, { identity: uai.id, mode: 'verify' })))
  })

  it('an identity that does not exist is named before anything is written', async () => {
    const app = next('app')
    const vault = next('kv')
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    const run = await runAction(
      fake,
      targetInputs(RG, app, vault, { identity: 'no-such-id', 'identity-resource-group': IDS })
    )
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(`Could not read user-assigned identity 'no-such-id' (resource group '${IDS}'`)
    expect(run.error).toContain('az identity create --name no-such-id')
    expect(armWrites()).toEqual([])
  })
})

describe('auth-type: sign-in without GitHub OIDC', () => {
  // The fake's defaults name an OIDC sign-in: take them away (client-id is given per test).
  const noOidc = {
    ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
    'INPUT_CLIENT-ID': undefined,
    'INPUT_TENANT-ID': undefined
  }
  const clientId = (id: string) => ({ 'INPUT_CLIENT-ID': id })

  it("managed-identity: the runner's identity through IMDS; no OIDC or Entra request, no tenant-id needed", async () => {
    const app = next('app')
    const vault = next('kv')
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    const runnerId = fake.addUserAssignedIdentity({ resourceGroup: IDS, name: next('runner-id') })
    fake.setRunnerIdentity({ systemAssigned: true, userAssigned: [runnerId.id] })
    const env = {
      ...noOidc,
      ...clientId(runnerId.properties.clientId),
      AZURE_POD_IDENTITY_AUTHORITY_HOST: fake.imdsHost!
    }
    const run = await runAction(fake, targetInputs(RG, app, vault, { 'auth-type': 'managed-identity' }), { env })
    ok(run)
    expect(run.stdout).toContain(
      `Signed in with the runner's managed identity (user-assigned, client ${runnerId.properties.clientId}) (tenant ${fake.tenantId}).`
    )
    expect(fake.requests.filter((r) => r.server === 'oidc' || r.server === 'entra')).toEqual([])
    // Pod identity's endpoint is not probed (nor by @azure/identity): the token request only.
    expect(fake.requests.filter((r) => r.server === 'imds').map((r) => r.query.client_id)).toEqual([
      runnerId.properties.clientId
    ])
    expect(run.outputs.changed).toBe('true')
  })

  it('managed-identity: an identity the runner does not have is named', async () => {
    fake.setRunnerIdentity({ systemAssigned: true })
    const missing = randomUUID()
    const env = { ...noOidc, ...clientId(missing), AZURE_POD_IDENTITY_AUTHORITY_HOST: fake.imdsHost! }
    const run = await runAction(fake, targetInputs(RG, 'any-app', 'any-kv', { 'auth-type': 'managed-identity' }), {
      env
    })
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(`the runner has no user-assigned identity with client id ${missing}`)
  })

  it("managed-identity: IMDS's other answer for a missing identity (Azure/login#538) is named the same way", async () => {
    fake.setRunnerIdentity({ systemAssigned: true, notFoundAnswer: 'no-user-assigned' })
    const missing = randomUUID()
    const env = { ...noOidc, ...clientId(missing), AZURE_POD_IDENTITY_AUTHORITY_HOST: fake.imdsHost! }
    const run = await runAction(fake, targetInputs(RG, 'any-app', 'any-kv', { 'auth-type': 'managed-identity' }), {
      env
    })
    expect(fake.requests.some((r) => r.server === 'imds' && r.status === 400)).toBe(true)
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(`the runner has no user-assigned identity with client id ${missing}`)
  })

  it('managed-identity: a pod-identity endpoint that refuses fails at once, saying where it looked (no probe, as @azure/identity)', async () => {
    const env = { ...noOidc, AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:9' }
    const run = await runAction(
      fake,
      targetInputs(RG, 'any-app', 'any-kv', { 'auth-type': 'managed-identity', 'retry-timeout': '60' }),
      { env }
    )
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(
      "Sign-in with the runner's managed identity failed: its identity endpoint http://127.0.0.1:9 could not be reached"
    )
    expect(run.durationMs).toBeLessThan(10_000)
  })

  it('azure-cli: the session of an earlier azure/login; no OIDC or Entra request', async () => {
    const app = next('app')
    const vault = next('kv')
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    const { dir } = fake.azCli()
    const run = await runAction(fake, targetInputs(RG, app, vault, { 'auth-type': 'azure-cli' }), {
      env: { ...noOidc, PATH: `${dir}${delimiter}${process.env.PATH}` }
    })
    ok(run)
    expect(run.stdout).toContain(`Signed in with the Azure CLI session (az) (tenant ${fake.tenantId}).`)
    expect(fake.requests.filter((r) => r.server === 'oidc' || r.server === 'entra')).toEqual([])
    expect(run.outputs.changed).toBe('true')
  })

  it('azure-cli: a federated az login older than 10 minutes still signs in (az default ARM resource)', async () => {
    const app = next('app')
    const vault = next('kv')
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    const { dir } = fake.azCli({ loginAgeSeconds: 900 })
    const run = await runAction(fake, targetInputs(RG, app, vault, { 'auth-type': 'azure-cli' }), {
      env: { ...noOidc, PATH: `${dir}${delimiter}${process.env.PATH}` }
    })
    ok(run)
    const calls = readFileSync(join(dir, 'calls.log'), 'utf8')
    expect(calls).toContain('--resource https://management.core.windows.net/')
    expect(calls).not.toContain('https://management.azure.com')
  })

  it('azure-cli: az not signed in, and az not installed, each say what to do', async () => {
    const { dir } = fake.azCli({ loggedIn: false })
    const loggedOut = await runAction(fake, targetInputs(RG, 'any-app', 'any-kv', { 'auth-type': 'azure-cli' }), {
      env: { ...noOidc, PATH: `${dir}${delimiter}${process.env.PATH}` }
    })
    expect(loggedOut.exitCode).toBe(1)
    expect(loggedOut.error).toMatch(/az is not signed in .*\nFix: add an azure\/login step before this one/)
    const missing = await runAction(fake, targetInputs(RG, 'any-app', 'any-kv', { 'auth-type': 'azure-cli' }), {
      env: { ...noOidc, PATH: '/nonexistent' }
    })
    expect(missing.exitCode).toBe(1)
    expect(missing.error).toContain("the az command was not found on this runner's PATH")
  })
})
