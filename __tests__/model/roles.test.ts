import { createHash } from 'node:crypto'
import { describe, expect, it } from '@jest/globals'
import {
  assignmentName,
  conditionedAssignment,
  isSatisfied,
  keyVaultRole,
  roleDefinitionId,
  roleGuidOf,
  ROLES,
  rolesFor,
  StorageOnRbacVaultError
} from '../../src/model/roles.js'
import { VALID_PERMISSIONS } from '../../src/model/permissions.js'
import { perms, SUB } from '../fixtures.js'

const names = (p: Parameters<typeof rolesFor>[0]): string[] => rolesFor(p, 'kv').map((r) => r.name)

describe('rolesFor: permission → least-privileged built-in role', () => {
  it('uses the documented built-in role ids', () => {
    expect(ROLES.secretsUser.guid).toBe('4633458b-17de-408a-b874-0445c86b69e6')
    expect(ROLES.secretsOfficer.guid).toBe('b86a8fe4-44ce-4948-aee5-eccb2c155cd7')
    expect(ROLES.cryptoUser.guid).toBe('12338af0-0e69-4776-bea7-57ae8d297424')
    expect(ROLES.cryptoOfficer.guid).toBe('14b46e9e-c2b7-41b4-b07b-48a6ebf60603')
    expect(ROLES.certificateUser.guid).toBe('db79e9a7-68ee-4b58-9aeb-b90e7c24fcba')
    expect(ROLES.certificatesOfficer.guid).toBe('a4417e6f-fecd-4de8-b567-7b0420556985')
    expect(ROLES.administrator.guid).toBe('00482a5a-887f-4fb3-b363-3b7fe8e74483')
  })

  it('secrets get/list → Secrets User', () => {
    expect(names(perms({ secrets: ['get'] }))).toEqual(['Key Vault Secrets User'])
    expect(names(perms({ secrets: ['get', 'list'] }))).toEqual(['Key Vault Secrets User'])
  })

  it.each(VALID_PERMISSIONS.secrets.filter((p) => p !== 'get' && p !== 'list'))(
    'any secret write (%s) → Secrets Officer',
    (p) => {
      expect(names(perms({ secrets: ['get', p] }))).toEqual(['Key Vault Secrets Officer'])
    }
  )

  it('keys get/list and crypto operations → Crypto User', () => {
    expect(
      names(perms({ keys: ['get', 'list', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'sign', 'verify'] }))
    ).toEqual(['Key Vault Crypto User'])
    expect(names(perms({ keys: ['unwrapKey'] }))).toEqual(['Key Vault Crypto User'])
  })

  it.each([
    'create',
    'update',
    'import',
    'delete',
    'backup',
    'restore',
    'recover',
    'purge',
    'rotate',
    'release',
    'setrotationpolicy',
    'all'
  ])('key management (%s) → Crypto Officer', (p) => {
    expect(names(perms({ keys: ['sign', p] }))).toEqual(['Key Vault Crypto Officer'])
  })

  it('certificates get/list → Certificate User', () => {
    expect(names(perms({ certificates: ['get', 'list'] }))).toEqual(['Key Vault Certificate User'])
  })

  it.each(VALID_PERMISSIONS.certificates.filter((p) => p !== 'get' && p !== 'list'))(
    'certificate management (%s) → Certificates Officer',
    (p) => {
      expect(names(perms({ certificates: [p] }))).toEqual(['Key Vault Certificates Officer'])
    }
  )

  it('one role per requested kind', () => {
    expect(names(perms({ secrets: ['get'], keys: ['sign'], certificates: ['create'] }))).toEqual([
      'Key Vault Secrets User',
      'Key Vault Crypto User',
      'Key Vault Certificates Officer'
    ])
  })

  it('matches case-insensitively', () => {
    expect(names(perms({ keys: ['WRAPKEY'] }))).toEqual(['Key Vault Crypto User'])
  })

  it('no permissions → no roles', () => {
    expect(rolesFor(perms({}), 'kv')).toEqual([])
  })

  it('rejects storage permissions on an RBAC vault with a fix', () => {
    expect(() => rolesFor(perms({ secrets: ['get'], storage: ['get'] }), 'shop-kv')).toThrow(StorageOnRbacVaultError)
    expect(() => rolesFor(perms({ storage: ['get'] }), 'shop-kv')).toThrow(
      /'storage-permissions' cannot be granted on Key Vault 'shop-kv': it uses Azure RBAC[\s\S]*Fix: remove 'storage-permissions'/
    )
  })
})

