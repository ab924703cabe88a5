import { describe, expect, it } from '@jest/globals'
import {
  heldPermissions,
  isAtOrAbove,
  makePlan,
  MAX_ACCESS_POLICIES,
  PlanError,
  resolveModel
} from '../../src/plan/plan.js'
import { describeChange } from '../../src/model/change-text.js'
import { type Change } from '../../src/model/changes.js'
import { ConditionedAssignmentError, ROLES, StorageOnRbacVaultError } from '../../src/model/roles.js'
import type { Wanted } from '../../src/plan/plan.js'
import {
  app,
  appWithoutIdentity,
  assignment,
  OTHER_TENANT,
  perms,
  policy,
  PRINCIPAL,
  PRINCIPAL_2,
  state,
  SUB,
  TENANT,
  vault,
  vaultId
} from '../fixtures.js'

const wanted = (p = perms({ secrets: ['get', 'list'] }), accessModel: Wanted['accessModel'] = 'auto'): Wanted => ({
  permissions: p,
  accessModel
})
const ofKind = <K extends Change['kind']>(changes: Change[], kind: K) =>
  changes.filter((c): c is Extract<Change, { kind: K }> => c.kind === kind)

describe('makePlan: already satisfied → zero changes', () => {
  it('access-policy vault: identity on, all permissions held', () => {
    const plan = makePlan(
      wanted(perms({ secrets: ['get', 'list'], keys: ['sign'] })),
      state(
        [app('api')],
        [vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list', 'set'], keys: ['sign'] })] })]
      )
    )
    expect(plan.changes).toEqual([])
    expect(plan.grants).toEqual([
      { app: 'api', vault: 'kv', model: 'access-policy', requested: 'secrets: get, list; keys: sign', delta: '' }
    ])
  })

  it('RBAC vault: identity on, role held at the vault', () => {
    const kv = vault('kv', { rbac: true })
    const plan = makePlan(wanted(), state([app('api')], [kv], { [kv.id]: [assignment(kv.id, ROLES.secretsUser.guid)] }))
    expect(plan.changes).toEqual([])
    expect(plan.grants).toEqual([
      { app: 'api', vault: 'kv', model: 'rbac', requested: 'Key Vault Secrets User', delta: '' }
    ])
  })

  it('several apps and vaults of both models, all satisfied', () => {
    const ap = vault('kv-ap', {
      accessPolicies: [policy(PRINCIPAL, { secrets: ['all'] }), policy(PRINCIPAL_2, { secrets: ['get', 'list'] })]
    })
    const rb = vault('kv-rb', { rbac: true })
    const plan = makePlan(
      wanted(),
      state([app('api'), app('web', { principalId: PRINCIPAL_2 })], [ap, rb], {
        [rb.id]: [
          assignment(rb.id, ROLES.secretsUser.guid, PRINCIPAL),
          assignment(rb.id, ROLES.administrator.guid, PRINCIPAL_2)
        ]
      })
    )
    expect(plan.changes).toEqual([])
    expect(plan.grants).toHaveLength(4)
    expect(plan.grants.every((g) => g.delta === '')).toBe(true)
  })
})

describe('makePlan: identity', () => {
  it('plans enable-identity for an app without a system identity', () => {
    const plan = makePlan(wanted(), state([appWithoutIdentity('api')], [vault('kv')]))
    expect(ofKind(plan.changes, 'enable-identity')).toEqual([
      { kind: 'enable-identity', app: 'api', from: 'None', to: 'SystemAssigned', keepsUserAssigned: 0 }
    ])
  })

  it('keeps user-assigned identities when turning the system one on', () => {
    const uai = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/'
    const plan = makePlan(
      wanted(),
      state(
        [appWithoutIdentity('api', { identityType: 'UserAssigned', userAssignedIds: [`${uai}a`, `${uai}b`] })],
        [vault('kv')]
      )
    )
    expect(ofKind(plan.changes, 'enable-identity')).toEqual([
      {
        kind: 'enable-identity',
        app: 'api',
        from: 'UserAssigned',
        to: 'SystemAssigned, UserAssigned',
        keepsUserAssigned: 2
      }
    ])
    expect(describeChange(plan.changes[0])).toContain('keeping 2 user-assigned')
  })

  it('does not plan enable-identity when the system identity is on', () => {
    const plan = makePlan(
      wanted(),
      state([app('api', { identityType: 'SystemAssigned, UserAssigned', userAssignedIds: ['x'] })], [vault('kv')])
    )
    expect(ofKind(plan.changes, 'enable-identity')).toEqual([])
  })

  it('new identity on an access-policy vault: enable + grant with undefined principalId, identity first', () => {
    const kv = vault('kv')
    const plan = makePlan(wanted(), state([appWithoutIdentity('api')], [kv]))
    expect(plan.changes.map((c) => c.kind)).toEqual(['enable-identity', 'add-access-policy'])
    expect(plan.changes[1]).toEqual({
      kind: 'add-access-policy',
      vault: 'kv',
      vaultId: kv.id,
      entries: [
        { app: 'api', principalId: undefined, tenantId: TENANT, permissions: perms({ secrets: ['get', 'list'] }) }
      ]
    })
    expect(describeChange(plan.changes[1])).toContain('api (new identity) secrets: get, list')
  })

  it('new identity on an RBAC vault: enable + assign-role with undefined principalId', () => {
    const kv = vault('kv', { rbac: true })
    const plan = makePlan(wanted(perms({ secrets: ['get'], keys: ['sign'] })), state([appWithoutIdentity('api')], [kv]))
    expect(plan.changes.map((c) => c.kind)).toEqual(['enable-identity', 'assign-role', 'assign-role'])
    const roles = ofKind(plan.changes, 'assign-role')
    expect(roles.map((r) => [r.principalId, r.role.name, r.app, r.vaultId])).toEqual([
      [undefined, 'Key Vault Secrets User', 'api', kv.id],
      [undefined, 'Key Vault Crypto User', 'api', kv.id]
    ])
    expect(roles[0].roleDefinitionId).toBe(
      `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${ROLES.secretsUser.guid}`
    )
    expect(describeChange(roles[0])).toBe("assign 'Key Vault Secrets User' on vault kv to api (new identity)")
  })
})

describe('makePlan: access-policy diff', () => {
  it('plans only the missing permissions, in one add per vault', () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get'], keys: ['sign'] })] })
    const plan = makePlan(
      wanted(perms({ secrets: ['get', 'list'], keys: ['sign', 'verify'], certificates: ['get'] })),
      state([app('api')], [kv])
    )
    expect(plan.changes).toEqual([
      {
        kind: 'add-access-policy',
        vault: 'kv',
        vaultId: kv.id,
        entries: [
          {
            app: 'api',
            principalId: PRINCIPAL,
            tenantId: TENANT,
            permissions: perms({ secrets: ['list'], keys: ['verify'], certificates: ['get'] })
          }
        ]
      }
    ])
    expect(plan.grants[0].delta).toBe('secrets: list; keys: verify; certificates: get')
  })

  it("treats a held 'all' as covering every requested name", () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['all'], keys: ['all'] })] })
    const plan = makePlan(wanted(perms({ secrets: ['get', 'purge'], keys: ['release'] })), state([app('api')], [kv]))
    expect(plan.changes).toEqual([])
  })

  it('ignores compound entries (objectId + applicationId)', () => {
    const kv = vault('kv', {
      accessPolicies: [
        policy(PRINCIPAL, { secrets: ['all'] }, { applicationId: '77777777-7777-7777-7777-777777777777' })
      ]
    })
    const plan = makePlan(wanted(), state([app('api')], [kv]))
    expect(ofKind(plan.changes, 'add-access-policy')[0].entries[0].permissions).toEqual(
      perms({ secrets: ['get', 'list'] })
    )
  })

  it('matches the objectId case-insensitively', () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL.toUpperCase(), { secrets: ['GET', 'List'] })] })
    expect(makePlan(wanted(), state([app('api')], [kv])).changes).toEqual([])
  })

  it("merges a principal's several own entries", () => {
    const kv = vault('kv', {
      accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] }), policy(PRINCIPAL, { secrets: ['list'] })]
    })
    expect(makePlan(wanted(), state([app('api')], [kv])).changes).toEqual([])
  })

  it("does not count other principals' permissions", () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL_2, { secrets: ['all'] })] })
    const plan = makePlan(wanted(), state([app('api')], [kv]))
    expect(ofKind(plan.changes, 'add-access-policy')[0].entries).toHaveLength(1)
  })

  it('carries every app that misses something in one request', () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list'] })] })
    const plan = makePlan(
      wanted(),
      state([app('api'), app('web', { principalId: PRINCIPAL_2 }), appWithoutIdentity('job')], [kv])
    )
    const adds = ofKind(plan.changes, 'add-access-policy')
    expect(adds).toHaveLength(1)
    expect(adds[0].entries.map((e) => [e.app, e.principalId])).toEqual([
      ['web', PRINCIPAL_2],
      ['job', undefined]
    ])
  })

  it('heldPermissions returns undefined for a principal with only compound entries', () => {
    expect(
      heldPermissions([policy(PRINCIPAL, { secrets: ['get'] }, { applicationId: 'x' })], PRINCIPAL)
    ).toBeUndefined()
    expect(heldPermissions([policy(PRINCIPAL, { secrets: ['get'] })], PRINCIPAL.toUpperCase())).toEqual(
      perms({ secrets: ['get'] })
    )
  })
})

