// The bundled action against what the real service does (each modelled in the fake from specs,
// recorded traffic or issues): case-sensitive accessPolicies/remove, 202 on the site PATCH,
// Microsoft.Web's own error shape, resource locks, assignments inherited from above the
// subscription, older vaults; and what must hold whatever Azure returns.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction, targetInputs, type ActionRun } from './run-action.ts'

let fake: FakeAzure
const RG = 'real-rg'
let counter = 0
const next = (prefix: string): string => `${prefix}-${++counter}`
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6'

beforeAll(async () => {
  fake = await startFakeAzure()
  fake.addResourceGroup(RG)
})
afterAll(async () => fake?.close())
beforeEach(() => fake.clearLog())

const writes = (): string[] =>
  fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET').map((r) => `${r.method} ${r.status}`)
const ok = (run: ActionRun): void => {
  expect(run.error).toBe('')
  expect(run.exitCode).toBe(0)
}
const held = (vault: string, objectId: string): Record<string, string[]> | undefined =>
  fake.getVault(RG, vault)!.properties.accessPolicies.find((p) => p.objectId === objectId)?.permissions as
    Record<string, string[]> | undefined

describe('revoke on access-policy vaults: remove is case-sensitive', () => {
  it('takes back a portal-made `Get, List` in that spelling and confirms it is gone', async () => {
    const app = next('app')
    const vault = next('kv-portal')
    const principalId = fake.addSite({ resourceGroup: RG, name: app, systemAssigned: true }).identity!.principalId!
    const other = randomUUID()
    fake.addVault({
      resourceGroup: RG,
      name: vault,
      accessPolicies: [
        {
          tenantId: fake.tenantId,
          objectId: principalId,
          permissions: { secrets: ['Get', 'List', 'Set'], keys: ['UnwrapKey'] }
        },
        { tenantId: fake.tenantId, objectId: other, permissions: { secrets: ['Get'] } }
      ]
    })
    const run = await runAction(
      fake,
      targetInputs(RG, app, vault, { mode: 'revoke', 'secret-permissions': 'get,list' })
    )
    ok(run)
    expect(held(vault, principalId)).toEqual({ secrets: ['Set'], keys: ['UnwrapKey'] })
    expect(held(vault, other)).toEqual({ secrets: ['Get'] }) // other principals untouched
    const remove = fake.requests.find((r) => r.path.endsWith('/accessPolicies/remove'))!
    expect(remove.requestBody).toMatchObject({
      properties: { accessPolicies: [{ permissions: { secrets: ['Get', 'List'] } }] }
    })
    // Confirmed by a fresh read after the remove.
    const after = fake.requests.slice(fake.requests.indexOf(remove) + 1)
    expect(after.some((r) => r.method === 'GET' && r.path.endsWith(`/vaults/${vault}`))).toBe(true)
    expect(run.stdout).toContain(`::notice::Revoked ${app} on vault ${vault}: secrets: Get, List (access policy).`)
    expect(run.outputs.changed).toBe('true')

    const again = await runAction(
      fake,
      targetInputs(RG, app, vault, { mode: 'revoke', 'secret-permissions': 'get,list' })
    )
    ok(again)
    expect(again.outputs.changed).toBe('false')
  })

  it('fails, naming what is still held, when the vault answers 200 but keeps the permissions', async () => {
    const app = next('app')
    const vault = next('kv-keeps')
    const principalId = fake.addSite({ resourceGroup: RG, name: app, systemAssigned: true }).identity!.principalId!
    fake.addVault({
      resourceGroup: RG,
      name: vault,
      accessPolicies: [{ tenantId: fake.tenantId, objectId: principalId, permissions: { secrets: ['get', 'list'] } }]
    })
    // A 200 that removed nothing (what a remove in another spelling gets from the service).
    fake.addFault({
      server: 'arm',
      method: 'PUT',
      path: '/accessPolicies/remove',
      status: 200,
      body: { properties: { accessPolicies: [] } }
    })
    const run = await runAction(fake, targetInputs(RG, app, vault, { mode: 'revoke', 'retry-timeout': '30' }))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(
      `Key Vault '${vault}' still grants ${app} (${principalId}) secrets: get, list after accessPolicies/remove answered success.`
    )
    expect(run.error).toContain(`az keyvault delete-policy --name ${vault} --object-id ${principalId}`)
    expect(run.stdout).not.toContain('::notice::Revoked')
    expect(run.outputs.changed).toBe('false')
    expect(held(vault, principalId)).toEqual({ secrets: ['get', 'list'] })
  })
})

