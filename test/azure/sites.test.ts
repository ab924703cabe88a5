// src/azure/sites.ts with the real App Service SDK and the action's pipeline against the fake.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { RetryBudget } from '../../src/azure/http/budget.js'
import { Sites, webSites } from '../../src/azure/sites.js'
import type { AppTarget } from '../../src/model/targets.js'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { captureCommands, cloudOf, credentialFor } from './helpers.ts'

let fake: FakeAzure
const RG = 'sites-rg'
const UAI = (n: string): string =>
  `/subscriptions/${'0'.repeat(8)}-0000-0000-0000-000000000000/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`
const target = (name: string, slot?: string): AppTarget => ({ name, slot, key: slot ? `${name}/${slot}` : name })
const clientIn = (resourceGroup: string, seconds: number): Sites => {
  const budget = new RetryBudget(seconds)
  return new Sites(webSites(credentialFor(fake), cloudOf(fake), budget, fake.subscriptionId), budget, resourceGroup)
}
const sites = (seconds = 60): Sites => clientIn(RG, seconds)
const output = captureCommands()

beforeAll(async () => {
  fake = await startFakeAzure()
})
afterAll(async () => {
  await fake.close()
})

describe('setSystemIdentity', () => {
  it('PATCHes only identity, keeping UserAssigned in the type and naming no identity (none is dropped); tags stay', async () => {
    fake.addSite({
      resourceGroup: RG,
      name: 'keep',
      tags: { team: 'a' },
      userAssignedIdentities: [UAI('u1'), UAI('u2')]
    })
    const client = sites()
    const before = await client.read(target('keep'))
    fake.clearLog()
    const after = (await client.setSystemIdentity(before, true)).after
    expect(fake.requests.filter((r) => r.method === 'PATCH').map((r) => r.requestBody)).toEqual([
      { identity: { type: 'SystemAssigned, UserAssigned' } }
    ])
    expect(after).toMatchObject({ systemAssigned: true, userAssignedIds: [UAI('u1'), UAI('u2')] })
    expect(after.principalId).toMatch(/^[0-9a-f-]{36}$/)
    expect(fake.getSite(RG, 'keep')!.tags).toEqual({ team: 'a' })
  })

  it('turns a slot off through its own PATCH, leaving production alone', async () => {
    fake.addSite({ resourceGroup: RG, name: 'prod', systemAssigned: true })
    fake.addSlot({ resourceGroup: RG, site: 'prod', slot: 'staging', systemAssigned: true })
    const client = sites()
    const off = (await client.setSystemIdentity(await client.read(target('prod', 'staging')), false)).after
    expect(off.systemAssigned).toBe(false)
    expect(fake.getSite(RG, 'prod')!.identity?.type).toBe('SystemAssigned')
    expect(fake.getSite(RG, 'prod', 'staging')!.identity).toBeUndefined()
  })

  it('waits out 409 "another operation is in progress" (Microsoft.Web shape) with a warning', async () => {
    fake.addSite({ resourceGroup: RG, name: 'busy' })
    fake.addFault({ server: 'arm', method: 'PATCH', path: '/sites/busy', status: 409, times: 2 })
    const client = sites()
    const after = (await client.setSystemIdentity(await client.read(target('busy')), true)).after
    expect(after.principalId).toBeDefined()
    expect(fake.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/busy')).map((r) => r.status)).toEqual([
      409, 409, 200
    ])
    expect(output.warnings()).toEqual([
      expect.stringMatching(
        /Writing the identity of 'busy': another operation is in progress on it \(409 Conflict\)\. Reading it again in 1 s/
      ),
      expect.stringMatching(/Reading it again in 2 s and building the write from what is there then \(attempt 3\)\./)
    ])
  })

  it('fails at once on 409 ScopeLocked, with Azure code and words on the error', async () => {
    fake.addSite({ resourceGroup: 'locked-sites-rg', name: 'locked' })
    fake.addLock(`/subscriptions/${fake.subscriptionId}/resourceGroups/locked-sites-rg`, 'ReadOnly')
    const client = clientIn('locked-sites-rg', 60)
    const app = await client.read(target('locked'))
    fake.clearLog()
    await expect(client.setSystemIdentity(app, true)).rejects.toMatchObject({
      statusCode: 409,
      code: 'ScopeLocked',
      message: expect.stringContaining('because following scope(s) are locked')
    })
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1)
  })

  it("reads Microsoft.Web's own error shape: code and message reach the error", async () => {
    fake.addSite({ resourceGroup: RG, name: 'web-error' })
    fake.addFault({ server: 'arm', method: 'PATCH', path: '/sites/web-error', status: 400, times: 1 })
    const client = sites()
    await expect(client.setSystemIdentity(await client.read(target('web-error')), true)).rejects.toMatchObject({
      statusCode: 400,
      code: 'Error',
      message: 'Injected fault with status 400.'
    })
  })

  it.each([
    ['with the old site as body', false],
    ['without a body', true]
  ])('202 Accepted %s: waits until the site shows the new identity', async (_how, emptyBody) => {
    const name = emptyBody ? 'async-empty' : 'async-body'
    fake.addSite({ resourceGroup: RG, name, asyncUpdates: { delayMs: 1200, emptyBody } })
    const client = sites()
    const before = await client.read(target(name))
    fake.clearLog()
    const after = (await client.setSystemIdentity(before, true)).after
    expect(after.principalId).toBe(fake.getSite(RG, name)!.identity?.principalId)
    const calls = fake.requests.map((r) => `${r.method} ${r.status}`)
    expect(calls[0]).toBe('PATCH 202')
    expect(calls.slice(1).every((c) => c === 'GET 200')).toBe(true)
    expect(calls.length).toBeGreaterThanOrEqual(2)
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1) // never patched twice
  })

  it('202 and turning off: waits until the identity is gone', async () => {
    fake.addSite({ resourceGroup: RG, name: 'async-off', systemAssigned: true, asyncUpdates: { delayMs: 300 } })
    const client = sites()
    const off = (await client.setSystemIdentity(await client.read(target('async-off')), false)).after
    expect(off.systemAssigned).toBe(false)
  })

  it('a 202 is always confirmed by reading the site: a partial body ({}) is not taken for "identity off"', async () => {
    fake.addSite({ resourceGroup: RG, name: 'async-partial', systemAssigned: true })
    fake.addFault({ server: 'arm', method: 'PATCH', path: '/sites/async-partial', status: 202, body: {} })
    const client = sites(3)
    const app = await client.read(target('async-partial'))
    fake.clearLog()
    // The fault changed nothing: the identity is still on, so the wait ends with the budget.
    await expect(client.setSystemIdentity(app, false)).rejects.toThrow(
      /Azure accepted turning off the system-assigned identity of 'async-partial'/
    )
    expect(fake.requests.filter((r) => r.method === 'GET').length).toBeGreaterThan(0)
  })

  it('202 that never shows within the budget: fails saying the change was accepted and the run is safe to repeat', async () => {
    fake.addSite({ resourceGroup: RG, name: 'async-slow', asyncUpdates: { delayMs: 60_000 } })
    const client = sites(3)
    const app = await client.read(target('async-slow'))
    await expect(client.setSystemIdentity(app, true)).rejects.toThrow(
      /Azure accepted turning on the system-assigned identity of 'async-slow' \(202 Accepted\), but the site did not show the change within 'retry-timeout' \(3 s\)/
    )
  })
})