describe('makePlan: the 1024 access-policy limit', () => {
  const full = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      policy(`bbbbbbbb-0000-0000-0000-${String(i).padStart(12, '0')}`, { secrets: ['get'] })
    )

  it('fails before writing when a new principal would pass the limit', () => {
    const kv = vault('kv', { accessPolicies: full(MAX_ACCESS_POLICIES) })
    expect(MAX_ACCESS_POLICIES).toBe(1024)
    expect(() => makePlan(wanted(), state([app('api')], [kv]))).toThrow(PlanError)
    expect(() => makePlan(wanted(), state([app('api')], [kv]))).toThrow(
      /Key Vault 'kv' has 1024 access policies; adding 1 more would pass the limit of 1024\.[\s\S]*enable-rbac-authorization true/
    )
  })

  it('allows filling the last slot', () => {
    const kv = vault('kv', { accessPolicies: full(MAX_ACCESS_POLICIES - 1) })
    expect(ofKind(makePlan(wanted(), state([app('api')], [kv])).changes, 'add-access-policy')).toHaveLength(1)
  })

  it('counts every new principal in the run', () => {
    const kv = vault('kv', { accessPolicies: full(MAX_ACCESS_POLICIES - 1) })
    expect(() => makePlan(wanted(), state([app('api'), app('web', { principalId: PRINCIPAL_2 })], [kv]))).toThrow(
      /adding 2 more/
    )
  })

  it('does not count a principal that already has an entry (the service merges it)', () => {
    const kv = vault('kv', {
      accessPolicies: [...full(MAX_ACCESS_POLICIES - 1), policy(PRINCIPAL, { secrets: ['get'] })]
    })
    const plan = makePlan(wanted(), state([app('api')], [kv]))
    expect(ofKind(plan.changes, 'add-access-policy')[0].entries[0].permissions.secrets).toEqual(['list'])
  })
})