describe('the site PATCH answers 202 Accepted', () => {
  it.each([
    ['with the old site as body', false],
    ['without a body', true]
  ])('%s: the action waits until the identity shows, then grants as usual', async (_how, emptyBody) => {
    const app = next('aca-fn')
    const vault = next('kv-aca')
    fake.addSite({
      resourceGroup: RG,
      name: app,
      kind: 'functionapp,linux,container,azurecontainerapps',
      asyncUpdates: { delayMs: 1500, emptyBody }
    })
    fake.addVault({ resourceGroup: RG, name: vault })
    const run = await runAction(fake, targetInputs(RG, app, vault))
    ok(run)
    const principalId = fake.getSite(RG, app)!.identity!.principalId!
    expect(run.outputs['principal-id']).toBe(principalId)
    expect(held(vault, principalId)).toEqual({ secrets: ['get', 'list'] })
    expect(fake.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([202])
    expect(run.stdout).toContain(
      `${app}: Azure accepted turning on the system-assigned identity; waiting until the site shows it.`
    )
    const again = await runAction(fake, targetInputs(RG, app, vault))
    ok(again)
    expect(again.outputs.changed).toBe('false')
  })
})

describe("Microsoft.Web's own errors and locks", () => {
  it("a Microsoft.Web 400 reaches the message with its code and Azure's words", async () => {
    const app = next('app')
    const vault = next('kv')
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    fake.addFault({
      server: 'arm',
      method: 'PATCH',
      path: `/sites/${app}`,
      status: 400,
      body: {
        Code: 'BadRequest',
        Message: 'The parameter identity has an invalid value.',
        Target: null,
        Details: [],
        Innererror: null
      }
    })
    const run = await runAction(fake, targetInputs(RG, app, vault))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(`Could not turn on the system-assigned identity of app '${app}'`)
    expect(run.error).toContain('Azure says: BadRequest: The parameter identity has an invalid value.')
    expect(run.error).not.toContain('Unexpected status code')
  })

  it('409 "another operation is in progress" that outlasts retry-timeout is named with Azure\'s words', async () => {
    const app = next('app')
    const vault = next('kv')
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    fake.addFault({ server: 'arm', method: 'PATCH', path: `/sites/${app}`, status: 409, times: Infinity })
    try {
      const run = await runAction(fake, targetInputs(RG, app, vault, { 'retry-timeout': '4' }))
      expect(run.exitCode).toBe(1)
      expect(run.error).toContain(
        "another operation on the resource kept it busy (409 Conflict) until 'retry-timeout' was spent"
      )
      expect(run.error).toContain(
        'Azure says: Conflict: Cannot modify this site because another operation is in progress.'
      )
      expect(run.stdout).toMatch(
        /::warning::Writing the identity of '.*': another operation is in progress on it \(409 Conflict\)\. Reading it again in 1 s/
      )
    } finally {
      fake.clearFaults()
    }
  })

  it('a ReadOnly lock fails at once (one PATCH, no spinning), naming the locked scope and the fix', async () => {
    const rg = next('locked-rg')
    const app = next('app')
    fake.addSite({ resourceGroup: rg, name: app })
    fake.addVault({ resourceGroup: rg, name: next('kv-locked') })
    const group = `/subscriptions/${fake.subscriptionId}/resourceGroups/${rg}`
    fake.addLock(group, 'ReadOnly')
    const run = await runAction(fake, targetInputs(rg, app, `kv-locked-${counter}`, { 'retry-timeout': '60' }))
    expect(run.exitCode).toBe(1)
    expect(run.durationMs).toBeLessThan(15_000)
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1)
    expect(run.error).toContain(`a resource lock on ${group.toLowerCase()} forbids this write (409 ScopeLocked)`)
    expect(run.error).toContain('remove the lock')
    expect(run.stdout).not.toContain('retry 1 in')
  })
})

