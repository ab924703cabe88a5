import { describe, expect, it } from '@jest/globals'
import { makeRevokePlan } from '../../src/plan/revoke.js'
import { PlanError, type Wanted } from '../../src/plan/plan.js'
import { describeChange } from '../../src/model/change-text.js'
import { type Change } from '../../src/model/changes.js'
import { assignmentName, ROLES, StorageOnRbacVaultError } from '../../src/model/roles.js'
import type { RoleAssignment } from '../../src/model/state.js'
import {
  app,
  appWithoutIdentity,
  assignment,
  perms,
  policy,
  PRINCIPAL,
  PRINCIPAL_2,
  state,
  TENANT,
  vault
} from '../fixtures.js'

const wanted = (p = perms({ secrets: ['get', 'list'] }), accessModel: Wanted['accessModel'] = 'auto'): Wanted => ({
  permissions: p,
  accessModel
})
const CRYPTO_USER_GRANTS = ['get', 'list', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'sign', 'verify']
const ofKind = <K extends Change['kind']>(changes: Change[], kind: K) =>
  changes.filter((c): c is Extract<Change, { kind: K }> => c.kind === kind)

/** A role assignment under the name this action gives it (what apply creates). */
function ours(vaultIdValue: string, roleGuid: string, principalId = PRINCIPAL): RoleAssignment {
  return {
    ...assignment(vaultIdValue, roleGuid, principalId),
    name: assignmentName(vaultIdValue, roleGuid, principalId)
  }
}

