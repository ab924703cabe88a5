// The site identity PATCH body names only the identity this run changes (ARM checks linked access
// on every identity a body names), and is built from whatever state it is given.
import { describe, expect, it } from '@jest/globals'
import { identityPatch, showsChange } from '../../src/azure/identity-patch.js'
import { app, appWithoutIdentity } from '../fixtures.js'

const UAI = (n: string): string =>
  `/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`
const theirs = UAI('other-team')
const ours = UAI('shop-id')

describe('identityPatch', () => {
  it('turning the system identity on keeps UserAssigned in the type and leaves the map out', () => {
    const current = appWithoutIdentity('api', { identityType: 'UserAssigned', userAssignedIds: [theirs] })
    expect(identityPatch(current, { system: true })).toEqual({ identity: { type: 'SystemAssigned, UserAssigned' } })
  })

  it('turning it off on an app with another team’s identity names no identity', () => {
    const current = app('api', { identityType: 'SystemAssigned, UserAssigned', userAssignedIds: [theirs] })
    expect(identityPatch(current, { system: false })).toEqual({ identity: { type: 'UserAssigned' } })
    expect(identityPatch(app('api'), { system: false })).toEqual({ identity: { type: 'None' } })
  })

  it('attaching names only the new identity, and sets the reference identity in the same body', () => {
    const current = app('api', { identityType: 'SystemAssigned, UserAssigned', userAssignedIds: [theirs] })
    expect(identityPatch(current, { userAssigned: { id: ours, attached: true }, referenceIdentity: ours })).toEqual({
      identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ours]: {} } },
      keyVaultReferenceIdentity: ours
    })
  })

  it('detaching names only that identity, with null; the last one drops UserAssigned from the type instead', () => {
    const both = app('api', {
      identityType: 'SystemAssigned, UserAssigned',
      userAssignedIds: [theirs, ours.toLowerCase()],
      keyVaultReferenceIdentity: ours
    })
    expect(
      identityPatch(both, { userAssigned: { id: ours, attached: false }, referenceIdentity: 'SystemAssigned' })
    ).toEqual({
      // The key as the site holds it.
      identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ours.toLowerCase()]: null } },
      keyVaultReferenceIdentity: 'SystemAssigned'
    })
    const last = appWithoutIdentity('api', { identityType: 'UserAssigned', userAssignedIds: [ours] })
    expect(identityPatch(last, { userAssigned: { id: ours, attached: false } })).toEqual({ identity: { type: 'None' } })
  })

  it('rebuilt from a state another writer left: only what still differs, or nothing', () => {
    const change = { userAssigned: { id: ours, attached: true }, referenceIdentity: ours }
    const attachedByThem = app('api', { identityType: 'SystemAssigned, UserAssigned', userAssignedIds: [ours] })
    expect(identityPatch(attachedByThem, change)).toEqual({ keyVaultReferenceIdentity: ours })
    const done = { ...attachedByThem, keyVaultReferenceIdentity: ours.toUpperCase() }
    expect(showsChange(done, change)).toBe(true)
    expect(identityPatch(done, change)).toBeUndefined()
    expect(identityPatch(app('api'), { system: true })).toBeUndefined()
  })

  it('refuses a state that says UserAssigned but lists no identity', () => {
    const odd = appWithoutIdentity('api', { identityType: 'UserAssigned', userAssignedIds: [] })
    expect(() => identityPatch(odd, { system: true })).toThrow(
      "'api' reports identity type 'UserAssigned' but no user-assigned identities; not changing it."
    )
  })
})