describe('assignments and vaults as they really come back', () => {
  it.each([
    ['the root `/`', '/'],
    ['a management group', '/providers/Microsoft.Management/managementGroups/platform-e2e']
  ])('a role inherited from %s counts as held: nothing is written', async (_name, scope) => {
    const app = next('app')
    const vault = next('kv-inherited')
    const principalId = fake.addSite({ resourceGroup: RG, name: app, systemAssigned: true }).identity!.principalId!
    fake.addVault({ resourceGroup: RG, name: vault, enableRbacAuthorization: true })
    fake.addManagementGroup('platform-e2e', [fake.subscriptionId])
    fake.addRoleAssignment({ scope, roleDefinitionGuid: SECRETS_USER, principalId })
    const run = await runAction(fake, targetInputs(RG, app, vault))
    ok(run)
    expect(writes()).toEqual([])
    expect(run.outputs.changed).toBe('false')
  })

  it('an older vault without enableRbacAuthorization is granted by access policy', async () => {
    const app = next('app')
    const vault = next('kv-older')
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault, enableRbacAuthorization: null })
    const run = await runAction(fake, targetInputs(RG, app, vault))
    ok(run)
    expect(run.outputs['access-model']).toBe('access-policy')
    expect(held(vault, run.outputs['principal-id'])).toEqual({ secrets: ['get', 'list'] })
  })
})

describe('partial failures', () => {
  it('a new identity in another tenant than the vault fails alone: the other apps are granted', async () => {
    const stranger = next('stranger')
    const friend = next('friend')
    const vault = next('kv-tenant')
    const otherTenant = randomUUID()
    fake.addSite({ resourceGroup: RG, name: stranger, identityTenantId: otherTenant })
    fake.addSite({ resourceGroup: RG, name: friend })
    fake.addVault({ resourceGroup: RG, name: vault })
    const run = await runAction(fake, { ...targetInputs(RG, `${stranger},${friend}`, vault) })
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(
      `The identity of '${stranger}' belongs to tenant ${otherTenant}, but Key Vault '${vault}' belongs to tenant ${fake.tenantId}`
    )
    const ids = JSON.parse(run.outputs['principal-ids']) as Record<string, string>
    expect(held(vault, ids[friend])).toEqual({ secrets: ['get', 'list'] })
    expect(held(vault, ids[stranger])).toBeUndefined()
    expect(run.stdout).toContain(`::notice::Granted ${friend} on vault ${vault}`)
  })

  it('on an RBAC vault with two roles to assign, the mismatch is one error, and the same app still gets its other vault', async () => {
    const stranger = next('stranger')
    const home = next('kv-home')
    const away = next('kv-away')
    const otherTenant = randomUUID()
    fake.addSite({ resourceGroup: RG, name: stranger, identityTenantId: otherTenant })
    fake.addVault({ resourceGroup: RG, name: home, enableRbacAuthorization: true, tenantId: otherTenant })
    fake.addVault({ resourceGroup: RG, name: away, enableRbacAuthorization: true })
    const run = await runAction(fake, {
      ...targetInputs(RG, stranger, `${home},${away}`),
      'secret-permissions': 'get',
      'key-permissions': 'sign'
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout.split('\n').filter((l) => l.startsWith('::error'))).toHaveLength(1)
    expect(run.error).toContain(
      `The identity of '${stranger}' belongs to tenant ${otherTenant}, but Key Vault '${away}'`
    )
    expect(run.error).not.toContain('more failed write')
    const principal = run.outputs['principal-id']
    const granted = fake.roleAssignments().filter((a) => a.properties.principalId === principal)
    expect(granted.map((a) => a.properties.scope.split('/').pop()).sort()).toEqual([home, home])
  })

  it('a role assignment DELETE whose answer was lost (204 on the retry) still counts as revoked', async () => {
    const app = next('app')
    const vault = next('kv-lost')
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault, enableRbacAuthorization: true })
    ok(await runAction(fake, targetInputs(RG, app, vault)))
    fake.clearLog()
    fake.addFault({ server: 'arm', method: 'DELETE', path: '/roleAssignments/', dropAnswer: true })
    const run = await runAction(fake, targetInputs(RG, app, vault, { mode: 'revoke' }))
    ok(run)
    expect(fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([0, 204])
    expect(run.outputs.changed).toBe('true')
    expect(run.stdout).toContain(`::notice::Revoked ${app} on vault ${vault}: role 'Key Vault Secrets User'.`)
    expect(run.summary).toContain('1 change(s) made.')
  })
})