describe('makeRevokePlan: access-policy vaults', () => {
  it('removes exactly the requested permissions the principal holds, in one remove per vault', () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list', 'set'], keys: ['sign'] })] })
    const plan = makeRevokePlan(
      wanted(perms({ secrets: ['get', 'list'], keys: ['verify'] })),
      state([app('api')], [kv]),
      false
    )
    expect(plan.changes).toEqual([
      {
        kind: 'remove-access-policy',
        vault: 'kv',
        vaultId: kv.id,
        entries: [
          { app: 'api', principalId: PRINCIPAL, tenantId: TENANT, permissions: perms({ secrets: ['get', 'list'] }) }
        ]
      }
    ])
    // 'set' and 'sign' were not requested; 'verify' is not held: none of them is touched.
    expect(plan.grants).toEqual([
      {
        app: 'api',
        vault: 'kv',
        model: 'access-policy',
        requested: 'secrets: get, list; keys: verify',
        delta: 'secrets: get, list'
      }
    ])
  })

  it('an already-revoked state plans nothing (re-running writes nothing)', () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['set'] })] })
    const plan = makeRevokePlan(wanted(), state([app('api')], [kv]), false)
    expect(plan.changes).toEqual([])
    expect(plan.grants).toEqual([
      { app: 'api', vault: 'kv', model: 'access-policy', requested: 'secrets: get, list', delta: '' }
    ])
  })

  it('matches held names case-insensitively and removes them in the spelling the vault holds (remove is case-sensitive)', () => {
    const kv = vault('kv', {
      accessPolicies: [policy(PRINCIPAL.toUpperCase(), { secrets: ['GET'], keys: ['WrapKey'] })]
    })
    const plan = makeRevokePlan(
      wanted(perms({ secrets: ['get', 'list'], keys: ['wrapKey'] })),
      state([app('api')], [kv]),
      false
    )
    expect(ofKind(plan.changes, 'remove-access-policy')[0].entries[0].permissions).toEqual(
      perms({ secrets: ['GET'], keys: ['WrapKey'] })
    )
    expect(plan.grants[0].delta).toBe('secrets: GET; keys: WrapKey')
  })

  it('removes every spelling of a name the vault holds twice (Get from the portal, get from the CLI)', () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['Get', 'List', 'get'] })] })
    const plan = makeRevokePlan(wanted(perms({ secrets: ['get'] })), state([app('api')], [kv]), false)
    expect(ofKind(plan.changes, 'remove-access-policy')[0].entries[0].permissions).toEqual(
      perms({ secrets: ['Get', 'get'] })
    )
  })

  it("leaves a held 'all' whole when part of it is asked, and says it is still held instead of 'nothing held'", () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['all'], keys: ['sign'] })] })
    const plan = makeRevokePlan(
      wanted(perms({ secrets: ['get', 'list'], keys: ['sign'] })),
      state([app('api')], [kv]),
      false
    )
    // The keys part is taken as asked; the secrets part of 'all' cannot be.
    expect(ofKind(plan.changes, 'remove-access-policy')[0].entries[0].permissions).toEqual(perms({ keys: ['sign'] }))
    expect(plan.grants[0].delta).toBe('keys: sign')
    expect(plan.grants[0].stillHeld).toEqual([
      {
        grants: 'secrets: get, list',
        through: "its own access-policy entry, which holds 'all' secrets permissions",
        reason:
          "'all' is one name in the entry and cannot lose a part of itself. Fix: set 'secret-permissions' to 'all' to remove them, then apply the secrets permissions it should keep."
      }
    ])
  })

  it("revoking 'all' removes every name the principal holds of that kind", () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list', 'set'], keys: ['sign'] })] })
    const plan = makeRevokePlan(wanted(perms({ secrets: ['all'] })), state([app('api')], [kv]), false)
    expect(ofKind(plan.changes, 'remove-access-policy')[0].entries[0].permissions).toEqual(
      perms({ secrets: ['get', 'list', 'set'] })
    )
  })

  it("never touches another principal's entry or a compound (application + user) entry, and reports the compound one", () => {
    const kv = vault('kv', {
      accessPolicies: [
        policy(PRINCIPAL_2, { secrets: ['get', 'list'] }),
        policy(
          PRINCIPAL,
          { secrets: ['get'], keys: ['sign'] },
          { applicationId: '77777777-7777-7777-7777-777777777777' }
        )
      ]
    })
    const plan = makeRevokePlan(wanted(), state([app('api')], [kv]), false)
    expect(plan.changes).toEqual([])
    expect(plan.grants[0].delta).toBe('')
    expect(plan.grants[0].stillHeld).toEqual([
      {
        grants: 'secrets: get',
        through:
          'the compound access-policy entry of application 77777777-7777-7777-7777-777777777777 with this principal',
        reason:
          'the action manages only the principal’s own entries. Fix: if this access should go too, remove that entry (portal: the vault → Access policies).'
      }
    ])
  })

  it('reports nothing still held when what stays grants none of what is revoked', () => {
    const kv = vault('kv', {
      accessPolicies: [
        policy(PRINCIPAL, { secrets: ['get', 'set'] }),
        policy(PRINCIPAL, { keys: ['sign'] }, { applicationId: '77777777-7777-7777-7777-777777777777' })
      ]
    })
    const plan = makeRevokePlan(wanted(perms({ secrets: ['get'] })), state([app('api')], [kv]), false)
    expect(plan.grants[0]).not.toHaveProperty('stillHeld')
  })

  it('merges several own entries of the principal', () => {
    const kv = vault('kv', {
      accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] }), policy(PRINCIPAL, { secrets: ['list'] })]
    })
    const plan = makeRevokePlan(wanted(), state([app('api')], [kv]), false)
    expect(ofKind(plan.changes, 'remove-access-policy')[0].entries[0].permissions).toEqual(
      perms({ secrets: ['get', 'list'] })
    )
  })

  it('carries every app that holds something in one request, and skips an app without identity', () => {
    const kv = vault('kv', {
      accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] }), policy(PRINCIPAL_2, { secrets: ['list'] })]
    })
    const plan = makeRevokePlan(
      wanted(),
      state([app('api'), app('web', { principalId: PRINCIPAL_2 }), appWithoutIdentity('job')], [kv]),
      false
    )
    const removes = ofKind(plan.changes, 'remove-access-policy')
    expect(removes).toHaveLength(1)
    expect(removes[0].entries.map((e) => [e.app, e.principalId, e.permissions.secrets])).toEqual([
      ['api', PRINCIPAL, ['get']],
      ['web', PRINCIPAL_2, ['list']]
    ])
    expect(plan.grants.map((g) => [g.app, g.delta])).toEqual([
      ['api', 'secrets: get'],
      ['web', 'secrets: list'],
      ['job', '']
    ])
  })

  it('plans one remove per vault, for each vault separately', () => {
    const a = vault('kv-a', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] })] })
    const b = vault('kv-b', { accessPolicies: [] })
    const c = vault('kv-c', { accessPolicies: [policy(PRINCIPAL, { secrets: ['list'] })] })
    const plan = makeRevokePlan(wanted(), state([app('api')], [a, b, c]), false)
    expect(
      ofKind(plan.changes, 'remove-access-policy').map((r) => [r.vault, r.vaultId, r.entries[0].permissions.secrets])
    ).toEqual([
      ['kv-a', a.id, ['get']],
      ['kv-c', c.id, ['list']]
    ])
  })

  it("removal entries carry the vault's tenant", () => {
    const other = '44444444-4444-4444-4444-444444444444'
    const kv = vault('kv', {
      tenantId: other,
      accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] }, { tenantId: other })]
    })
    expect(
      ofKind(makeRevokePlan(wanted(), state([app('api')], [kv]), false).changes, 'remove-access-policy')[0].entries[0]
        .tenantId
    ).toBe(other)
  })

  it('describes a removal for the log', () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list'] })] })
    const [change] = makeRevokePlan(wanted(), state([app('api')], [kv]), false).changes
    expect(describeChange(change)).toBe(
      `remove from the access policies of vault kv: api (${PRINCIPAL}) secrets: get, list`
    )
  })
})

