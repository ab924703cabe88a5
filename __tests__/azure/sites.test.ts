import { describe, expect, it } from '@jest/globals'

// toAppState is pure; the client itself is tested against the fake (test/azure/sites.test.ts).
const { toAppState } = await import('../../src/azure/sites.js')
const { target, PRINCIPAL, TENANT } = await import('../fixtures.js')

const UAI = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/'
const site = (identity?: object) => ({
  id: '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Web/sites/api',
  kind: 'functionapp,linux',
  identity
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
      tenantId: TENANT,
      readAt: expect.any(Number)
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
