// The plan with a user-assigned identity: attach, reference identity, grants to its principal
// (once, however many apps share it), and revoke with disable-identity detaching it.
import { describe, expect, it } from '@jest/globals'
import { makePlan, type Wanted } from '../../src/plan/plan.js'
import { makeRevokePlan } from '../../src/plan/revoke.js'
import { assignmentName, ROLES } from '../../src/model/roles.js'
import type { CurrentState } from '../../src/model/state.js'
import { app, appWithoutIdentity, assignment, perms, policy, state, TENANT, vault } from '../fixtures.js'

const UAI = '/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shop-id'
const UAI_PRINCIPAL = 'dddddddd-0000-0000-0000-00000000000d'
const wanted = (p = perms({ secrets: ['get'] })): Wanted => ({ permissions: p, accessModel: 'auto' })
const withIdentity = (st: CurrentState): CurrentState => ({
  ...st,
  userIdentity: {
    id: UAI,
    name: 'shop-id',
    principalId: UAI_PRINCIPAL,
    clientId: 'eeeeeeee-0000-0000-0000-00000000000e',
    tenantId: TENANT
  }
})

describe('makePlan with a user-assigned identity', () => {
  it('attaches it and sets the reference identity; the system identity is left alone; one policy entry for the identity', () => {
    const st = withIdentity(state([appWithoutIdentity('api'), app('web')], [vault('kv')]))
    const plan = makePlan(wanted(), st)
    expect(plan.changes.map((c) => c.kind)).toEqual(['attach-identity', 'attach-identity', 'add-access-policy'])
    expect(plan.changes[0]).toMatchObject({
      app: 'api',
      attach: true,
      setReference: true,
      referenceFrom: 'SystemAssigned'
    })
    const add = plan.changes[2] as Extract<(typeof plan.changes)[number], { kind: 'add-access-policy' }>
    expect(add.entries).toEqual([
      {
        app: 'api',
        principalId: UAI_PRINCIPAL,
        tenantId: TENANT,
        permissions: perms({ secrets: ['get'] }),
        sharedBy: ['api', 'web']
      }
    ])
    expect(plan.grants.map((g) => [g.app, g.delta])).toEqual([
      ['api', 'secrets: get'],
      ['web', 'secrets: get']
    ])
  })

  it('nothing to do when it is attached (any id casing), is the reference identity and holds the access', () => {
    const attached = app('api', {
      identityType: 'SystemAssigned, UserAssigned',
      userAssignedIds: [UAI.toLowerCase().replace('resourcegroups', 'resourcegroups')],
      keyVaultReferenceIdentity: UAI.toUpperCase()
    })
    const st = withIdentity(
      state([attached], [vault('kv', { accessPolicies: [policy(UAI_PRINCIPAL, { secrets: ['Get'] })] })])
    )
    expect(makePlan(wanted(), st).changes).toEqual([])
  })

  it('on an RBAC vault, one role assignment for the identity, not one per app', () => {
    const kv = vault('kv', { rbac: true })
    const st = withIdentity(state([app('api'), app('web')], [kv]))
    const roles = makePlan(wanted(), st).changes.filter((c) => c.kind === 'assign-role')
    expect(roles).toHaveLength(1)
    expect(roles[0]).toMatchObject({ principalId: UAI_PRINCIPAL, role: ROLES.secretsUser })
  })
})

describe('makeRevokePlan with a user-assigned identity', () => {
  it("removes the identity's grants once, and with disable-identity resets the reference identity and detaches it", () => {
    const kv = vault('kv', { rbac: true })
    const ours = {
      ...assignment(kv.id, ROLES.secretsUser.guid, UAI_PRINCIPAL),
      name: assignmentName(kv.id, ROLES.secretsUser.guid, UAI_PRINCIPAL)
    }
    const attached = (name: string) =>
      app(name, {
        identityType: 'SystemAssigned, UserAssigned',
        userAssignedIds: [UAI],
        keyVaultReferenceIdentity: UAI
      })
    const st = withIdentity(state([attached('api'), attached('web')], [kv], { [kv.id]: [ours] }))
    const plan = makeRevokePlan(wanted(perms({ secrets: ['get', 'list'] })), st, true)
    expect(plan.changes.map((c) => `${c.kind} ${'app' in c ? c.app : ''}`)).toEqual([
      'delete-role-assignment api',
      'detach-identity api',
      'detach-identity web'
    ])
    expect(plan.changes[1]).toMatchObject({ detach: true, resetReference: true })
    expect(plan.changes.some((c) => c.kind === 'disable-identity')).toBe(false)
  })
})