describe('makeRevokePlan: RBAC vaults', () => {
  const kv = vault('kv', { rbac: true })

  it("deletes only the assignments under this action's deterministic names", () => {
    const plan = makeRevokePlan(
      // Everything each user role grants: both are within what is revoked.
      wanted(perms({ secrets: ['get', 'list'], keys: [...CRYPTO_USER_GRANTS] })),
      state([app('api')], [kv], { [kv.id]: [ours(kv.id, ROLES.secretsUser.guid), ours(kv.id, ROLES.cryptoUser.guid)] }),
      false
    )
    expect(plan.changes).toEqual([
      {
        kind: 'delete-role-assignment',
        vault: 'kv',
        vaultId: kv.id,
        app: 'api',
        principalId: PRINCIPAL,
        role: ROLES.secretsUser,
        assignmentName: assignmentName(kv.id, ROLES.secretsUser.guid, PRINCIPAL)
      },
      {
        kind: 'delete-role-assignment',
        vault: 'kv',
        vaultId: kv.id,
        app: 'api',
        principalId: PRINCIPAL,
        role: ROLES.cryptoUser,
        assignmentName: assignmentName(kv.id, ROLES.cryptoUser.guid, PRINCIPAL)
      }
    ])
    expect(plan.grants).toEqual([
      {
        app: 'api',
        vault: 'kv',
        model: 'rbac',
        requested: 'Key Vault Secrets User, Key Vault Crypto User',
        delta: 'Key Vault Secrets User, Key Vault Crypto User'
      }
    ])
  })

  it('leaves an assignment of the same role made by a person or another tool (another name)', () => {
    const theirs = assignment(kv.id, ROLES.secretsUser.guid) // named 'x'
    const plan = makeRevokePlan(wanted(), state([app('api')], [kv], { [kv.id]: [theirs] }), false)
    expect(plan.changes).toEqual([])
    expect(plan.grants[0].delta).toBe('')
  })

  it('leaves an inherited assignment at the resource group, even one named by the same rule for that scope', () => {
    const rg = kv.id.split('/providers/')[0]
    const plan = makeRevokePlan(
      wanted(),
      state([app('api')], [kv], { [kv.id]: [ours(rg, ROLES.secretsUser.guid)] }),
      false
    )
    expect(plan.changes).toEqual([])
  })

  it('matches the assignment name case-insensitively', () => {
    const upper = {
      ...ours(kv.id, ROLES.secretsUser.guid),
      name: assignmentName(kv.id, ROLES.secretsUser.guid, PRINCIPAL).toUpperCase()
    }
    const plan = makeRevokePlan(wanted(), state([app('api')], [kv], { [kv.id]: [upper] }), false)
    expect(ofKind(plan.changes, 'delete-role-assignment')).toHaveLength(1)
    // The DELETE uses the name as computed (lower case).
    expect(ofKind(plan.changes, 'delete-role-assignment')[0].assignmentName).toBe(
      assignmentName(kv.id, ROLES.secretsUser.guid, PRINCIPAL)
    )
  })

  it("finds this action's assignments whatever the case of the vault id", () => {
    const upperId = kv.id.toUpperCase()
    const shouty = vault('kv', { rbac: true, id: upperId })
    const plan = makeRevokePlan(
      wanted(),
      state([app('api')], [shouty], { [upperId]: [ours(kv.id, ROLES.secretsUser.guid)] }),
      false
    )
    expect(ofKind(plan.changes, 'delete-role-assignment')).toHaveLength(1)
  })

  it("deletes one app's assignment and not the other's", () => {
    const plan = makeRevokePlan(
      wanted(),
      state([app('api'), app('web', { principalId: PRINCIPAL_2 })], [kv], {
        [kv.id]: [ours(kv.id, ROLES.secretsUser.guid, PRINCIPAL_2)]
      }),
      false
    )
    expect(ofKind(plan.changes, 'delete-role-assignment').map((c) => [c.app, c.principalId])).toEqual([
      ['web', PRINCIPAL_2]
    ])
    expect(plan.grants.map((g) => [g.app, g.delta])).toEqual([
      ['api', ''],
      ['web', 'Key Vault Secrets User']
    ])
  })

  it('keeps our officer assignment when only part of what it grants is revoked, and says so', () => {
    const officer = ours(kv.id, ROLES.secretsOfficer.guid)
    const plan = makeRevokePlan(
      wanted(),
      state([app('api')], [kv], { [kv.id]: [officer, ours(kv.id, ROLES.cryptoOfficer.guid)] }),
      false
    )
    // get, list asked: the officer role also grants set, delete, …, which another workflow may rely on.
    expect(plan.changes).toEqual([])
    expect(plan.grants[0].delta).toBe('')
    expect(plan.grants[0].stillHeld).toEqual([
      {
        grants: 'secrets: get, list',
        through: `role 'Key Vault Secrets Officer' at scope ${kv.id} (assignment ${officer.name})`,
        reason:
          'this action assigned it, but the role grants more than is being revoked (secrets: all), and revoke takes a role only when all of it is revoked. Fix: to remove it, revoke everything it grants (secrets: all), then apply what the app should keep.'
      }
    ])
  })

  it("deletes our officer assignment when all of its kind is revoked (the access-policy path's 'all')", () => {
    const plan = makeRevokePlan(
      wanted(perms({ secrets: ['all'] })),
      state([app('api')], [kv], {
        [kv.id]: [ours(kv.id, ROLES.secretsUser.guid), ours(kv.id, ROLES.secretsOfficer.guid)]
      }),
      false
    )
    expect(plan.changes.map((c) => (c.kind === 'delete-role-assignment' ? c.role.name : c.kind))).toEqual([
      'Key Vault Secrets User',
      'Key Vault Secrets Officer'
    ])
    expect(plan.grants[0].stillHeld).toBeUndefined()
  })

  it('keeps our user role when only part of it is revoked (get of get, list)', () => {
    const plan = makeRevokePlan(
      wanted(perms({ secrets: ['get'] })),
      state([app('api')], [kv], { [kv.id]: [ours(kv.id, ROLES.secretsUser.guid)] }),
      false
    )
    expect(plan.changes).toEqual([])
    expect(plan.grants[0].stillHeld?.map((h) => h.grants)).toEqual(['secrets: get'])
  })

  it("names every assignment it did not create that still grants what is revoked: a person's, an inherited, a conditioned one, Administrator", () => {
    const rg = kv.id.split('/providers/')[0]
    const person = { ...assignment(kv.id, ROLES.secretsUser.guid), name: 'person', id: `${kv.id}/p/person` }
    const inherited = { ...assignment(rg, ROLES.secretsOfficer.guid), name: 'inherited' }
    const conditioned = { ...assignment(kv.id, ROLES.secretsOfficer.guid), name: 'abac', condition: 'c' }
    const admin = { ...assignment('/', ROLES.administrator.guid), name: 'root' }
    const unrelated = [
      { ...assignment(kv.id, ROLES.cryptoUser.guid), name: 'keys-only' }, // grants none of what is revoked
      { ...assignment(kv.id, ROLES.secretsUser.guid, PRINCIPAL_2), name: 'other-principal' },
      { ...assignment(kv.id, '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'), name: 'owner' } // no data actions
    ]
    const plan = makeRevokePlan(
      wanted(),
      state([app('api')], [kv], {
        [kv.id]: [ours(kv.id, ROLES.secretsUser.guid), person, inherited, conditioned, admin, ...unrelated]
      }),
      false
    )
    expect(ofKind(plan.changes, 'delete-role-assignment').map((c) => c.role.name)).toEqual(['Key Vault Secrets User'])
    expect(plan.grants[0].delta).toBe('Key Vault Secrets User')
    expect(plan.grants[0].stillHeld?.map((h) => [h.grants, h.through])).toEqual([
      ['secrets: get, list', `role 'Key Vault Secrets User' at scope ${kv.id} (assignment person)`],
      ['secrets: get, list', `role 'Key Vault Secrets Officer' at scope ${rg} (assignment inherited)`],
      [
        'secrets: get, list',
        `role 'Key Vault Secrets Officer' at scope ${kv.id} (assignment abac, with an ABAC condition)`
      ],
      ['secrets: get, list', "role 'Key Vault Administrator' at scope / (assignment root)"]
    ])
    expect(plan.grants[0].stillHeld?.[0].reason).toBe(
      `revoke deletes only role assignments this action created. Fix: if this access should go too, delete that assignment (az role assignment delete --ids ${kv.id}/p/person).`
    )
  })

  it('says nothing is still held for an identity that disable-identity turns off', () => {
    const person = { ...assignment(kv.id, ROLES.secretsUser.guid), name: 'person' }
    const plan = makeRevokePlan(wanted(), state([app('api')], [kv], { [kv.id]: [person] }), true)
    expect(plan.grants[0].stillHeld).toBeUndefined()
    expect(plan.changes.map((c) => c.kind)).toEqual(['disable-identity'])
  })

  it('plans nothing for an app without identity', () => {
    const plan = makeRevokePlan(wanted(), state([appWithoutIdentity('api')], [kv]), false)
    expect(plan.changes).toEqual([])
    expect(plan.grants).toEqual([
      { app: 'api', vault: 'kv', model: 'rbac', requested: 'Key Vault Secrets User', delta: '' }
    ])
  })

  it('refuses storage permissions on an RBAC vault, as apply does', () => {
    expect(() => makeRevokePlan(wanted(perms({ storage: ['get'] })), state([app('api')], [kv]), false)).toThrow(
      StorageOnRbacVaultError
    )
  })

  it('describes a deletion for the log', () => {
    const name = assignmentName(kv.id, ROLES.secretsUser.guid, PRINCIPAL)
    const [change] = makeRevokePlan(
      wanted(),
      state([app('api')], [kv], { [kv.id]: [ours(kv.id, ROLES.secretsUser.guid)] }),
      false
    ).changes
    expect(describeChange(change)).toBe(
      `delete the 'Key Vault Secrets User' assignment ${name} on vault kv of api (${PRINCIPAL})`
    )
  })
})