describe('bad input and untrusted answers', () => {
  it.each([
    ['app-name', ','],
    ['vault-name', ', ']
  ])("%s '%s' (unset variables joined) is an input error before any request", async (name, value) => {
    const run = await runAction(fake, { ...targetInputs(RG, 'some-app', 'some-kv'), [name]: value })
    expect(run.exitCode).toBe(1)
    expect(run.error).toMatch(new RegExp(`^Invalid input: '${name}' names nothing`))
    expect(fake.requests).toEqual([])
  })

  it('a vault id that is not the vault asked for is refused before anything is written', async () => {
    const app = next('app')
    const vault = next('kv-asked')
    fake.addSite({ resourceGroup: RG, name: app })
    const record = fake.addVault({ resourceGroup: RG, name: vault, enableRbacAuthorization: true })
    fake.addFault({
      server: 'arm',
      method: 'GET',
      path: `/vaults/${vault}`,
      status: 200,
      body: { ...record, id: `/subscriptions/${fake.subscriptionId}` }
    })
    const run = await runAction(fake, targetInputs(RG, app, vault))
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(
      `Azure returned the vault id '/subscriptions/${fake.subscriptionId}', which is not the id of Key Vault '${vault}'`
    )
    expect(writes()).toEqual([])
  })

  it('a page link to another host is not followed: the token stays home', async () => {
    const app = next('app')
    fake.addSite({ resourceGroup: RG, name: app })
    fake.addFault({
      server: 'arm',
      method: 'GET',
      path: /\/providers\/Microsoft\.KeyVault\/vaults$/,
      status: 200,
      body: { value: [], nextLink: 'https://collector.example/steal?$skiptoken=1' }
    })
    const run = await runAction(fake, { 'app-name': app, 'resource-group': RG, 'vault-name': 'kv-anywhere' })
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain('Refusing to send a request to https://collector.example')
  })

  it('Azure text that looks like a workflow command is printed as text, never run', async () => {
    const app = next('app')
    const vault = next('kv')
    const site = fake.addSite({ resourceGroup: RG, name: app })
    fake.addVault({ resourceGroup: RG, name: vault })
    const evil = 'None\n::set-output name=principal-id::00000000-0000-0000-0000-000000000bad\n  ::add-mask::x'
    fake.addFault({
      server: 'arm',
      method: 'GET',
      path: `/sites/${app}`,
      status: 200,
      body: { ...site, identity: { type: evil } }
    })
    const run = await runAction(fake, targetInputs(RG, app, vault))
    ok(run)
    const commands = run.stdout
      .split('\n')
      .map((l) => l.trimStart())
      .filter((l) => l.startsWith('::'))
    // The injected mask is exactly `::add-mask::x`; the action's own masks of tokens (which may
    // start with `x`) are longer, so the pattern is anchored at the end.
    expect(commands.filter((l) => /^::(set-output|add-mask::x$)/.test(l))).toEqual([])
    expect(run.stdout).toContain('set-output name=principal-id') // shown, defused
    expect(run.outputs['principal-id']).toBe(fake.getSite(RG, app)!.identity!.principalId)
  })
})