describe('isSatisfied: stronger roles satisfy weaker ones', () => {
  it('a role satisfies itself, case-insensitively', () => {
    expect(isSatisfied(ROLES.secretsUser, [ROLES.secretsUser.guid.toUpperCase()])).toBe(true)
  })

  it.each([
    [ROLES.secretsUser, ROLES.secretsOfficer],
    [ROLES.cryptoUser, ROLES.cryptoOfficer],
    [ROLES.certificateUser, ROLES.certificatesOfficer]
  ])('%s is satisfied by %s', (weak, strong) => {
    expect(isSatisfied(weak, [strong.guid])).toBe(true)
    expect(isSatisfied(strong, [weak.guid])).toBe(false)
  })

  it('Key Vault Administrator satisfies every data role', () => {
    for (const role of [
      ROLES.secretsUser,
      ROLES.secretsOfficer,
      ROLES.cryptoUser,
      ROLES.cryptoOfficer,
      ROLES.certificateUser,
      ROLES.certificatesOfficer
    ]) {
      expect(isSatisfied(role, [ROLES.administrator.guid])).toBe(true)
    }
  })

  it('roles of other kinds and Reader do not satisfy', () => {
    expect(
      isSatisfied(ROLES.secretsUser, [ROLES.cryptoOfficer.guid, ROLES.certificatesOfficer.guid, ROLES.reader.guid])
    ).toBe(false)
    expect(isSatisfied(ROLES.secretsUser, [])).toBe(false)
  })
})

describe('roleDefinitionId / roleGuidOf', () => {
  it('builds the subscription-scoped role definition id', () => {
    expect(roleDefinitionId(SUB, ROLES.secretsUser)).toBe(
      `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`
    )
  })

  it('reads the GUID back in lower case', () => {
    expect(
      roleGuidOf(
        `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458B-17DE-408A-B874-0445C86B69E6`
      )
    ).toBe(ROLES.secretsUser.guid)
    expect(roleGuidOf('/providers/Microsoft.Authorization/roleDefinitions/abc')).toBe('abc')
  })
})

describe('assignmentName: deterministic role assignment names', () => {
  const scope = `/subscriptions/${SUB}/resourceGroups/vault-rg/providers/Microsoft.KeyVault/vaults/shop-kv`
  const role = ROLES.secretsUser.guid
  const principal = 'aaaaaaaa-0000-0000-0000-000000000001'
  const V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

  it('is a valid version-5 style UUID', () => {
    expect(assignmentName(scope, role, principal)).toMatch(V5)
  })

  it('is stable across calls', () => {
    expect(assignmentName(scope, role, principal)).toBe(assignmentName(scope, role, principal))
  })

  it('is the RFC 4122 version-5 UUID of scope|role|principal in the action namespace, pinned', () => {
    // Independent implementation: SHA-1(namespace bytes + name), version and variant bits set.
    const ns = Buffer.from('5f0d6a0e4c1b4b8e9a516f1f2d0b7c3a', 'hex')
    const bytes = createHash('sha1')
      .update(ns)
      .update(`${scope.toLowerCase()}|${role}|${principal}`)
      .digest()
      .subarray(0, 16)
    bytes[6] = (bytes[6] & 0x0f) | 0x50
    bytes[8] = (bytes[8] & 0x3f) | 0x80
    const hex = bytes.toString('hex')
    const expected = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
    expect(assignmentName(scope, role, principal)).toBe(expected)
    // Pinned: a change of algorithm would make re-runs of older versions create duplicates.
    expect(assignmentName('/subscriptions/s/x', 'r', 'p')).toBe('a661b139-cebd-5e8f-a983-27f610a41a3f')
  })

  it('differs when scope, role or principal differ', () => {
    const base = assignmentName(scope, role, principal)
    const others = [
      assignmentName(`${scope}-2`, role, principal),
      assignmentName(scope, ROLES.secretsOfficer.guid, principal),
      assignmentName(scope, role, 'aaaaaaaa-0000-0000-0000-000000000002')
    ]
    expect(new Set([base, ...others]).size).toBe(4)
    for (const name of others) expect(name).toMatch(V5)
  })

  it('gives the same name for inputs differing only in case', () => {
    expect(assignmentName(scope.toUpperCase(), role.toUpperCase(), principal.toUpperCase())).toBe(
      assignmentName(scope, role, principal)
    )
  })
})

