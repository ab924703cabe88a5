import { describe, expect, it } from '@jest/globals'
import {
  canonicalPermission,
  describePermissions,
  describeWithAll,
  holds,
  isEmpty,
  missingPermissions,
  splitBy,
  suggestPermission,
  VALID_PERMISSIONS
} from '../../src/model/permissions.js'
import { perms } from '../fixtures.js'

describe('canonicalPermission', () => {
  it('matches case-insensitively and returns the service spelling', () => {
    expect(canonicalPermission('keys', 'WrApKeY')).toBe('wrapKey')
    expect(canonicalPermission('keys', 'unwrapkey')).toBe('unwrapKey')
    expect(canonicalPermission('secrets', 'GET')).toBe('get')
    expect(canonicalPermission('certificates', 'MANAGEISSUERS')).toBe('manageissuers')
  })

  it('returns undefined for names of another kind or unknown names', () => {
    expect(canonicalPermission('secrets', 'sign')).toBeUndefined()
    expect(canonicalPermission('storage', 'wrapKey')).toBeUndefined()
    expect(canonicalPermission('secrets', '')).toBeUndefined()
  })

  it('knows the documented name lists', () => {
    expect(VALID_PERMISSIONS.secrets).toEqual([
      'all',
      'get',
      'list',
      'set',
      'delete',
      'backup',
      'restore',
      'recover',
      'purge'
    ])
    expect(VALID_PERMISSIONS.keys).toHaveLength(21)
    expect(VALID_PERMISSIONS.keys).toEqual(
      expect.arrayContaining(['release', 'rotate', 'getrotationpolicy', 'setrotationpolicy'])
    )
    expect(VALID_PERMISSIONS.certificates).toHaveLength(17)
    expect(VALID_PERMISSIONS.storage).toHaveLength(15)
  })
})

describe('holds', () => {
  it('is case-insensitive', () => {
    expect(holds('keys', ['WRAPKEY'], 'wrapKey')).toBe(true)
    expect(holds('secrets', ['Get'], 'get')).toBe(true)
  })

  it("treats a held 'all' as covering every name", () => {
    expect(holds('secrets', ['All'], 'purge')).toBe(true)
    expect(holds('keys', ['all'], 'sign')).toBe(true)
  })

  it("'all' is held only through 'all' or every single name", () => {
    expect(holds('secrets', ['get', 'list'], 'all')).toBe(false)
    const everySecret = VALID_PERMISSIONS.secrets.filter((p) => p !== 'all')
    expect(holds('secrets', everySecret, 'all')).toBe(true)
    expect(holds('secrets', everySecret.slice(1), 'all')).toBe(false)
  })

  it('does not hold a name it was not given', () => {
    expect(holds('secrets', ['get'], 'list')).toBe(false)
    expect(holds('secrets', [], 'get')).toBe(false)
  })
})

describe('missingPermissions', () => {
  it('returns only what is not held, kind by kind', () => {
    const missing = missingPermissions(
      { secrets: ['get'], keys: ['sign'] },
      perms({ secrets: ['get', 'list'], keys: ['sign', 'verify'], certificates: ['get'] })
    )
    expect(missing).toEqual(perms({ secrets: ['list'], keys: ['verify'], certificates: ['get'] }))
  })

  it('returns everything wanted when nothing is held', () => {
    const wanted = perms({ secrets: ['get', 'list'], storage: ['get'] })
    expect(missingPermissions(undefined, wanted)).toEqual(wanted)
  })

  it('returns nothing when all is held', () => {
    expect(isEmpty(missingPermissions({ secrets: ['all'] }, perms({ secrets: ['get', 'list', 'set'] })))).toBe(true)
  })
})

describe('isEmpty / describePermissions', () => {
  it('isEmpty is true only with no names in any kind', () => {
    expect(isEmpty(perms({}))).toBe(true)
    expect(isEmpty(perms({ storage: ['get'] }))).toBe(false)
  })

  it('describes non-empty kinds in order', () => {
    expect(describePermissions(perms({ keys: ['sign'], secrets: ['get', 'list'] }))).toBe(
      'secrets: get, list; keys: sign'
    )
    expect(describePermissions(perms({}))).toBe('nothing')
  })
})

describe('suggestPermission', () => {
  it('suggests the nearest name for typos', () => {
    expect(suggestPermission('secrets', 'gte')).toBe('get')
    expect(suggestPermission('secrets', 'lsit')).toBe('list')
    expect(suggestPermission('keys', 'unwrapkye')).toBe('unwrapKey')
    expect(suggestPermission('keys', 'getrotatonpolicy')).toBe('getrotationpolicy')
  })

  it('suggests nothing for far-off names', () => {
    expect(suggestPermission('secrets', 'administrator')).toBeUndefined()
  })
})

describe('splitBy / describeWithAll', () => {
  it('splits what a role grants into what the revoke covers and the rest, case-insensitively; all covers its kind', () => {
    const granted = perms({ secrets: ['get', 'list', 'set'], keys: ['sign'] })
    expect(splitBy(granted, perms({ secrets: ['GET', 'list'] }))).toEqual({
      covered: perms({ secrets: ['get', 'list'] }),
      rest: perms({ secrets: ['set'], keys: ['sign'] })
    })
    expect(splitBy(granted, perms({ secrets: ['all'], keys: ['all'] })).rest).toEqual(perms({}))
  })

  it("writes a kind that has every one of its names as 'all'", () => {
    const every = VALID_PERMISSIONS.secrets.filter((p) => p !== 'all')
    expect(describeWithAll(perms({ secrets: every, keys: ['sign'] }))).toBe('secrets: all; keys: sign')
    expect(describeWithAll(perms({ secrets: ['get', 'list'] }))).toBe('secrets: get, list')
  })
})