describe('changeIdentity', () => {
  it("attaches an identity and makes it the reference identity in one PATCH, naming neither another team's identity", async () => {
    const theirs = fake.addUserAssignedIdentity({ resourceGroup: RG, name: 'their-id' })
    const ours = fake.addUserAssignedIdentity({ resourceGroup: RG, name: 'our-id' })
    fake.addSite({ resourceGroup: RG, name: 'shared', systemAssigned: true, userAssignedIdentities: [theirs.id] })
    // The sign-in identity may not assign theirs: a body naming it would fail with 403.
    fake.deny('Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', theirs.id)
    const client = sites()
    const before = await client.read(target('shared'))
    fake.clearLog()
    const { after, written } = await client.changeIdentity(before, {
      userAssigned: { id: ours.id, attached: true },
      referenceIdentity: ours.id
    })
    expect(written).toBe(true)
    expect(fake.requests.filter((r) => r.method === 'PATCH').map((r) => r.requestBody)).toEqual([
      {
        identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ours.id]: {} } },
        properties: { keyVaultReferenceIdentity: ours.id }
      }
    ])
    expect(after.userAssignedIds.map((id) => id.toLowerCase()).sort()).toEqual(
      [theirs.id, ours.id].map((id) => id.toLowerCase()).sort()
    )
    expect(after.keyVaultReferenceIdentity).toBe(ours.id)
    expect(fake.restarts(RG, 'shared')).toBe(1)
    // Turning the system identity off names no user-assigned identity either.
    await client.setSystemIdentity(after, false)
    expect(fake.getSite(RG, 'shared')!.identity?.type).toBe('UserAssigned')
  })

  it('an attached identity that was deleted: a clear error naming it, with the fix', async () => {
    const gone = fake.addUserAssignedIdentity({ resourceGroup: RG, name: 'gone-id' })
    fake.addSite({ resourceGroup: RG, name: 'orphan', userAssignedIdentities: [gone.id] })
    fake.deleteUserAssignedIdentity(gone.id)
    const client = sites()
    const app = await client.read(target('orphan'))
    await expect(client.setSystemIdentity(app, true)).rejects.toMatchObject({
      name: 'DeletedIdentityAttachedError',
      message: expect.stringContaining(
        `still lists user-assigned identity ${gone.id.toLowerCase()}, which no longer exists`
      )
    })
  })
})

describe('data from Azure is checked before use', () => {
  it('refuses a principal id that is not a GUID', async () => {
    fake.addSite({ resourceGroup: RG, name: 'odd' })
    const body = {
      id: `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/sites/odd`,
      name: 'odd',
      identity: { type: 'SystemAssigned', principalId: '../../evil', tenantId: fake.tenantId }
    }
    fake.addFault({ server: 'arm', method: 'GET', path: '/sites/odd', status: 200, body })
    await expect(sites().read(target('odd'))).rejects.toThrow(
      "Azure returned the principal id of 'odd' '../../evil', which is not a GUID; not using it."
    )
  })

  it('refuses a user-assigned identity id that is not one (it would go back into the PATCH body)', async () => {
    fake.addSite({ resourceGroup: RG, name: 'odd-uai' })
    const body = {
      id: `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Web/sites/odd-uai`,
      name: 'odd-uai',
      identity: { type: 'UserAssigned', userAssignedIdentities: { '/subscriptions/x/resourceGroups/y': {} } }
    }
    fake.addFault({ server: 'arm', method: 'GET', path: '/sites/odd-uai', status: 200, body })
    await expect(sites().read(target('odd-uai'))).rejects.toThrow(/Azure returned a user-assigned identity id/)
  })
})
