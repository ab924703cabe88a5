import { describe, expect, it } from '@jest/globals'
import { formatIdentityType, parseIdentityType, withSystemAssigned } from '../../src/model/identity-type.js'

describe('parseIdentityType', () => {
  it.each([
    [undefined, false, false],
    ['None', false, false],
    ['SystemAssigned', true, false],
    ['UserAssigned', false, true],
    ['SystemAssigned, UserAssigned', true, true],
    ['systemassigned,userassigned', true, true],
    ['UserAssigned ,  SystemAssigned', true, true],
    ['SYSTEMASSIGNED', true, false]
  ])('%s → system %s, user %s', (type, system, user) => {
    expect(parseIdentityType(type)).toEqual({ system, user })
  })
})

describe('formatIdentityType', () => {
  it('spells every combination as ARM does', () => {
    expect(formatIdentityType({ system: false, user: false })).toBe('None')
    expect(formatIdentityType({ system: true, user: false })).toBe('SystemAssigned')
    expect(formatIdentityType({ system: false, user: true })).toBe('UserAssigned')
    expect(formatIdentityType({ system: true, user: true })).toBe('SystemAssigned, UserAssigned')
  })
})

describe('withSystemAssigned', () => {
  it('turns the system identity on and keeps user-assigned identities', () => {
    expect(withSystemAssigned('UserAssigned', true)).toBe('SystemAssigned, UserAssigned')
    expect(withSystemAssigned('userassigned', true)).toBe('SystemAssigned, UserAssigned')
  })

  it('turns it on from nothing', () => {
    expect(withSystemAssigned(undefined, true)).toBe('SystemAssigned')
    expect(withSystemAssigned('None', true)).toBe('SystemAssigned')
  })

  it('is a no-op change when already on', () => {
    expect(withSystemAssigned('SystemAssigned', true)).toBe('SystemAssigned')
    expect(withSystemAssigned('SystemAssigned, UserAssigned', true)).toBe('SystemAssigned, UserAssigned')
  })

  it('turns it off keeping user-assigned identities', () => {
    expect(withSystemAssigned('SystemAssigned, UserAssigned', false)).toBe('UserAssigned')
    expect(withSystemAssigned('SystemAssigned', false)).toBe('None')
  })
})
