import { beforeEach, describe, expect, it, jest } from '@jest/globals'

const warning = jest.fn()
jest.unstable_mockModule('@actions/core', () => ({ warning, info: jest.fn(), debug: jest.fn() }))
const createWebSiteManagement = jest.fn(() => ({ fake: 'context' }))
jest.unstable_mockModule('@azure/arm-appservice/api', () => ({ createWebSiteManagement }))
const get = jest.fn<(...a: unknown[]) => Promise<unknown>>()
const getSlot = jest.fn<(...a: unknown[]) => Promise<unknown>>()
const update = jest.fn<(...a: unknown[]) => Promise<unknown>>()
const updateSlot = jest.fn<(...a: unknown[]) => Promise<unknown>>()
jest.unstable_mockModule('@azure/arm-appservice/api/webApps', () => ({ get, getSlot, update, updateSlot }))

const { Sites, toAppState } = await import('../src/azure/sites.js')
const { RetryBudget } = await import('../src/azure/pipeline.js')
const { settings, target, PRINCIPAL, TENANT } = await import('./fixtures.js')

const UAI = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/'
const credential = { getToken: jest.fn(async () => null) }
const sites = () => new Sites(credential, settings().cloud, new RetryBudget(60), 'sub', 'rg')
const site = (identity?: object) => ({
  id: '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Web/sites/api',
  kind: 'functionapp,linux',
  identity
})

beforeEach(() => {
  jest.clearAllMocks()
})

describe('toAppState', () => {
  it('reads a site with both identities', () => {
    const state = toAppState(
      target('api'),
      site({
        type: 'SystemAssigned, UserAssigned',
        principalId: PRINCIPAL,
        tenantId: TENANT,
        userAssignedIdentities: { [`${UAI}a`]: {}, [`${UAI}b`]: {} }
      }) as never
    )
    expect(state).toEqual({
      target: target('api'),
      id: '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Web/sites/api',
      kind: 'functionapp,linux',
      identityType: 'SystemAssigned, UserAssigned',
      systemAssigned: true,
      userAssignedIds: [`${UAI}a`, `${UAI}b`],
      principalId: PRINCIPAL,
      tenantId: TENANT
    })
  })

  it('a site without identity has none', () => {
    expect(toAppState(target('api'), site() as never)).toEqual(
      expect.objectContaining({
        identityType: 'None',
        systemAssigned: false,
        userAssignedIds: [],
        principalId: undefined
      })
    )
  })

  it('ignores a principal id when the system identity is off', () => {
    const state = toAppState(
      target('api'),
      site({ type: 'UserAssigned', principalId: 'stale', userAssignedIdentities: { [`${UAI}a`]: {} } }) as never
    )
    expect(state.principalId).toBeUndefined()
    expect(state.userAssignedIds).toEqual([`${UAI}a`])
  })
})

describe('Sites', () => {
  it('reads a site or a slot with GETs', async () => {
    get.mockResolvedValue(site({ type: 'None' }))
    getSlot.mockResolvedValue(site({ type: 'None' }))
    await sites().read(target('api'))
    await sites().read(target('api', 'staging'))
    expect(get).toHaveBeenCalledWith({ fake: 'context' }, 'rg', 'api')
    expect(getSlot).toHaveBeenCalledWith({ fake: 'context' }, 'rg', 'api', 'staging')
  })

  it('PATCHes only identity, keeping every user-assigned identity', async () => {
    update.mockResolvedValue(
      site({
        type: 'SystemAssigned, UserAssigned',
        principalId: PRINCIPAL,
        tenantId: TENANT,
        userAssignedIdentities: { [`${UAI}a`]: {} }
      })
    )
    const app = toAppState(
      target('api'),
      site({ type: 'UserAssigned', userAssignedIdentities: { [`${UAI}a`]: {}, [`${UAI}b`]: {} } }) as never
    )
    const after = await sites().setSystemIdentity(app, true)
    expect(update).toHaveBeenCalledTimes(1)
    expect(update.mock.calls[0].slice(1)).toEqual([
      'rg',
      'api',
      {
        identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [`${UAI}a`]: {}, [`${UAI}b`]: {} } }
      }
    ])
    expect(after.principalId).toBe(PRINCIPAL)
  })

  it('PATCHes a slot through updateSlot, without userAssignedIdentities when there are none', async () => {
    updateSlot.mockResolvedValue(site({ type: 'SystemAssigned', principalId: PRINCIPAL }))
    const app = toAppState(target('api', 'staging'), site() as never)
    await sites().setSystemIdentity(app, true)
    expect(update).not.toHaveBeenCalled()
    expect(updateSlot.mock.calls[0].slice(1)).toEqual([
      'rg',
      'api',
      'staging',
      { identity: { type: 'SystemAssigned' } }
    ])
  })

  it('retries 409 Conflict with a warning', async () => {
    jest.useFakeTimers({ now: Date.now() })
    try {
      update
        .mockRejectedValueOnce(Object.assign(new Error('Conflict'), { statusCode: 409, code: 'Conflict' }))
        .mockResolvedValueOnce(site({ type: 'SystemAssigned', principalId: PRINCIPAL }))
      const done = sites().setSystemIdentity(toAppState(target('api'), site() as never), true)
      await jest.advanceTimersByTimeAsync(1000)
      expect((await done).principalId).toBe(PRINCIPAL)
      expect(update).toHaveBeenCalledTimes(2)
      expect(warning).toHaveBeenCalledWith(expect.stringContaining('409 Conflict'))
    } finally {
      jest.useRealTimers()
    }
  })

  it('does not retry other errors', async () => {
    update.mockRejectedValueOnce(Object.assign(new Error('Forbidden'), { statusCode: 403 }))
    await expect(sites().setSystemIdentity(toAppState(target('api'), site() as never), true)).rejects.toThrow(
      'Forbidden'
    )
    expect(update).toHaveBeenCalledTimes(1)
  })
})