describe('makePlan: RBAC', () => {
  const kv = vault('kv', { rbac: true })
  const rg = `/subscriptions/${SUB}/resourceGroups/vault-rg`

  it('plans one assignment per missing role with the principal id', () => {
    const plan = makePlan(
      wanted(perms({ secrets: ['get'], certificates: ['get'] })),
      state([app('api')], [kv], { [kv.id]: [assignment(kv.id, ROLES.secretsUser.guid)] })
    )
    const roles = ofKind(plan.changes, 'assign-role')
    expect(roles.map((r) => [r.role.guid, r.principalId])).toEqual([[ROLES.certificateUser.guid, PRINCIPAL]])
    expect(plan.grants[0]).toEqual({
      app: 'api',
      vault: 'kv',
      model: 'rbac',
      requested: 'Key Vault Secrets User, Key Vault Certificate User',
      delta: 'Key Vault Certificate User'
    })
  })

  it.each([
    ['resource group', rg],
    ['subscription', `/subscriptions/${SUB}`],
    ['root', '/'],
    ['management group', '/providers/Microsoft.Management/managementGroups/contoso']
  ])('a role held at the parent %s scope satisfies', (_, scope) => {
    const plan = makePlan(wanted(), state([app('api')], [kv], { [kv.id]: [assignment(scope, ROLES.secretsUser.guid)] }))
    expect(plan.changes).toEqual([])
  })

  it.each([
    ['Secrets Officer', ROLES.secretsOfficer.guid],
    ['Administrator', ROLES.administrator.guid]
  ])('a stronger role (%s) satisfies', (_, guid) => {
    const plan = makePlan(wanted(), state([app('api')], [kv], { [kv.id]: [assignment(rg, guid)] }))
    expect(plan.changes).toEqual([])
  })

  it('a role at a sibling or child scope does not satisfy', () => {
    const plan = makePlan(
      wanted(),
      state([app('api')], [kv], {
        [kv.id]: [
          assignment(`${kv.id}-other`, ROLES.secretsUser.guid),
          assignment(`${kv.id}/secrets/one`, ROLES.secretsUser.guid),
          assignment(`/subscriptions/${SUB}/resourceGroups/vault-rg2`, ROLES.secretsUser.guid)
        ]
      })
    )
    expect(ofKind(plan.changes, 'assign-role')).toHaveLength(1)
  })

  it("another principal's role does not satisfy; principal ids compare case-insensitively", () => {
    expect(
      makePlan(
        wanted(),
        state([app('api')], [kv], { [kv.id]: [assignment(kv.id, ROLES.secretsUser.guid, PRINCIPAL_2)] })
      ).changes
    ).toHaveLength(1)
    expect(
      makePlan(
        wanted(),
        state([app('api')], [kv], {
          [kv.id]: [assignment(kv.id.toUpperCase(), ROLES.secretsUser.guid, PRINCIPAL.toUpperCase())]
        })
      ).changes
    ).toEqual([])
  })

  it('a weaker role does not satisfy a stronger one', () => {
    const plan = makePlan(
      wanted(perms({ secrets: ['get', 'set'] })),
      state([app('api')], [kv], { [kv.id]: [assignment(kv.id, ROLES.secretsUser.guid)] })
    )
    expect(ofKind(plan.changes, 'assign-role').map((r) => r.role.name)).toEqual(['Key Vault Secrets Officer'])
  })

  it('storage permissions on an RBAC vault are an error', () => {
    expect(() => makePlan(wanted(perms({ storage: ['get'] })), state([app('api')], [kv]))).toThrow(
      StorageOnRbacVaultError
    )
  })

  it('storage permissions on an access-policy vault are planned', () => {
    const plan = makePlan(wanted(perms({ storage: ['get'] })), state([app('api')], [vault('kv')]))
    expect(ofKind(plan.changes, 'add-access-policy')[0].entries[0].permissions.storage).toEqual(['get'])
  })

  it('isAtOrAbove', () => {
    expect(isAtOrAbove(kv.id, kv.id)).toBe(true)
    expect(isAtOrAbove(`${rg}/`, kv.id)).toBe(true)
    expect(isAtOrAbove(`/subscriptions/${SUB}/resourceGroups/vault`, kv.id)).toBe(false)
    expect(isAtOrAbove(vaultId('kv2'), kv.id)).toBe(false)
  })
})

