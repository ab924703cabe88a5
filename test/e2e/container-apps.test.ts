// Azure Container Apps apps and jobs as targets (issue 19, first slice): the bundled action turns
// on their system-assigned identity through Microsoft.App and grants it on the vault exactly as it
// does an App Service app's, in every mode, beside App Service apps in one step.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction } from './run-action.ts'

let fake: FakeAzure
const RG = 'aca-rg'
let counter = 0
const next = (prefix: string): string => `${prefix}-${++counter}`
const APP_PATCH = /\/providers\/Microsoft\.App\/(containerApps|jobs)\/[^/]+$/i

beforeAll(async () => {
  fake = await startFakeAzure()
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())
beforeEach(() => {
  fake.clearLog()
  fake.clearFaults()
})

const inputs = (vault: string, extra: Record<string, string>): Record<string, string> => ({
  'resource-group': RG,
  'vault-name': vault,
  'vault-resource-group': RG,
  ...extra
})
const patches = (): number => fake.requests.filter((r) => r.method === 'PATCH' && APP_PATCH.test(r.path)).length

describe('container apps and jobs as targets', () => {
  it('turns on the identity of an app and a job, grants both on an access-policy vault; a re-run writes nothing', async () => {
    const app = next('api')
    const job = next('nightly')
    const vault = next('kv')
    fake.addContainerApp({ resourceGroup: RG, name: app })
    fake.addContainerAppJob({ resourceGroup: RG, name: job })
    fake.addVault({ resourceGroup: RG, name: vault })
    const run = await runAction(fake, inputs(vault, { 'container-app': app, 'container-app-job': job }))
    expect(run.error).toBe('')
    const appPrincipal = fake.getContainerApp(RG, app)!.identity?.principalId
    const jobPrincipal = fake.getContainerApp(RG, job, 'job')!.identity?.principalId
    expect(appPrincipal).toMatch(/^[0-9a-f-]{36}$/)
    expect(JSON.parse(run.outputs['principal-ids'])).toEqual({
      [`containerapp:${app}`]: appPrincipal,
      [`job:${job}`]: jobPrincipal
    })
    const policies = fake.getVault(RG, vault)!.properties.accessPolicies.map((p) => p.objectId)
    expect(policies.sort()).toEqual([appPrincipal, jobPrincipal].sort())
    expect(run.summary).toContain(`Turned on the system-assigned identity of containerapp:${app}`)
    fake.clearLog()
    const again = await runAction(fake, inputs(vault, { 'container-app': app, 'container-app-job': job }))
    expect(again.error).toBe('')
    expect(again.outputs.changed).toBe('false')
    expect(fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET')).toEqual([])
  })

  it('one container app: principal-id is set; beside an App Service app on an RBAC vault, both are granted', async () => {
    const app = next('api')
    const site = next('web')
    const vault = next('kv')
    fake.addContainerApp({ resourceGroup: RG, name: app, systemAssigned: true })
    fake.addSite({ resourceGroup: RG, name: site, systemAssigned: true })
    fake.addVault({ resourceGroup: RG, name: vault, enableRbacAuthorization: true })
    const alone = await runAction(fake, inputs(vault, { 'container-app': app, mode: 'plan' }))
    expect(alone.error).toBe('')
    expect(alone.outputs['principal-id']).toBe(fake.getContainerApp(RG, app)!.identity?.principalId)
    const run = await runAction(fake, inputs(vault, { 'container-app': app, 'app-name': site }))
    expect(run.error).toBe('')
    expect(patches()).toBe(0) // the identity was already on
    const holders = fake.roleAssignments().map((a) => a.properties.principalId)
    expect(holders).toEqual(
      expect.arrayContaining([
        fake.getContainerApp(RG, app)!.identity?.principalId,
        fake.getSite(RG, site)!.identity?.principalId
      ])
    )
  })

  it('verify gates on a container app; revoke with disable-identity takes the access and turns the identity off', async () => {
    const app = next('api')
    const vault = next('kv')
    fake.addContainerApp({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    const before = await runAction(fake, inputs(vault, { 'container-app': app, mode: 'verify' }))
    expect(before.exitCode).toBe(1)
    expect(before.error).toContain(`containerapp:${app}`)
    expect((await runAction(fake, inputs(vault, { 'container-app': app }))).error).toBe('')
    expect((await runAction(fake, inputs(vault, { 'container-app': app, mode: 'verify' }))).error).toBe('')
    const revoke = await runAction(
      fake,
      inputs(vault, { 'container-app': app, mode: 'revoke', 'disable-identity': 'true' })
    )
    expect(revoke.error).toBe('')
    expect(fake.getVault(RG, vault)!.properties.accessPolicies).toEqual([])
    expect(fake.getContainerApp(RG, app)!.identity?.type ?? 'None').toBe('None')
  })

  it('a PATCH refused with ContainerAppLockConflict is rebuilt from a fresh read, not replayed', async () => {
    const app = next('api')
    const vault = next('kv')
    fake.addContainerApp({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    fake.addFault({
      method: 'PATCH',
      path: APP_PATCH,
      status: 409,
      body: {
        error: {
          code: 'ContainerAppLockConflict',
          message: `Cannot modify container App '${app}' because another modification is in progress. Please retry the operation.`
        }
      }
    })
    const run = await runAction(fake, inputs(vault, { 'container-app': app }))
    expect(run.error).toBe('')
    expect(patches()).toBe(2)
    expect(run.stdout + run.stderr).toMatch(/Reading it again/)
  })

  it('bad names are refused before any request, naming the input', async () => {
    const run = await runAction(fake, inputs('kv', { 'container-app': 'Bad_Name', 'container-app-job': 'ok-job' }))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain("'container-app' entry 'Bad_Name' is not a valid container app name")
    expect(fake.requests).toEqual([])
    const none = await runAction(fake, inputs('kv', {}))
    expect(none.error).toContain("'app-name' is required (or 'container-app' / 'container-app-job'")
  })

  it('a user-assigned identity: granted first, then attached naming only itself; revoke detaches it, keeping theirs', async () => {
    const app = next('api')
    const vault = next('kv')
    const theirs = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('theirs') })
    const ours = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('ours') })
    fake.addContainerApp({ resourceGroup: RG, name: app, userAssignedIdentities: [theirs.id] })
    fake.addVault({ resourceGroup: RG, name: vault })
    const run = await runAction(fake, inputs(vault, { 'container-app': app, identity: ours.id }))
    expect(run.error).toBe('')
    const attach = fake.requests.filter((r) => r.method === 'PATCH' && APP_PATCH.test(r.path))
    expect(attach.map((r) => r.requestBody)).toEqual([
      { identity: { type: 'UserAssigned', userAssignedIdentities: { [ours.id]: {} } } }
    ])
    const grantAt = fake.requests.findIndex((r) => r.path.endsWith('/accessPolicies/add'))
    expect(grantAt).toBeGreaterThanOrEqual(0)
    expect(grantAt).toBeLessThan(fake.requests.indexOf(attach[0]))
    const attached = (): string[] =>
      Object.keys(fake.getContainerApp(RG, app)!.identity?.userAssignedIdentities ?? {}).map((k) => k.toLowerCase())
    expect(attached().sort()).toEqual([theirs.id, ours.id].map((k) => k.toLowerCase()).sort())
    expect(run.outputs['principal-id']).toBe(ours.properties.principalId)
    expect(run.summary).toContain(
      `Attached user-assigned identity ${ours.name} to containerapp:${app} (other identities kept); one write.`
    )
    const revoke = await runAction(
      fake,
      inputs(vault, { 'container-app': app, identity: ours.id, mode: 'revoke', 'disable-identity': 'true' })
    )
    expect(revoke.error).toBe('')
    expect(attached()).toEqual([theirs.id.toLowerCase()])
    expect(fake.getVault(RG, vault)!.properties.accessPolicies).toEqual([])
  })

  it('a function app hosted on Container Apps as a Microsoft.Web site: app-settings refused before any write, with why', async () => {
    const site = next('func')
    const vault = next('kv')
    fake.addSite({ resourceGroup: RG, name: site, kind: 'functionapp,linux,container,azurecontainerapps' })
    fake.addVault({ resourceGroup: RG, name: vault, secrets: { db: {} } })
    const run = await runAction(fake, inputs(vault, { 'app-name': site, 'app-settings': 'DB=db' }))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(
      `'app-settings' cannot make Key Vault references on ${site}: a function app hosted on Azure Container Apps as a Microsoft.Web site does not support Key Vault references in app settings (Azure/azure-functions-on-container-apps#90).`
    )
    expect(fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET' && !r.path.endsWith('/list'))).toEqual(
      []
    )
    // Without app-settings, the identity and the grant work as for any app.
    expect((await runAction(fake, inputs(vault, { 'app-name': site }))).error).toBe('')
  })
})

describe('Key Vault secrets of container targets (app-settings)', () => {
  const plain = { name: 'registry-password', value: 'not-a-real-password-0' }

  it('from no identity to a healthy revision reading the secret; plain secrets kept; a grant still propagating is waited out; a re-run writes nothing', async () => {
    const app = next('api')
    const vault = next('kv')
    fake.addContainerApp({
      resourceGroup: RG,
      name: app,
      secrets: [plain],
      containers: [{ name: 'main', image: 'nginx', env: [{ name: 'MODE', value: 'prod' }] }]
    })
    fake.addVault({ resourceGroup: RG, name: vault, enableRbacAuthorization: true, secrets: { 'db-password': {} } })
    fake.setRoleAssignmentPropagation(3000)
    try {
      const given = inputs(vault, { 'container-app': app, 'app-settings': 'DB_PASSWORD=db-password' })
      const run = await runAction(fake, given)
      expect(run.error).toBe('')
      expect(run.stdout + run.stderr).toMatch(/could not read a Key Vault secret with identity 'system' yet/)
      const secrets = fake.containerAppSecrets(RG, app)
      expect(secrets.find((s) => s.name === plain.name)).toEqual(plain)
      expect(secrets.find((s) => s.name === 'db-password')).toMatchObject({
        keyVaultUrl: `https://${vault}.vault.azure.net/secrets/db-password`,
        identity: 'system'
      })
      const info = fake.getContainerApp(RG, app)!
      const env = (info.properties.template as { containers: { env: unknown[] }[] }).containers[0].env
      expect(env).toEqual([
        { name: 'MODE', value: 'prod' },
        { name: 'DB_PASSWORD', secretRef: 'db-password' }
      ])
      expect(info.properties.latestReadyRevisionName).toBe(info.properties.latestRevisionName)
      expect(run.summary).toContain(
        `Set secret(s) db-password to Key Vault references and DB_PASSWORD of every container to read them (a new revision) on containerapp:${app}`
      )
      for (const text of [run.stdout, run.stderr, run.summary]) expect(text).not.toContain(plain.value)
      fake.clearLog()
      const again = await runAction(fake, given)
      expect(again.error).toBe('')
      expect(again.outputs.changed).toBe('false')
      expect(fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET')).toEqual([])
      const verify = await runAction(fake, { ...given, mode: 'verify' })
      expect(verify.error).toBe('')
    } finally {
      fake.setRoleAssignmentPropagation(0)
    }
  }, 60_000)

  it('verify fails while a secret is not wired; plan names it; a job gets it too', async () => {
    const job = next('nightly')
    const vault = next('kv')
    fake.addContainerAppJob({
      resourceGroup: RG,
      name: job,
      systemAssigned: true,
      containers: [{ name: 'main', image: 'busybox' }]
    })
    fake.addVault({ resourceGroup: RG, name: vault, secrets: { token: {} } })
    const given = inputs(vault, { 'container-app-job': job, 'app-settings': 'TOKEN=token' })
    const gate = await runAction(fake, { ...given, mode: 'verify' })
    expect(gate.exitCode).toBe(1)
    expect(gate.error).toContain(`job:${job}: apply would Key Vault secrets of job:${job}: set secret(s) token`)
    const plan = await runAction(fake, { ...given, mode: 'plan' })
    expect(plan.error).toBe('')
    expect(plan.outputs.changed).toBe('true')
    expect(fake.containerAppSecrets(RG, job, 'job')).toEqual([])
    const run = await runAction(fake, given)
    expect(run.error).toBe('')
    expect(fake.containerAppSecrets(RG, job, 'job')).toEqual([
      expect.objectContaining({
        name: 'token',
        keyVaultUrl: `https://${vault}.vault.azure.net/secrets/token`,
        identity: 'system'
      })
    ])
    expect((await runAction(fake, { ...given, mode: 'verify' })).error).toBe('')
  })

  it('a secret missing in the vault stops the run before any write', async () => {
    const app = next('api')
    const vault = next('kv')
    fake.addContainerApp({ resourceGroup: RG, name: app, containers: [{ name: 'main', image: 'nginx' }] })
    fake.addVault({ resourceGroup: RG, name: vault })
    const run = await runAction(fake, inputs(vault, { 'container-app': app, 'app-settings': 'DB=db-password' }))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain('db-password')
    expect(fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET' && !/\/list/i.test(r.path))).toEqual([])
  })

  it('a new revision that fails is named, in apply and then in verify; revoke warns which secrets stop resolving', async () => {
    const app = next('api')
    const vault = next('kv')
    fake.addContainerApp({
      resourceGroup: RG,
      name: app,
      systemAssigned: true,
      containers: [{ name: 'main', image: 'nginx' }],
      revisionFailure: 'Container main failed to start: exit code 1'
    })
    fake.addVault({ resourceGroup: RG, name: vault, secrets: { 'db-password': {} } })
    const given = inputs(vault, { 'container-app': app, 'app-settings': 'DB_PASSWORD=db-password' })
    const run = await runAction(fake, given)
    expect(run.exitCode).toBe(1)
    expect(run.error).toMatch(
      /revision .* is Failed \/ Failed \/ Unhealthy: Container main failed to start: exit code 1/
    )
    expect(run.summary).toContain(`Set secret(s) db-password to Key Vault references`)
    const gate = await runAction(fake, { ...given, mode: 'verify' })
    expect(gate.exitCode).toBe(1)
    expect(gate.error).toMatch(new RegExp(`containerapp:${app}: latest revision .* is Failed`))
    const revoke = await runAction(fake, { ...given, mode: 'revoke' })
    expect(revoke.error).toBe('')
    expect(revoke.stdout + revoke.stderr).toContain(
      `containerapp:${app}: these Key Vault secrets will stop resolving once the access is revoked`
    )
  })

  it('with a user-assigned identity the secret is read with it; a registry password secret is kept', async () => {
    const app = next('api')
    const vault = next('kv')
    const ours = fake.addUserAssignedIdentity({ resourceGroup: RG, name: next('ours') })
    const registry = { name: 'acr-password', value: 'not-a-real-registry-password' }
    fake.addContainerApp({
      resourceGroup: RG,
      name: app,
      secrets: [registry],
      registries: [{ server: 'example.azurecr.io', username: 'pull', passwordSecretRef: 'acr-password' }],
      containers: [{ name: 'main', image: 'example.azurecr.io/api:1' }]
    })
    fake.addVault({ resourceGroup: RG, name: vault, secrets: { 'api-key': {} } })
    const run = await runAction(
      fake,
      inputs(vault, { 'container-app': app, identity: ours.id, 'app-settings': 'API_KEY=api-key' })
    )
    expect(run.error).toBe('')
    const secrets = fake.containerAppSecrets(RG, app)
    expect(secrets.find((x) => x.name === 'acr-password')).toEqual(registry)
    expect(secrets.find((x) => x.name === 'api-key')).toMatchObject({ identity: ours.id })
    for (const text of [run.stdout, run.stderr, run.summary]) expect(text).not.toContain(registry.value)
  })
})