describe('makeRevokePlan: access-model assertion', () => {
  it("fails when 'access-model' does not match the vault", () => {
    expect(() => makeRevokePlan(wanted(undefined, 'rbac'), state([app('api')], [vault('kv')]), false)).toThrow(
      PlanError
    )
    expect(() =>
      makeRevokePlan(wanted(undefined, 'access-policy'), state([app('api')], [vault('kv', { rbac: true })]), false)
    ).toThrow(/'access-model' is 'access-policy', but Key Vault 'kv' uses Azure RBAC/)
  })

  it('a matching assertion plans as auto does', () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] })] })
    const st = state([app('api')], [kv])
    expect(makeRevokePlan(wanted(undefined, 'access-policy'), st, false)).toEqual(makeRevokePlan(wanted(), st, false))
  })
})

describe('makeRevokePlan: disable-identity', () => {
  const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list'] })] })

  it('keeps identities on without disable-identity', () => {
    expect(ofKind(makeRevokePlan(wanted(), state([app('api')], [kv]), false).changes, 'disable-identity')).toEqual([])
  })

  it('turns the system identity off, after the access changes', () => {
    const plan = makeRevokePlan(wanted(), state([app('api')], [kv]), true)
    expect(plan.changes.map((c) => c.kind)).toEqual(['remove-access-policy', 'disable-identity'])
    expect(plan.changes[1]).toEqual({
      kind: 'disable-identity',
      app: 'api',
      from: 'SystemAssigned',
      to: 'None',
      keepsUserAssigned: 0
    })
    expect(describeChange(plan.changes[1])).toBe(
      'turn off the system-assigned identity of api (identity type SystemAssigned → None; the app restarts)'
    )
  })

  it('keeps user-assigned identities', () => {
    const uai = ['/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u1']
    const plan = makeRevokePlan(
      wanted(),
      state([app('api', { identityType: 'SystemAssigned, UserAssigned', userAssignedIds: uai })], [kv]),
      true
    )
    const [disable] = ofKind(plan.changes, 'disable-identity')
    expect(disable).toEqual({
      kind: 'disable-identity',
      app: 'api',
      from: 'SystemAssigned, UserAssigned',
      to: 'UserAssigned',
      keepsUserAssigned: 1
    })
    expect(describeChange(disable)).toContain('keeping 1 user-assigned')
  })

  it('does not plan turning off an identity that is already off', () => {
    const plan = makeRevokePlan(
      wanted(),
      state([appWithoutIdentity('api'), app('web', { principalId: PRINCIPAL_2 })], [vault('kv')]),
      true
    )
    expect(ofKind(plan.changes, 'disable-identity').map((c) => c.app)).toEqual(['web'])
  })

  it('turns the identity off even when it holds no access', () => {
    const plan = makeRevokePlan(wanted(), state([app('api')], [vault('kv')]), true)
    expect(plan.changes.map((c) => c.kind)).toEqual(['disable-identity'])
  })

  it('puts every disable after every access change, across vaults and models', () => {
    const rb = vault('kv-rb', { rbac: true })
    const plan = makeRevokePlan(
      wanted(),
      state([app('api'), app('web', { principalId: PRINCIPAL_2 })], [kv, rb], {
        [rb.id]: [ours(rb.id, ROLES.secretsUser.guid), ours(rb.id, ROLES.secretsUser.guid, PRINCIPAL_2)]
      }),
      true
    )
    const kinds = plan.changes.map((c) => c.kind)
    expect(kinds).toEqual([
      'remove-access-policy',
      'delete-role-assignment',
      'delete-role-assignment',
      'disable-identity',
      'disable-identity'
    ])
  })
})