describe('access-model assertion and tenants', () => {
  it('auto follows the vault', () => {
    expect(resolveModel('auto', vault('kv', { rbac: true }))).toBe('rbac')
    expect(resolveModel('auto', vault('kv'))).toBe('access-policy')
  })

  it('asserted rbac on an access-policy vault fails with a fix', () => {
    expect(() => makePlan(wanted(undefined, 'rbac'), state([app('api')], [vault('kv')]))).toThrow(PlanError)
    expect(() => resolveModel('rbac', vault('kv'))).toThrow(
      /'access-model' is 'rbac', but Key Vault 'kv' uses access policies[\s\S]*Fix: set 'access-model' to 'access-policy' or 'auto'/
    )
  })

  it('asserted access-policy on an RBAC vault fails with a fix', () => {
    expect(() => resolveModel('access-policy', vault('kv', { rbac: true }))).toThrow(
      /'access-model' is 'access-policy', but Key Vault 'kv' uses Azure RBAC[\s\S]*Fix: set 'access-model' to 'rbac' or 'auto'/
    )
  })

  it('a matching assertion passes', () => {
    expect(resolveModel('rbac', vault('kv', { rbac: true }))).toBe('rbac')
    expect(resolveModel('access-policy', vault('kv'))).toBe('access-policy')
  })

  it.each([false, true])('fails when the identity and the vault are in different tenants (rbac %s)', (rbac) => {
    const kv = vault('kv', { rbac, tenantId: OTHER_TENANT })
    const run = () => makePlan(wanted(), state([app('api')], [kv]))
    expect(run).toThrow(PlanError)
    expect(run).toThrow(
      `The identity of 'api' belongs to tenant ${TENANT}, but Key Vault 'kv' belongs to tenant ${OTHER_TENANT}`
    )
  })

  it('compares tenants case-insensitively', () => {
    const kv = vault('kv', {
      tenantId: TENANT.toUpperCase(),
      accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list'] })]
    })
    expect(makePlan(wanted(), state([app('api')], [kv])).changes).toEqual([])
  })
})