describe('keyVaultRole: what each built-in data role grants, in access-policy names', () => {
  it('user roles grant their read-only names, officer roles every name of their kind', () => {
    expect(keyVaultRole(ROLES.secretsUser.guid)?.grants).toEqual(perms({ secrets: ['get', 'list'] }))
    expect(keyVaultRole(ROLES.secretsOfficer.guid.toUpperCase())?.grants.secrets).toEqual(
      VALID_PERMISSIONS.secrets.filter((p) => p !== 'all')
    )
    expect(keyVaultRole(ROLES.cryptoUser.guid)?.grants.keys).toEqual([
      'get',
      'list',
      'encrypt',
      'decrypt',
      'wrapKey',
      'unwrapKey',
      'sign',
      'verify'
    ])
    expect(keyVaultRole(ROLES.certificateUser.guid)?.grants).toEqual(perms({ certificates: ['get', 'list'] }))
  })

  it('Administrator grants every name of the three kinds, Reader only list; other roles are not Key Vault data roles', () => {
    const admin = keyVaultRole(ROLES.administrator.guid)!.grants
    expect([admin.secrets.length, admin.keys.length, admin.certificates.length, admin.storage.length]).toEqual([
      VALID_PERMISSIONS.secrets.length - 1,
      VALID_PERMISSIONS.keys.length - 1,
      VALID_PERMISSIONS.certificates.length - 1,
      0
    ])
    expect(keyVaultRole(ROLES.reader.guid)?.grants).toEqual(
      perms({ secrets: ['list'], keys: ['list'], certificates: ['list'] })
    )
    expect(keyVaultRole('8e3af657-a8ff-443c-a75c-2fe8c4bcb635')).toBeUndefined() // Owner
  })
})

describe('conditionedAssignment', () => {
  const scope = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv'
  const base = { id: 'i', name: 'n', principalId: 'P', roleDefinitionId: `/x/${ROLES.secretsUser.guid}` }

  it('finds only a conditioned assignment of that role, for that principal, at exactly that scope', () => {
    const hit = { ...base, scope: `${scope.toUpperCase()}/`, condition: 'c' }
    expect(conditionedAssignment([hit], scope, ROLES.secretsUser, 'p')).toBe(hit)
    expect(conditionedAssignment([{ ...hit, condition: undefined }], scope, ROLES.secretsUser, 'p')).toBeUndefined()
    expect(
      conditionedAssignment([{ ...hit, scope: '/subscriptions/s' }], scope, ROLES.secretsUser, 'p')
    ).toBeUndefined()
    expect(conditionedAssignment([hit], scope, ROLES.secretsOfficer, 'p')).toBeUndefined()
    expect(conditionedAssignment([hit], scope, ROLES.secretsUser, 'q')).toBeUndefined()
  })
})
