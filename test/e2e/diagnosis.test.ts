// Failures that must be diagnosed: the bundled action, run as the runner runs it against the fake
// Azure, must end every sign-in fault, refusal, missing resource, vault mismatch and bad input in
// exit code 1 and exactly one `::error::` saying what failed, why and the fix; bad inputs before
// any request; a failure half-way must lose nothing and leave a state a re-run completes; and no
// token may reach the log, the summary or the outputs.
import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { DEFAULT_CLAIMS } from '../fake-azure/core/state.ts'
import { runAction, type ActionRun, type RunOptions } from './run-action.ts'

let fake: FakeAzure
const RG = 'diag-rg'
const OTHER = '11111111-2222-3333-4444-555555555555'
let counter = 0

/** Every run of this file, for the leak scan at the end. */
const runs: { name: string; run: ActionRun }[] = []

beforeAll(async () => {
  fake = await startFakeAzure()
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())
beforeEach(() => fake.clearLog())

async function run(inputs: Record<string, string>, options: RunOptions = {}, on: FakeAzure = fake): Promise<ActionRun> {
  const result = await runAction(on, inputs, options)
  runs.push({ name: expect.getState().currentTestName ?? '?', run: result })
  return result
}

/** Exit code 1 and exactly one `::error::` line; returns its decoded message. */
function failure(result: ActionRun): string {
  const errorLines = result.stdout.split('\n').filter((l) => l.startsWith('::error'))
  expect(errorLines).toHaveLength(1)
  expect(result.exitCode).toBe(1)
  expect(result.error).not.toBe('')
  return result.error
}

const armWrites = (on: FakeAzure = fake): string[] =>
  on.requests
    .filter((r) => r.server === 'arm' && r.method !== 'GET')
    .map((r) => `${r.method} ${r.path.replace(/^.*\/providers\//, '')}`)
const toServer = (server: string): number => fake.requests.filter((r) => r.server === server).length

/** A fresh app (no identity) and access-policy vault, unique to the test. */
function seed(options: { rbac?: boolean; systemAssigned?: boolean; vaultTenantId?: string } = {}): {
  app: string
  vault: string
  inputs: Record<string, string>
} {
  counter++
  const app = `diag-app-${counter}`
  const vault = `kv-diag-${counter}`
  fake.addSite({ resourceGroup: RG, name: app, systemAssigned: options.systemAssigned })
  fake.addVault({
    resourceGroup: RG,
    name: vault,
    enableRbacAuthorization: options.rbac,
    tenantId: options.vaultTenantId
  })
  return {
    app,
    vault,
    inputs: { 'app-name': app, 'resource-group': RG, 'vault-name': vault, 'vault-resource-group': RG }
  }
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('sign-in failures', () => {
  it('no ACTIONS_ID_TOKEN_REQUEST_URL: shows the permissions block and mentions forks, and calls nobody', async () => {
    const { inputs } = seed()
    const error = failure(await run(inputs, { env: { ACTIONS_ID_TOKEN_REQUEST_URL: undefined } }))
    expect(error).toContain('ACTIONS_ID_TOKEN_REQUEST_URL')
    expect(error).toMatch(/permissions:\n\s+id-token: write/)
    expect(error).toMatch(/fork/i)
    expect(toServer('entra')).toBe(0)
    expect(toServer('arm')).toBe(0)
    expect(toServer('oidc')).toBe(0)
  })

  describe('AADSTS700213: no federated credential matches', () => {
    afterAll(() => fake.setOidcClaims({ ...DEFAULT_CLAIMS }))

    it('a subject that differs only in case: shows issuer, subject, audience, the fix command and case sensitivity', async () => {
      const { app, inputs } = seed()
      const subject = 'repo:Octo-Org/octo-repo:ref:refs/heads/main'
      fake.setOidcClaims({ sub: subject })
      const error = failure(await run(inputs))
      expect(error).toContain('AADSTS700213')
      expect(error).toContain(`issuer:   ${DEFAULT_CLAIMS.iss}`)
      expect(error).toContain(`subject:  ${subject}`)
      expect(error).toContain(`audience: ${DEFAULT_CLAIMS.aud}`)
      expect(error).toMatch(
        new RegExp(`az ad app federated-credential create --id ${fake.clientId} .*"subject":"${escape(subject)}"`)
      )
      expect(error).toMatch(new RegExp(`"issuer":"${escape(DEFAULT_CLAIMS.iss)}"`))
      expect(error).toMatch(new RegExp(`"audiences":\\["${escape(DEFAULT_CLAIMS.aud)}"\\]`))
      expect(error).toMatch(/case-sensitive/i)
      expect(error).not.toMatch(/GitHub environment/i)
      // Nothing was read or written in Azure.
      expect(toServer('arm')).toBe(0)
      expect(fake.getSite(RG, app)!.identity).toBeUndefined()
    })

    it('an environment subject: explains that the job uses an environment', async () => {
      const { inputs } = seed()
      const subject = 'repo:octo-org/octo-repo:environment:prod'
      fake.setOidcClaims({ sub: subject })
      const error = failure(await run(inputs))
      expect(error).toContain(`subject:  ${subject}`)
      expect(error).toMatch(/GitHub environment/i)
      expect(error).toMatch(/not the branch/i)
      expect(error).toMatch(new RegExp(`"subject":"${escape(subject)}"`))
      expect(error).toMatch(/az ad app federated-credential create/)
    })

    it('AADSTS70021 (older wording of the same failure) gets the same diagnosis', async () => {
      fake.setOidcClaims({ ...DEFAULT_CLAIMS })
      const { inputs } = seed()
      fake.addFault({
        server: 'entra',
        method: 'POST',
        path: '/oauth2/v2.0/token',
        status: 400,
        body: {
          error: 'invalid_client',
          error_description:
            "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://token.actions.githubusercontent.com'.",
          error_codes: [70021]
        },
        times: 1
      })
      const error = failure(await run(inputs))
      expect(error).toContain(`subject:  ${DEFAULT_CLAIMS.sub}`)
      expect(error).toMatch(/az ad app federated-credential create/)
    })
  })

  it('AADSTS700016: the client id is not in the tenant', async () => {
    const { inputs } = seed()
    const clientId = randomUUID()
    const error = failure(await run({ ...inputs, 'client-id': clientId }))
    expect(error).toContain('AADSTS700016')
    expect(error).toContain(clientId)
    expect(error).toContain(fake.tenantId)
    expect(error).toMatch(/Fix: check 'client-id'/)
    expect(toServer('arm')).toBe(0)
  })

  it('AADSTS90002: the tenant does not exist', async () => {
    const { inputs } = seed()
    const tenantId = randomUUID()
    const error = failure(await run({ ...inputs, 'tenant-id': tenantId }))
    // MSAL reports the failed discovery of an unknown tenant without Entra's AADSTS90002 text:
    // the action must still say what is wrong.
    expect(error).toContain(tenantId)
    expect(error).toMatch(/not found/i)
    expect(error).toMatch(/Fix: check 'tenant-id'/)
    expect(toServer('arm')).toBe(0)
  })

  describe('AADSTS700024: the OIDC token is outside its time range', () => {
    afterEach(() => fake.setOidcClaims({ ...DEFAULT_CLAIMS, exp: undefined, nbf: undefined, iat: undefined }))

    it('expired', async () => {
      const { inputs } = seed()
      const now = Math.floor(Date.now() / 1000)
      fake.setOidcClaims({ iat: now - 900, nbf: now - 905, exp: now - 300 })
      const error = failure(await run(inputs))
      expect(error).toContain('AADSTS700024')
      expect(error).toMatch(/time range/)
      expect(error).toMatch(/clock/i)
      expect(toServer('arm')).toBe(0)
    })

    it('not yet valid', async () => {
      const { inputs } = seed()
      const now = Math.floor(Date.now() / 1000)
      fake.setOidcClaims({ nbf: now + 3600, exp: now + 4200 })
      const error = failure(await run(inputs))
      expect(error).toContain('AADSTS700024')
      expect(error).toMatch(/clock/i)
    })
  })
})

describe('403 AuthorizationFailed: names the action, the scope and the role that grants it', () => {
  it('Microsoft.Web/sites/write on the app → Website Contributor; nothing written', async () => {
    const { app, vault, inputs } = seed()
    const siteId = fake.getSite(RG, app)!.id
    fake.deny('Microsoft.Web/sites/write', siteId)
    const error = failure(await run(inputs))
    expect(error).toContain("'Microsoft.Web/sites/write'")
    expect(error).toContain(siteId)
    expect(error).toContain('Website Contributor')
    expect(error).toContain(
      `az role assignment create --assignee ${fake.clientId} --role "Website Contributor" --scope ${siteId}`
    )
    expect(error).toContain(`app '${app}'`)
    expect(fake.getSite(RG, app)!.identity).toBeUndefined()
    expect(fake.getVault(RG, vault)!.properties.accessPolicies).toEqual([])
  })

  it('Microsoft.KeyVault/vaults/accessPolicies/write on the vault → Key Vault Contributor; the identity stays on, a re-run only retries the grant', async () => {
    const { app, vault, inputs } = seed()
    const vaultId = fake.getVault(RG, vault)!.id
    fake.deny('Microsoft.KeyVault/vaults/accessPolicies/write', vaultId)
    const error = failure(await run(inputs))
    expect(error).toContain("'Microsoft.KeyVault/vaults/accessPolicies/write'")
    expect(error).toContain(vaultId)
    expect(error).toContain('Key Vault Contributor')
    expect(error).toContain(`Key Vault '${vault}'`)
    const principalId = fake.getSite(RG, app)!.identity?.principalId
    expect(principalId).toMatch(/^[0-9a-f-]{36}$/)

    // While still refused, a re-run does not touch the app again: it only retries the missing grant.
    fake.clearLog()
    const again = failure(await run(inputs))
    expect(again).toContain('Key Vault Contributor')
    expect(armWrites()).toEqual([`PUT Microsoft.KeyVault/vaults/${vault}/accessPolicies/add`])
    expect(fake.getSite(RG, app)!.identity?.principalId).toBe(principalId)
  })

  it('Microsoft.Authorization/roleAssignments/write on an RBAC vault → Role Based Access Control Administrator', async () => {
    const { app, vault, inputs } = seed({ rbac: true })
    const vaultId = fake.getVault(RG, vault)!.id
    fake.deny('Microsoft.Authorization/roleAssignments/write', vaultId)
    const error = failure(await run(inputs))
    expect(error).toContain("'Microsoft.Authorization/roleAssignments/write'")
    expect(error).toContain(vaultId)
    expect(error).toContain('Role Based Access Control Administrator')
    expect(error).toMatch(/User Access Administrator/)
    expect(fake.getSite(RG, app)!.identity?.principalId).toMatch(/^[0-9a-f-]{36}$/)
    expect(
      fake.roleAssignments().filter((a) => a.properties.scope.toLowerCase().startsWith(vaultId.toLowerCase()))
    ).toEqual([])
  })
})

describe('404: says which resource was not found, where, and the fix', () => {
  it('app not found', async () => {
    const { inputs } = seed()
    const error = failure(await run({ ...inputs, 'app-name': 'no-such-app' }))
    expect(error).toContain("app 'no-such-app'")
    expect(error).toContain(`resource group '${RG}'`)
    expect(error).toMatch(/not exist|not found/)
    expect(error).toMatch(/Fix: check 'app-name' and 'resource-group'/)
    expect(armWrites()).toEqual([])
  })

  it('slot not found', async () => {
    const { app, inputs } = seed()
    const error = failure(await run({ ...inputs, slot: 'staging' }))
    expect(error).toContain(`slot 'staging' of app '${app}'`)
    expect(error).toContain(`resource group '${RG}'`)
    expect(error).toMatch(/Fix: check 'app-name' and 'slot'/)
    expect(error).toContain(`az webapp deployment slot list --name ${app} --resource-group ${RG}`)
    expect(armWrites()).toEqual([])
  })

  it('resource group not found', async () => {
    const { inputs } = seed()
    const error = failure(await run({ ...inputs, 'resource-group': 'no-such-rg' }))
    expect(error).toContain("'no-such-rg'")
    expect(error).toMatch(/resource group does not exist|resource group .* not found/i)
    expect(error).toMatch(/Fix: check 'resource-group'/)
    expect(armWrites()).toEqual([])
  })

  it('vault not found in the given vault-resource-group', async () => {
    const { inputs } = seed()
    const error = failure(await run({ ...inputs, 'vault-name': 'kv-no-such' }))
    expect(error).toContain("Key Vault 'kv-no-such'")
    expect(error).toContain(`resource group '${RG}'`)
    expect(error).toMatch(/does not exist|not found/)
    expect(error).toMatch(/Fix: check 'vault-name'/)
    expect(armWrites()).toEqual([])
  })

  it('vault not found by name: says it searched the subscription, suggests vault-resource-group and vault-subscription-id', async () => {
    const { inputs } = seed()
    const { 'vault-resource-group': _, ...byName } = inputs
    const error = failure(await run({ ...byName, 'vault-name': 'kv-nowhere' }))
    expect(error).toContain("'kv-nowhere'")
    expect(error).toContain(fake.subscriptionId)
    expect(error).toMatch(/searched/)
    expect(error).toContain("'vault-resource-group'")
    expect(error).toContain("'vault-subscription-id'")
    // The action's own finding is not Azure's words.
    expect(error).not.toMatch(/Azure says: Key Vault 'kv-nowhere' was not found/)
    expect(armWrites()).toEqual([])
  })

  it('subscription not found', async () => {
    const { inputs } = seed()
    const subscriptionId = randomUUID()
    const error = failure(await run({ ...inputs, 'subscription-id': subscriptionId }))
    expect(error).toContain(subscriptionId)
    expect(error).toMatch(/subscription was not found/)
    expect(error).toMatch(/Fix: check 'subscription-id'/)
    expect(armWrites()).toEqual([])
  })
})

describe('the vault cannot take the grant: fails before writing anything', () => {
  it("access-model 'rbac' on an access-policy vault", async () => {
    const { app, vault, inputs } = seed()
    const error = failure(await run({ ...inputs, 'access-model': 'rbac' }))
    expect(error).toContain("'access-model' is 'rbac'")
    expect(error).toContain(`Key Vault '${vault}' uses access policies`)
    expect(error).toMatch(/Fix: set 'access-model' to 'access-policy' or 'auto'/)
    expect(armWrites()).toEqual([])
    expect(fake.getSite(RG, app)!.identity).toBeUndefined()
  })

  it("access-model 'access-policy' on an RBAC vault", async () => {
    const { app, vault, inputs } = seed({ rbac: true })
    const error = failure(await run({ ...inputs, 'access-model': 'access-policy' }))
    expect(error).toContain("'access-model' is 'access-policy'")
    expect(error).toContain(`Key Vault '${vault}' uses Azure RBAC`)
    expect(error).toMatch(/Fix: set 'access-model' to 'rbac' or 'auto'/)
    expect(armWrites()).toEqual([])
    expect(fake.getSite(RG, app)!.identity).toBeUndefined()
  })

  it('storage-permissions on an RBAC vault', async () => {
    const { app, vault, inputs } = seed({ rbac: true })
    const error = failure(await run({ ...inputs, 'storage-permissions': 'get' }))
    expect(error).toContain("'storage-permissions'")
    expect(error).toContain(`'${vault}'`)
    expect(error).toMatch(/Azure RBAC/)
    expect(error).toMatch(/Fix: remove 'storage-permissions'/)
    expect(armWrites()).toEqual([])
    expect(fake.getSite(RG, app)!.identity).toBeUndefined()
  })

  it("the vault's tenant differs from the identity's", async () => {
    const otherTenant = randomUUID()
    const { app, vault, inputs } = seed({ systemAssigned: true, vaultTenantId: otherTenant })
    const error = failure(await run(inputs))
    expect(error).toContain(`tenant ${fake.tenantId}`)
    expect(error).toContain(`tenant ${otherTenant}`)
    expect(error).toContain(`Key Vault '${vault}'`)
    expect(error).toContain(`'${app}'`)
    expect(error).toMatch(/Fix:/)
    expect(armWrites()).toEqual([])
    expect(fake.getVault(RG, vault)!.properties.accessPolicies).toEqual([])
  })

  it('the 1024 access-policy limit is reached', async () => {
    counter++
    const app = `diag-app-${counter}`
    const vault = `kv-full-${counter}`
    fake.addSite({ resourceGroup: RG, name: app })
    const policies = Array.from({ length: 1024 }, () => ({
      tenantId: fake.tenantId,
      objectId: randomUUID(),
      permissions: { secrets: ['get'] }
    }))
    fake.addVault({ resourceGroup: RG, name: vault, accessPolicies: policies })
    const error = failure(
      await run({ 'app-name': app, 'resource-group': RG, 'vault-name': vault, 'vault-resource-group': RG })
    )
    expect(error).toContain(`Key Vault '${vault}' has 1024 access policies`)
    expect(error).toContain('1024')
    expect(error).toMatch(/Fix: remove policies .*or move the vault to Azure RBAC/s)
    expect(armWrites()).toEqual([])
    expect(fake.getSite(RG, app)!.identity).toBeUndefined()
    expect(fake.getVault(RG, vault)!.properties.accessPolicies).toHaveLength(1024)
  })
})

describe('bad inputs: rejected before any request, naming the input, the bad value and the rule', () => {
  const base = (): Record<string, string> => ({
    'app-name': 'web-app',
    'resource-group': RG,
    'vault-name': 'kv-inputs'
  })

  async function rejected(inputs: Record<string, string>): Promise<string> {
    const error = failure(await run(inputs))
    expect(error).toMatch(/^Invalid inputs?:/)
    expect(fake.requests).toEqual([])
    return error
  }

  it.each([
    ['app-name', "'app-name' is required"],
    ['resource-group', "'resource-group' is required"],
    ['vault-name', "'vault-name' is required"]
  ])('missing %s', async (name, message) => {
    const inputs = base()
    delete inputs[name]
    const error = await rejected(inputs)
    expect(error).toContain(message)
  })

  it('missing client-id (input and AZURE_CLIENT_ID both empty)', async () => {
    const error = await rejected({ ...base(), 'client-id': '' })
    expect(error).toContain("'client-id' is required (or set the AZURE_CLIENT_ID environment variable)")
  })

  it.each([
    ['a slash too many', 'shop/api/x', /'app-name' entry 'shop\/api\/x' must be 'name' or 'name\/slot'/],
    ['a query', 'shop?x=1', /'app-name' has 'shop\?x=1': an app name is 2–60 letters, digits and hyphens/],
    ['a fragment', 'shop#x', /'app-name' has 'shop#x': an app name is 2–60/],
    ['a dot-dot', 'shop..api', /'app-name' has 'shop\.\.api': an app name is 2–60/],
    ['a dot-dot slot', 'shop/..', /'app-name' has slot '\.\.': a slot name is 2–60/],
    ['too long', 'a'.repeat(61), new RegExp(`'app-name' has '${'a'.repeat(61)}': an app name is 2–60`)],
    ['too short', 'a', /'app-name' has 'a': an app name is 2–60/]
  ])('app-name with %s', async (_what, value, message) => {
    const error = await rejected({ ...base(), 'app-name': value })
    expect(error).toMatch(message)
  })

  it.each([
    ['ending in a dot', 'shop-rg.'],
    ['with a slash', 'shop/rg'],
    ['too long', 'r'.repeat(91)]
  ])('resource-group %s', async (_what, value) => {
    const error = await rejected({ ...base(), 'resource-group': value })
    expect(error).toContain(
      `'resource-group' has '${value}': a resource group name is 1–90 letters, digits, '.', '_', '-', '(' or ')', not ending in '.'`
    )
  })

  it('a slot with a query', async () => {
    const error = await rejected({ ...base(), slot: 'staging?x' })
    expect(error).toContain("'slot' has slot 'staging?x': a slot name is 2–60")
  })

  it.each([
    ['with --', 'kv--shop'],
    ['too short', 'kv'],
    ['starting with a digit', '1kv-shop'],
    ['too long', 'k'.repeat(25)],
    ['with a dot-dot', 'kv..shop']
  ])('vault-name %s', async (_what, value) => {
    const error = await rejected({ ...base(), 'vault-name': value })
    expect(error).toContain(
      `'vault-name' has '${value}': a vault name is 3–24 letters, digits and hyphens, starting with a letter`
    )
    expect(error).toContain("without '--'")
  })

  it.each([
    ['subscription-id', 'not-a-guid'],
    ['tenant-id', '1234'],
    ['client-id', '{00000000-0000-0000-0000-000000000000}'],
    ['vault-subscription-id', '00000000-0000-0000-0000-00000000000g']
  ])('malformed GUID in %s', async (name, value) => {
    const error = await rejected({ ...base(), [name]: value })
    expect(error).toContain(`'${name}' must be a GUID such as 00000000-0000-0000-0000-000000000000, got '${value}'`)
  })

  it('an unknown permission: did you mean, and the valid list', async () => {
    const error = await rejected({ ...base(), 'key-permissions': 'get,wrapkeys' })
    expect(error).toContain("'key-permissions' has unknown permission 'wrapkeys'. Did you mean 'wrapKey'?")
    expect(error).toMatch(
      /Valid: all, encrypt, decrypt, wrapKey, unwrapKey, sign, verify, get, list,.*setrotationpolicy\./
    )
  })

  it('an unknown secret permission', async () => {
    const error = await rejected({ ...base(), 'secret-permissions': 'gett' })
    expect(error).toContain("'secret-permissions' has unknown permission 'gett'. Did you mean 'get'?")
    expect(error).toContain('Valid: all, get, list, set, delete, backup, restore, recover, purge.')
  })

  it('an empty permission set', async () => {
    const error = await rejected({ ...base(), 'secret-permissions': ' , ' })
    expect(error).toMatch(
      /No permission requested: set at least one of secret-permissions, key-permissions, certificate-permissions, storage-permissions/
    )
  })

  it('an unknown environment', async () => {
    const error = await rejected({ ...base(), environment: 'AzureMars' })
    expect(error).toContain(
      "'environment' must be one of AzureCloud, AzureUSGovernment, AzureChinaCloud (case-insensitive), got 'AzureMars'"
    )
  })

  it('arm-endpoint over http://', async () => {
    const error = await rejected({ ...base(), 'arm-endpoint': 'http://management.example.com' })
    expect(error).toContain(
      "'arm-endpoint' must be a plain https:// URL (no query, fragment or credentials), got 'http://management.example.com'"
    )
  })

  it('authority-host with a query', async () => {
    const error = await rejected({ ...base(), 'authority-host': 'https://login.example.com/?x=1' })
    expect(error).toContain("'authority-host' must be a plain https:// URL")
    expect(error).toContain("got 'https://login.example.com/?x=1'")
  })

  it("access-model 'foo'", async () => {
    const error = await rejected({ ...base(), 'access-model': 'foo' })
    expect(error).toContain("'access-model' must be one of auto, access-policy, rbac, got 'foo'")
  })

  it.each(['abc', '0', '3601', '1.5'])("retry-timeout '%s'", async (value) => {
    const error = await rejected({ ...base(), 'retry-timeout': value })
    expect(error).toContain(`'retry-timeout' must be a whole number of seconds from 1 to 3600, got '${value}'`)
  })

  it('several bad inputs are all reported in the one message', async () => {
    const error = await rejected({
      'app-name': 'a',
      'resource-group': 'rg.',
      'vault-name': 'kv--x',
      'subscription-id': 'nope',
      'key-permissions': 'wrapkeys',
      'access-model': 'foo',
      'retry-timeout': 'abc',
      environment: 'AzureMars'
    })
    expect(error).toMatch(/^Invalid inputs:\n/)
    for (const part of [
      "'app-name' has 'a'",
      "'resource-group' has 'rg.'",
      "'vault-name' has 'kv--x'",
      "'subscription-id' must be a GUID",
      "unknown permission 'wrapkeys'",
      "'access-model' must be one of",
      "'retry-timeout' must be a whole number",
      "'environment' must be one of"
    ]) {
      expect(error).toContain(part)
    }
    expect(error.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(8)
  })

  it('a literal secret typed into app-settings is refused naming the line and the setting, never echoed', async () => {
    const secret = 'Sup3r$ecret!Value'
    const result = await run(
      { ...base(), 'app-settings': `# the database\nDB_PASSWORD=${secret}` },
      { env: { ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' } }
    )
    const error = failure(result)
    expect(error).toMatch(/^Invalid inputs?:/)
    expect(error).toContain("'app-settings' line 2 sets 'DB_PASSWORD' to a value that is neither a secret name")
    expect(fake.requests).toEqual([])
    for (const text of [result.stdout, result.stderr, result.summary, JSON.stringify(result.outputs)])
      expect(text).not.toContain(secret)
  })
})

describe('a failure keeps its cause', () => {
  it("a reference App Service reports with an AADSTS code in its details is reported as that reference, not as this run's sign-in", async () => {
    const { app, vault, inputs } = seed()
    fake.addSecret(RG, vault, 'db')
    const reference = `@Microsoft.KeyVault(VaultName=${vault};SecretName=db)`
    const details = `AADSTS700016: Application with identifier '${fake.clientId}' was not found in the directory.`
    const site = `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${app}`
    // App Service's answer after the write (the read before the plan goes through): a status this
    // run cannot heal, whose details quote Entra ID (no capture of such details found; the shape
    // is WebApps_GetAppSettingsKeyVaultReferences').
    fake.addFault({
      server: 'arm',
      method: 'GET',
      path: `/sites/${app}/config/configreferences/appsettings`,
      skip: 1,
      times: 20,
      status: 200,
      body: {
        value: [
          {
            id: `${site}/config/configreferences/appsettings/DB_PASSWORD`,
            name: 'DB_PASSWORD',
            type: 'Microsoft.Web/sites/config/configreferences',
            properties: {
              reference,
              status: 'UnauthorizedClient',
              vaultName: vault,
              secretName: 'db',
              details,
              source: 'KeyVault'
            }
          }
        ]
      }
    })
    try {
      const error = failure(await run({ ...inputs, 'app-settings': 'DB_PASSWORD=db' }))
      expect(error).toMatch(new RegExp(`^Key Vault references of '${escape(app)}' did not resolve`))
      expect(error).toContain(`  - DB_PASSWORD → ${vault}/db: UnauthorizedClient (App Service says: ${details})`)
      expect(error).not.toContain('Sign-in failed')
      expect(fake.appSettings(RG, app).DB_PASSWORD).toBe(reference)
    } finally {
      fake.clearFaults()
    }
  })
})

describe('one failure per cause', () => {
  it('a grant that cannot be made leaves the settings unwritten, and only the grant is reported', async () => {
    // The identity is turned on by this run; only then is its tenant known, and it is not the vault's.
    const otherTenant = randomUUID()
    const { app, vault, inputs } = seed({ vaultTenantId: otherTenant })
    fake.addSecret(RG, vault, 'db')
    const error = failure(await run({ ...inputs, 'app-settings': 'DB_PASSWORD=db' }))
    expect(error).toContain(`tenant ${otherTenant}`)
    expect(error).toContain(`Key Vault '${vault}'`)
    expect(error).not.toContain('did not resolve')
    expect(fake.getSite(RG, app)!.identity?.principalId).toBeDefined()
    expect(fake.appSettings(RG, app).DB_PASSWORD).toBeUndefined()
    expect(armWrites().filter((w) => /accessPolicies|appsettings$/i.test(w))).toEqual([])
  })
})

describe('nothing lost: a failure half-way changes nothing else, and a re-run completes', () => {
  it('the vault write refused after the identity was turned on', async () => {
    counter++
    const app = `diag-app-${counter}`
    const vault = `kv-halfway-${counter}`
    const uai = `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/halfway-uai`
    fake.addSite({
      resourceGroup: RG,
      name: app,
      tags: { team: 'shop', env: 'prod' },
      appSettings: { LOG_LEVEL: 'info', FEATURE_X: 'on' },
      userAssignedIdentities: [uai]
    })
    const otherPolicy = { tenantId: fake.tenantId, objectId: OTHER, permissions: { secrets: ['get'], keys: ['sign'] } }
    fake.addVault({ resourceGroup: RG, name: vault, tags: { owner: 'platform' }, accessPolicies: [otherPolicy] })
    const siteBefore = fake.getSite(RG, app)!
    const vaultBefore = fake.getVault(RG, vault)!
    const inputs = { 'app-name': app, 'resource-group': RG, 'vault-name': vault, 'vault-resource-group': RG }

    // ARM refuses the access-policy write once (the fix — a role for the sign-in identity — comes between the runs).
    fake.addFault({
      server: 'arm',
      method: 'PUT',
      path: `/vaults/${vault}/accessPolicies/add`,
      status: 403,
      body: {
        error: {
          code: 'AuthorizationFailed',
          message: `The client '${fake.clientId}' with object id '${OTHER}' does not have authorization to perform action 'Microsoft.KeyVault/vaults/accessPolicies/write' over scope '${vaultBefore.id}/accessPolicies/add' or the scope is invalid. If access was recently granted, please refresh your credentials.`
        }
      },
      times: 1
    })
    const first = await run(inputs)
    expect(failure(first)).toContain('Key Vault Contributor')

    // Half-way state: the identity is on, and nothing else about the app or vault changed.
    const siteAfter = fake.getSite(RG, app)!
    expect(siteAfter.identity?.type).toBe('SystemAssigned, UserAssigned')
    expect(siteAfter.identity?.userAssignedIdentities).toEqual(siteBefore.identity?.userAssignedIdentities)
    expect(siteAfter.tags).toEqual(siteBefore.tags)
    expect(siteAfter.properties.siteConfig).toEqual(siteBefore.properties.siteConfig)
    expect(fake.getVault(RG, vault)).toEqual(vaultBefore)
    const principalId = siteAfter.identity!.principalId!
    expect(principalId).toMatch(/^[0-9a-f-]{36}$/)
    // Never a PUT of the site or the vault.
    expect(armWrites()).toEqual([
      `PATCH Microsoft.Web/sites/${app}`,
      `PUT Microsoft.KeyVault/vaults/${vault}/accessPolicies/add`
    ])

    // The re-run writes only the missing grant and completes.
    fake.clearLog()
    const second = await run(inputs)
    expect(second.error).toBe('')
    expect(second.exitCode).toBe(0)
    expect(second.outputs['principal-id']).toBe(principalId)
    expect(armWrites()).toEqual([`PUT Microsoft.KeyVault/vaults/${vault}/accessPolicies/add`])
    const vaultDone = fake.getVault(RG, vault)!
    expect(vaultDone.properties.accessPolicies).toEqual([
      otherPolicy,
      expect.objectContaining({
        objectId: principalId,
        permissions: expect.objectContaining({ secrets: ['get', 'list'] })
      })
    ])
    expect(vaultDone.tags).toEqual(vaultBefore.tags)
    const siteDone = fake.getSite(RG, app)!
    expect(siteDone.identity?.userAssignedIdentities).toEqual(siteBefore.identity?.userAssignedIdentities)
    expect(siteDone.tags).toEqual(siteBefore.tags)
    expect(siteDone.properties.siteConfig).toEqual(siteBefore.properties.siteConfig)
  })

  it('the role assignment refused after the identity was turned on (RBAC): a re-run only assigns the role', async () => {
    const { app, vault, inputs } = seed({ rbac: true })
    const vaultId = fake.getVault(RG, vault)!.id
    fake.addFault({
      server: 'arm',
      method: 'PUT',
      path: '/roleAssignments/',
      status: 403,
      body: {
        error: {
          code: 'AuthorizationFailed',
          message: `The client '${fake.clientId}' with object id '${OTHER}' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '${vaultId}/providers/Microsoft.Authorization/roleAssignments/x' or the scope is invalid.`
        }
      },
      times: 1
    })
    expect(failure(await run(inputs))).toContain('Role Based Access Control Administrator')
    const principalId = fake.getSite(RG, app)!.identity!.principalId!
    fake.clearLog()
    const second = await run(inputs)
    expect(second.error).toBe('')
    expect(second.exitCode).toBe(0)
    expect(armWrites().map((w) => w.replace(/roleAssignments\/.*$/, 'roleAssignments/…'))).toEqual([
      'PUT Microsoft.Authorization/roleAssignments/…'
    ])
    expect(fake.roleAssignments().filter((a) => a.properties.principalId === principalId)).toHaveLength(1)
  })
})

describe('nothing leaked', () => {
  it('successful and failing runs with ACTIONS_STEP_DEBUG=true', async () => {
    const ok = seed()
    // The runner sets RUNNER_DEBUG=1 for a step when ACTIONS_STEP_DEBUG is true.
    const debug = { env: { ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' } }
    const good = await run(ok.inputs, debug)
    expect(good.error).toBe('')
    expect(good.exitCode).toBe(0)
    const bad = seed()
    fake.deny('Microsoft.KeyVault/vaults/accessPolicies/write', fake.getVault(RG, bad.vault)!.id)
    const refused = await run(bad.inputs, debug)
    failure(refused)
    // The Azure SDK's request logging is routed to core.debug, so the scan below covers it too.
    expect(good.stdout).toMatch(/^::debug::.*(request|response)/im)
    expect(refused.stdout).toMatch(/^::debug::.*(request|response)/im)
  })

  it('no OIDC token, access token or request token outside ::add-mask:: in any output of any run', () => {
    expect(runs.length).toBeGreaterThan(40)
    const jwt = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/
    const masked = new Set<string>()
    let maskedJwts = 0
    for (const { run: r } of runs) {
      for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
        const m = /^::add-mask::(.+)$/.exec(line)
        if (!m) continue
        masked.add(m[1])
        if (jwt.test(m[1])) maskedJwts++
      }
    }
    // The OIDC token and the ARM access token are both masked on successful runs.
    expect(maskedJwts).toBeGreaterThan(0)
    expect([...masked].some((v) => /^[\w-]{43}$/.test(v))).toBe(true)

    const leaks: string[] = []
    for (const { name, run: r } of runs) {
      const texts: [string, string][] = [
        ['stdout', r.stdout],
        ['stderr', r.stderr],
        ['summary', r.summary],
        ['outputs', JSON.stringify(r.outputs)],
        ['error', r.error]
      ]
      for (const [where, text] of texts) {
        for (const line of text.split('\n')) {
          if (line.startsWith('::add-mask::')) continue
          if (jwt.test(line)) leaks.push(`${name} ${where}: JWT in '${line.slice(0, 120)}'`)
          if (line.includes(fake.oidcRequestToken)) leaks.push(`${name} ${where}: ACTIONS_ID_TOKEN_REQUEST_TOKEN`)
          for (const secret of masked) {
            if (line.includes(secret)) leaks.push(`${name} ${where}: masked value in '${line.slice(0, 120)}'`)
          }
        }
      }
    }
    expect(leaks).toEqual([])
  })
})