describe('makePlan: conditioned role assignments', () => {
  const kv = vault('kv', { rbac: true })
  const condition = "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'one'"

  it('does not count an inherited assignment with an ABAC condition as holding the role, and assigns it at the vault', () => {
    const rg = kv.id.split('/providers/')[0]
    const conditioned = { ...assignment(rg, ROLES.secretsUser.guid), condition }
    const plan = makePlan(wanted(), state([app('api')], [kv], { [kv.id]: [conditioned] }))
    expect(plan.changes.map((c) => (c.kind === 'assign-role' ? c.role.name : c.kind))).toEqual([
      'Key Vault Secrets User'
    ])
  })

  it('refuses, naming the assignment, when a conditioned one of the same role stands at the vault itself (ARM would answer 409 RoleAssignmentExists)', () => {
    // ARM may spell the scope in another case than the vault's id.
    const conditioned = {
      ...assignment(kv.id, ROLES.secretsUser.guid),
      scope: kv.id.toUpperCase(),
      name: 'c0ffee',
      condition
    }
    const plan = () => makePlan(wanted(), state([app('api')], [kv], { [kv.id]: [conditioned] }))
    expect(plan).toThrow(ConditionedAssignmentError)
    expect(plan).toThrow(PlanError)
    expect(plan).toThrow(
      `'api' (principal ${PRINCIPAL}) cannot be granted 'Key Vault Secrets User' on Key Vault 'kv': it already holds that role there through role assignment c0ffee, which carries an ABAC condition.`
    )
    expect(plan).toThrow(`az role assignment delete --ids ${kv.id}/providers/Microsoft.Authorization/roleAssignments/x`)
  })

  it("a conditioned assignment of another role at the vault does not block this role's assignment", () => {
    const conditioned = { ...assignment(kv.id, ROLES.secretsOfficer.guid), condition }
    const plan = makePlan(wanted(), state([app('api')], [kv], { [kv.id]: [conditioned] }))
    expect(plan.changes.map((c) => c.kind)).toEqual(['assign-role'])
  })
})
