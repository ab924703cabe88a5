import { describe, expect, it } from '@jest/globals'
import { makeRevokePlan } from '../src/plan-revoke.js'
import { type Change, describeChange, PlanError, type Wanted } from '../src/plan.js'
import { assignmentName, ROLES, StorageOnRbacVaultError } from '../src/rbac.js'
import type { RoleAssignment } from '../src/azure/roles.js'
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
} from './fixtures.js'

const wanted = (p = perms({ secrets: ['get', 'list'] }), accessModel: Wanted['accessModel'] = 'auto'): Wanted => ({
  permissions: p,
  accessModel
})
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

  it("refuses to revoke part of a held 'all' instead of reporting nothing held", () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['all'] })] })
    expect(() => makeRevokePlan(wanted(), state([app('api')], [kv]), false)).toThrow(PlanError)
    expect(() => makeRevokePlan(wanted(), state([app('api')], [kv]), false)).toThrow(
      "'api' holds 'all' secrets permissions on Key Vault 'kv'; revoking get, list cannot take away part of 'all'.\nFix: set 'secret-permissions' to 'all'"
    )
  })

  it("revoking 'all' removes every name the principal holds of that kind", () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list', 'set'], keys: ['sign'] })] })
    const plan = makeRevokePlan(wanted(perms({ secrets: ['all'] })), state([app('api')], [kv]), false)
    expect(ofKind(plan.changes, 'remove-access-policy')[0].entries[0].permissions).toEqual(
      perms({ secrets: ['get', 'list', 'set'] })
    )
  })

  it("never touches another principal's entry or a compound (application + user) entry", () => {
    const kv = vault('kv', {
      accessPolicies: [
        policy(PRINCIPAL_2, { secrets: ['get', 'list'] }),
        policy(PRINCIPAL, { secrets: ['get'] }, { applicationId: '77777777-7777-7777-7777-777777777777' })
      ]
    })
    expect(makeRevokePlan(wanted(), state([app('api')], [kv]), false).changes).toEqual([])
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
      wanted(perms({ secrets: ['get'], keys: ['sign'] })),
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

  it('deletes our officer assignment too: apply made it when a write permission was asked then', () => {
    const plan = makeRevokePlan(
      wanted(),
      state([app('api')], [kv], {
        [kv.id]: [ours(kv.id, ROLES.secretsOfficer.guid), ours(kv.id, ROLES.cryptoOfficer.guid)]
      }),
      false
    )
    // Secrets were asked for, keys were not: only the secrets officer assignment goes.
    expect(plan.changes.map((c) => (c.kind === 'delete-role-assignment' ? c.role.name : c.kind))).toEqual([
      'Key Vault Secrets Officer'
    ])
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
