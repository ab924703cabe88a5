import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { AppState } from '../../src/model/state.js'
import type { VaultState } from '../../src/model/state.js'
import type { AccessPolicy } from '../../src/model/state.js'
import type { RoleAssignment } from '../../src/model/state.js'

const notice = jest.fn<(m: string) => void>()
const warning = jest.fn<(m: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({ notice, warning, info: jest.fn(), debug: jest.fn() }))

const { applyPlan, PartialApplyError } = await import('../../src/apply/apply.js')
const { makePlan } = await import('../../src/plan/plan.js')
const { makeRevokePlan } = await import('../../src/plan/revoke.js')
const { assignmentName, ConditionedAssignmentError, ROLES } = await import('../../src/model/roles.js')
const { AzureOperationError } = await import('../../src/azure/operation.js')
const { computeOutputs } = await import('../../src/report/report.js')
const { RetryBudget } = await import('../../src/azure/http/budget.js')
const { AccessStillHeldError } = await import('../../src/apply/access-policies.js')
const {
  app,
  appWithoutIdentity,
  assignment,
  CLIENT,
  perms,
  policy,
  PRINCIPAL,
  PRINCIPAL_2,
  inputs,
  state,
  target,
  TENANT,
  vault
} = await import('../fixtures.js')
import type { Azure } from '../../src/azure/clients.js'
import type { CurrentState } from '../../src/model/state.js'
import type { Change } from '../../src/model/changes.js'
import type { IdentityChange } from '../../src/azure/identity-patch.js'
import type { IdentityWrite } from '../../src/azure/sites.js'

const NEW_PRINCIPAL = 'cccccccc-0000-0000-0000-00000000000c'

/** A fake of the Azure clients that records every call in order. */
function fakeAzure(
  options: {
    create?: (...args: unknown[]) => Promise<'created' | 'exists'>
    setSystemIdentity?: (app: AppState) => Promise<AppState>
    remove?: (scope: string, name: string) => Promise<boolean>
    /** What a list of the vault's assignments answers (after a 409 RoleAssignmentExists). */
    listed?: RoleAssignment[]
  } = {}
) {
  const log: string[] = []
  const written = (after: AppState): IdentityWrite => ({ after, written: true, maybeWritten: false })
  const setSystemIdentity = jest.fn(
    async (a: AppState, enabled: boolean, _onMaybe?: () => void): Promise<IdentityWrite> => {
      log.push(`identity ${a.target.key} ${enabled}`)
      if (options.setSystemIdentity) return written(await options.setSystemIdentity(a))
      if (!enabled)
        return written({
          ...a,
          systemAssigned: false,
          identityType: 'None',
          principalId: undefined,
          tenantId: undefined
        })
      return written({
        ...a,
        systemAssigned: true,
        identityType: 'SystemAssigned',
        principalId: NEW_PRINCIPAL,
        tenantId: TENANT
      })
    }
  )
  // Each vault's policies as the service keeps them: `remove` matches names case-sensitively.
  const held = new Map<string, AccessPolicy[]>()
  const changeAccessPolicies = jest.fn(async (v: VaultState, operation: 'add' | 'remove', entries: AccessPolicy[]) => {
    log.push(`policy ${operation === 'add' ? '' : 'remove '}${v.name} ${entries.map((e) => e.objectId).join(',')}`)
    if (operation !== 'remove') return
    const policies = held.get(v.id) ?? structuredClone(v.accessPolicies)
    for (const e of entries) {
      for (const p of policies.filter((x) => x.objectId === e.objectId)) {
        for (const [kind, names] of Object.entries(e.permissions)) {
          const k = kind as keyof typeof p.permissions
          p.permissions[k] = (p.permissions[k] ?? []).filter((n) => !(names ?? []).includes(n))
        }
      }
    }
    held.set(v.id, policies)
  })
  const reread = jest.fn(async (v: VaultState): Promise<VaultState> => {
    log.push(`read ${v.name}`)
    return { ...v, accessPolicies: held.get(v.id) ?? v.accessPolicies }
  })
  const create = jest.fn(async (scope: string, name: string, roleDefinitionId: string, principalId: string) => {
    log.push(`role ${principalId}`)
    return options.create ? options.create(scope, name, roleDefinitionId, principalId) : ('created' as const)
  })
  const remove = jest.fn(async (scope: string, name: string): Promise<boolean> => {
    log.push(`delete ${name}`)
    return options.remove ? options.remove(scope, name) : true
  })
  const vaults = jest.fn((_subscriptionId: string) => ({ changeAccessPolicies, reread }))
  const listAtOrAbove = jest.fn(async (_scope: string) => options.listed ?? [])
  const roles = jest.fn(async () => ({ create, delete: remove, listAtOrAbove }))
  const changeIdentity = jest.fn(async (a: AppState, change: IdentityChange): Promise<IdentityWrite> => {
    log.push(`identity ${a.target.key} ${JSON.stringify(change)}`)
    return written(a)
  })
  const azure = { sites: { setSystemIdentity, changeIdentity }, vaults, roles } as unknown as Azure
  return { azure, log, setSystemIdentity, changeIdentity, changeAccessPolicies, reread, create, remove, vaults, roles }
}

const s = inputs()
const far = () => new RetryBudget(3600)
const plan = (wanted: Parameters<typeof makePlan>[0], st: CurrentState) => makePlan(wanted, st)
const want = (p = perms({ secrets: ['get', 'list'] })) => ({ permissions: p, accessModel: 'auto' as const })

beforeEach(() => {
  notice.mockReset()
  warning.mockReset()
})

describe('applyPlan: access-policy vault', () => {
  it('turns the identity on before granting, and grants to the new principal id', async () => {
    const st = state([appWithoutIdentity('api')], [vault('kv')])
    const fake = fakeAzure()
    const applied = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far())
    expect(fake.log).toEqual(['identity api true', `policy kv ${NEW_PRINCIPAL}`])
    const [vaultArg, operation, entries] = fake.changeAccessPolicies.mock.calls[0]
    expect(operation).toBe('add')
    expect(vaultArg.name).toBe('kv')
    expect(entries).toEqual([
      expect.objectContaining({
        objectId: NEW_PRINCIPAL,
        tenantId: TENANT,
        permissions: perms({ secrets: ['get', 'list'] })
      })
    ])
    expect(fake.vaults).toHaveBeenCalledWith(st.vaults[0].subscriptionId)
    expect(applied.principals.get('api')).toEqual({ principalId: NEW_PRINCIPAL, tenantId: TENANT })
    expect(applied.writes).toEqual([
      `Turned on the system-assigned identity of api (principal ${NEW_PRINCIPAL}); the app restarts.`,
      'Granted api on vault kv: secrets: get, list (access policy).'
    ])
    expect(notice).toHaveBeenCalledWith(
      `Turned on the system-assigned identity of api (principal ${NEW_PRINCIPAL}); the app restarts.`
    )
    expect(notice).toHaveBeenCalledWith('Granted api on vault kv: secrets: get, list (access policy).')
  })

  it('passes the app state (with its user-assigned identities) to the identity PATCH', async () => {
    const uai = ['/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u1']
    const st = state([appWithoutIdentity('api', { identityType: 'UserAssigned', userAssignedIds: uai })], [vault('kv')])
    const fake = fakeAzure()
    await applyPlan(plan(want(), st).changes, st, fake.azure, s, far())
    expect(fake.setSystemIdentity).toHaveBeenCalledWith(
      expect.objectContaining({ userAssignedIds: uai, identityType: 'UserAssigned' }),
      true,
      expect.any(Function)
    )
  })

  it('uses the known principal id and writes nothing when the plan is empty', async () => {
    const st = state([app('api')], [vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list'] })] })])
    const fake = fakeAzure()
    const p = plan(want(), st)
    const applied = await applyPlan(p.changes, st, fake.azure, s, far())
    expect(fake.log).toEqual([])
    expect(applied.writes).toEqual([])
    expect(applied.principals.get('api')?.principalId).toBe(PRINCIPAL)
    expect(computeOutputs(s, p, applied).changed).toBe('false')
  })

  it('sends one request per vault carrying every app', async () => {
    const st = state([app('api'), appWithoutIdentity('web')], [vault('kv')])
    const fake = fakeAzure()
    const sx = inputs({ apps: [target('api'), target('web')] })
    await applyPlan(plan(want(), st).changes, st, fake.azure, sx, far())
    expect(fake.changeAccessPolicies).toHaveBeenCalledTimes(1)
    expect(fake.changeAccessPolicies.mock.calls[0][2].map((e) => e.objectId)).toEqual([PRINCIPAL, NEW_PRINCIPAL])
    expect(fake.log.indexOf('identity web true')).toBeLessThan(fake.log.findIndex((l) => l.startsWith('policy')))
  })
})

describe('applyPlan: RBAC vault', () => {
  it('creates the role assignment for the new principal under the deterministic name', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([appWithoutIdentity('api')], [kv])
    const fake = fakeAzure()
    const applied = await applyPlan(
      plan(want(perms({ secrets: ['get'], keys: ['sign'] })), st).changes,
      st,
      fake.azure,
      s,
      far()
    )
    expect(fake.log).toEqual(['identity api true', `role ${NEW_PRINCIPAL}`, `role ${NEW_PRINCIPAL}`])
    expect(fake.create.mock.calls).toEqual([
      [
        kv.id,
        assignmentName(kv.id, ROLES.secretsUser.guid, NEW_PRINCIPAL),
        expect.stringMatching(new RegExp(`/roleDefinitions/${ROLES.secretsUser.guid}$`)),
        NEW_PRINCIPAL
      ],
      [
        kv.id,
        assignmentName(kv.id, ROLES.cryptoUser.guid, NEW_PRINCIPAL),
        expect.stringMatching(new RegExp(`/roleDefinitions/${ROLES.cryptoUser.guid}$`)),
        NEW_PRINCIPAL
      ]
    ])
    expect(applied.writes).toContain("Granted api on vault kv: role 'Key Vault Secrets User'.")
    expect(applied.writes).toContain("Granted api on vault kv: role 'Key Vault Crypto User'.")
  })

  it('counts RoleAssignmentExists as granted, not as a write, when the assignment there is the same and unconditioned', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv])
    // Another writer assigned the role under another name since the read; ARM may spell the scope otherwise.
    const theirs = { ...assignment(kv.id, ROLES.secretsUser.guid), scope: kv.id.toUpperCase() }
    const fake = fakeAzure({ create: async () => 'exists', listed: [theirs] })
    const p = plan(want(), st)
    expect(p.changes).toHaveLength(1)
    const applied = await applyPlan(p.changes, st, fake.azure, s, far())
    expect(fake.create).toHaveBeenCalledTimes(1)
    expect(applied.writes).toEqual([])
    expect(notice).not.toHaveBeenCalled()
    expect(computeOutputs(s, p, applied).changed).toBe('false')
  })

  it('fails naming the conditioned assignment when RoleAssignmentExists answers for one', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv])
    const conditioned = { ...assignment(kv.id, ROLES.secretsUser.guid), name: 'c0ffee', condition: 'x' }
    // Another role's plain assignment and an inherited plain one of this role are not the one ARM meant.
    const other = assignment(kv.id, ROLES.cryptoUser.guid)
    const inherited = assignment(kv.id.split('/providers/')[0], ROLES.secretsUser.guid)
    const fake = fakeAzure({ create: async () => 'exists', listed: [other, inherited, conditioned] })
    const error = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PartialApplyError)
    const [failure] = (error as InstanceType<typeof PartialApplyError>).failures
    expect(failure).toBeInstanceOf(ConditionedAssignmentError)
    expect((failure as Error).message).toContain('through role assignment c0ffee, which carries an ABAC condition')
    expect((error as InstanceType<typeof PartialApplyError>).applied.writes).toEqual([])
  })

  it('fails when RoleAssignmentExists answers but no such assignment is listed', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv])
    const inherited = assignment(kv.id.split('/providers/')[0], ROLES.secretsUser.guid)
    const fake = fakeAzure({ create: async () => 'exists', listed: [inherited] })
    const error = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch((e: unknown) => e)
    expect((error as Error).message).toContain(
      "Could not assign 'Key Vault Secrets User' on Key Vault 'kv' to api (principal"
    )
    expect((error as Error).message).toContain('lists no assignment of that role for the principal at the vault')
  })

  it('does not call the RBAC client when every role is held', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv], { [kv.id]: [assignment(kv.id, ROLES.secretsUser.guid)] })
    const fake = fakeAzure()
    await applyPlan(plan(want(), st).changes, st, fake.azure, s, far())
    expect(fake.roles).not.toHaveBeenCalled()
  })

  it('wraps a failed assignment with the vault as context', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv])
    const cause = Object.assign(new Error('denied'), { code: 'AuthorizationFailed', statusCode: 403 })
    const fake = fakeAzure({ create: async () => Promise.reject(cause) })
    const error = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PartialApplyError)
    expect((error as InstanceType<typeof PartialApplyError>).failures[0]).toBeInstanceOf(AzureOperationError)
    expect(((error as InstanceType<typeof PartialApplyError>).failures[0] as Error).cause).toBe(cause)
    expect((error as Error).message).toContain("Could not assign 'Key Vault Secrets User' on Key Vault 'kv'")
    expect(fake.create).toHaveBeenCalledTimes(1)
  })
})

describe('applyPlan: failures', () => {
  it('keeps going with independent writes after one fails, and reports both what was done and what failed', async () => {
    const st = state([appWithoutIdentity('api'), appWithoutIdentity('web')], [vault('kv')])
    const fake = fakeAzure({
      setSystemIdentity: async (a) =>
        a.target.key === 'web'
          ? Promise.reject(new Error('boom'))
          : { ...a, systemAssigned: true, principalId: NEW_PRINCIPAL, tenantId: TENANT }
    })
    const error = (await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch(
      (e: unknown) => e
    )) as InstanceType<typeof PartialApplyError>
    expect(error).toBeInstanceOf(PartialApplyError)
    expect(error.failures).toHaveLength(1)
    expect(error.message).toContain("Could not turn on the system-assigned identity of app 'web'")
    // 'api' still got its identity and its grant; 'web' was left out of the access-policy request.
    expect(fake.changeAccessPolicies.mock.calls[0][2].map((e) => e.objectId)).toEqual([NEW_PRINCIPAL])
    expect(error.applied.writes).toEqual([
      `Turned on the system-assigned identity of api (principal ${NEW_PRINCIPAL}); the app restarts.`,
      'Granted api on vault kv: secrets: get, list (access policy).'
    ])
  })

  it('refuses to grant a just-created identity of another tenant than the vault', async () => {
    const other = '99999999-9999-9999-9999-999999999999'
    const st = state([appWithoutIdentity('api')], [vault('kv')])
    const fake = fakeAzure({
      setSystemIdentity: async (a) => ({ ...a, systemAssigned: true, principalId: NEW_PRINCIPAL, tenantId: other })
    })
    const error = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch((e: unknown) => e)
    expect((error as Error).message).toContain(`The identity of 'api' belongs to tenant ${other}`)
    expect(fake.changeAccessPolicies).not.toHaveBeenCalled()
  })

  it('grants the other apps of the vault when one new identity is of another tenant, then fails naming it', async () => {
    const other = '99999999-9999-9999-9999-999999999999'
    const st = state([appWithoutIdentity('api'), appWithoutIdentity('web'), app('old')], [vault('kv')])
    const sx = inputs({ apps: [target('api'), target('web'), target('old')] })
    const fake = fakeAzure({
      setSystemIdentity: async (a) => ({
        ...a,
        systemAssigned: true,
        principalId: NEW_PRINCIPAL,
        tenantId: a.target.key === 'web' ? other : TENANT
      })
    })
    const error = (await applyPlan(plan(want(), st).changes, st, fake.azure, sx, far()).catch(
      (e: unknown) => e
    )) as InstanceType<typeof PartialApplyError>
    expect(error).toBeInstanceOf(PartialApplyError)
    expect(error.failures).toHaveLength(1)
    expect(error.message).toContain(
      `The identity of 'web' belongs to tenant ${other}, but Key Vault 'kv' belongs to tenant ${TENANT}`
    )
    expect(fake.changeAccessPolicies).toHaveBeenCalledTimes(1)
    expect(fake.changeAccessPolicies.mock.calls[0][2].map((e) => e.objectId)).toEqual([NEW_PRINCIPAL, PRINCIPAL])
    expect(error.applied.writes.filter((w) => w.startsWith('Granted'))).toEqual([
      'Granted api on vault kv: secrets: get, list (access policy).',
      'Granted old on vault kv: secrets: get, list (access policy).'
    ])
  })

  it('does not grant anything when turning on an identity fails', async () => {
    const cause = Object.assign(new Error('nope'), { code: 'AuthorizationFailed', statusCode: 403 })
    const st = state([appWithoutIdentity('api')], [vault('kv')])
    const fake = fakeAzure({ setSystemIdentity: async () => Promise.reject(cause) })
    const error = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PartialApplyError)
    expect((error as InstanceType<typeof PartialApplyError>).failures[0]).toBeInstanceOf(AzureOperationError)
    expect((error as Error).message).toContain("Could not turn on the system-assigned identity of app 'api'")
    expect(fake.changeAccessPolicies).not.toHaveBeenCalled()
  })

  it('names a slot as the target when the slot PATCH fails', async () => {
    const slotApp = appWithoutIdentity('api', { target: target('api', 'staging') })
    const st = state([slotApp], [vault('kv')])
    const fake = fakeAzure({ setSystemIdentity: async () => Promise.reject(new Error('x')) })
    const error = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch((e: unknown) => e)
    expect((error as Error).message).toContain("slot 'staging' of app 'api'")
  })

  it('wraps an access-policy failure with the vault as context', async () => {
    const st = state([app('api')], [vault('kv')])
    const fake = fakeAzure()
    fake.changeAccessPolicies.mockRejectedValueOnce(new Error('boom'))
    const error = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PartialApplyError)
    expect((error as InstanceType<typeof PartialApplyError>).failures[0]).toBeInstanceOf(AzureOperationError)
    expect((error as Error).message).toContain("Could not add access policies to Key Vault 'kv'")
  })
})

describe('applyPlan: revoke changes', () => {
  const revoke = inputs({ mode: 'revoke' })
  const ours = (vaultIdValue: string, roleGuid: string, principalId = PRINCIPAL) => ({
    ...assignment(vaultIdValue, roleGuid, principalId),
    name: assignmentName(vaultIdValue, roleGuid, principalId)
  })

  it("removes access policies with changeAccessPolicies(vault, 'remove', …) for the known principal", async () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list', 'set'] })] })
    const st = state([app('api')], [kv])
    const fake = fakeAzure()
    const p = makeRevokePlan(want(), st, false)
    const applied = await applyPlan(p.changes, st, fake.azure, revoke, far())
    expect(fake.changeAccessPolicies).toHaveBeenCalledTimes(1)
    const [vaultArg, operation, entries] = fake.changeAccessPolicies.mock.calls[0]
    expect(vaultArg).toBe(kv)
    expect(operation).toBe('remove')
    expect(entries).toEqual([
      expect.objectContaining({
        objectId: PRINCIPAL,
        tenantId: TENANT,
        permissions: perms({ secrets: ['get', 'list'] })
      })
    ])
    expect(fake.setSystemIdentity).not.toHaveBeenCalled()
    expect(applied.writes).toEqual(['Revoked api on vault kv: secrets: get, list (access policy).'])
    expect(notice).toHaveBeenCalledWith('Revoked api on vault kv: secrets: get, list (access policy).')
    expect(applied.principals.get('api')?.principalId).toBe(PRINCIPAL)
    expect(computeOutputs(revoke, p, applied).changed).toBe('true')
  })

  it('one remove request per vault carries every app, each recorded', async () => {
    const kv = vault('kv', {
      accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] }), policy(PRINCIPAL_2, { secrets: ['list'] })]
    })
    const st = state([app('api'), app('web', { principalId: PRINCIPAL_2 })], [kv])
    const fake = fakeAzure()
    const applied = await applyPlan(makeRevokePlan(want(), st, false).changes, st, fake.azure, revoke, far())
    expect(fake.log).toEqual([`policy remove kv ${PRINCIPAL},${PRINCIPAL_2}`, 'read kv'])
    expect(applied.writes).toEqual([
      'Revoked api on vault kv: secrets: get (access policy).',
      'Revoked web on vault kv: secrets: list (access policy).'
    ])
  })

  it('removes names in the spelling the vault holds them (a portal-made Get), and confirms from a fresh read', async () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['Get', 'List', 'Set'] })] })
    const st = state([app('api')], [kv])
    const fake = fakeAzure()
    const applied = await applyPlan(makeRevokePlan(want(), st, false).changes, st, fake.azure, revoke, far())
    expect(fake.changeAccessPolicies.mock.calls[0][2][0].permissions).toEqual(perms({ secrets: ['Get', 'List'] }))
    expect(fake.reread).toHaveBeenCalledTimes(1)
    expect(applied.writes).toEqual(['Revoked api on vault kv: secrets: Get, List (access policy).'])
  })

  it('fails naming what is still held when the vault ignored the removal, and claims only what is gone', async () => {
    jest.useFakeTimers({ now: Date.now() })
    try {
      const kv = vault('kv', {
        accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list'] }), policy(PRINCIPAL_2, { secrets: ['get'] })]
      })
      const st = state([app('api'), app('web', { principalId: PRINCIPAL_2 })], [kv])
      const fake = fakeAzure()
      // The service keeps `list` of api (as it keeps a name spelled otherwise than it holds it).
      fake.reread.mockImplementation(async (v) => ({
        ...v,
        accessPolicies: [policy(PRINCIPAL, { secrets: ['list'] })]
      }))
      const done = applyPlan(makeRevokePlan(want(), st, false).changes, st, fake.azure, revoke, far()).catch(
        (e: unknown) => e
      )
      await jest.advanceTimersByTimeAsync(6000)
      const error = (await done) as InstanceType<typeof PartialApplyError>
      expect(fake.reread).toHaveBeenCalledTimes(3) // read back, then twice more a few seconds apart
      expect(error.failures).toHaveLength(1)
      expect(error.failures[0]).toBeInstanceOf(AccessStillHeldError)
      expect(error.message).toContain(`Key Vault 'kv' still grants api (${PRINCIPAL}) secrets: list`)
      expect(error.applied.writes).toEqual([
        'Revoked api on vault kv: secrets: get (access policy).',
        'Revoked web on vault kv: secrets: get (access policy).'
      ])
    } finally {
      jest.useRealTimers()
    }
  })

  it('deletes role assignments by scope and deterministic name', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv], {
      [kv.id]: [ours(kv.id, ROLES.secretsUser.guid), ours(kv.id, ROLES.cryptoUser.guid)]
    })
    const fake = fakeAzure()
    const applied = await applyPlan(
      makeRevokePlan(want(perms({ secrets: ['get', 'list'], keys: ['all'] })), st, false).changes,
      st,
      fake.azure,
      revoke,
      far()
    )
    expect(fake.remove.mock.calls).toEqual([
      [kv.id, assignmentName(kv.id, ROLES.secretsUser.guid, PRINCIPAL)],
      [kv.id, assignmentName(kv.id, ROLES.cryptoUser.guid, PRINCIPAL)]
    ])
    expect(fake.create).not.toHaveBeenCalled()
    expect(applied.writes).toEqual([
      "Revoked api on vault kv: role 'Key Vault Secrets User'.",
      "Revoked api on vault kv: role 'Key Vault Crypto User'."
    ])
  })

  it('does not count an assignment already gone (204) as a write', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv], { [kv.id]: [ours(kv.id, ROLES.secretsUser.guid)] })
    const fake = fakeAzure({ remove: async () => false })
    const p = makeRevokePlan(want(), st, false)
    const applied = await applyPlan(p.changes, st, fake.azure, revoke, far())
    expect(fake.remove).toHaveBeenCalledTimes(1)
    expect(applied.writes).toEqual([])
    expect(notice).not.toHaveBeenCalled()
    expect(computeOutputs(revoke, p, applied).changed).toBe('false')
  })

  it('wraps a failed deletion with the vault as context', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv], { [kv.id]: [ours(kv.id, ROLES.secretsUser.guid)] })
    const cause = Object.assign(new Error('denied'), { code: 'AuthorizationFailed', statusCode: 403 })
    const fake = fakeAzure({ remove: async () => Promise.reject(cause) })
    const error = await applyPlan(makeRevokePlan(want(), st, false).changes, st, fake.azure, revoke, far()).catch(
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(PartialApplyError)
    expect((error as InstanceType<typeof PartialApplyError>).failures[0]).toBeInstanceOf(AzureOperationError)
    expect(((error as InstanceType<typeof PartialApplyError>).failures[0] as Error).cause).toBe(cause)
    expect((error as Error).message).toContain(
      "Could not delete the 'Key Vault Secrets User' assignment on Key Vault 'kv'"
    )
  })

  it('wraps a failed access-policy removal with the vault as context', async () => {
    const st = state([app('api')], [vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] })] })])
    const fake = fakeAzure()
    fake.changeAccessPolicies.mockRejectedValueOnce(new Error('boom'))
    const error = await applyPlan(makeRevokePlan(want(), st, false).changes, st, fake.azure, revoke, far()).catch(
      (e: unknown) => e
    )
    expect((error as Error).message).toContain("Could not remove access policies from Key Vault 'kv'")
  })

  it('turns the identity off after the access is removed, and forgets its principal', async () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list'] })] })
    const st = state([app('api')], [kv])
    const fake = fakeAzure()
    const p = makeRevokePlan(want(), st, true)
    const applied = await applyPlan(p.changes, st, fake.azure, revoke, far())
    expect(fake.log).toEqual([`policy remove kv ${PRINCIPAL}`, 'read kv', 'identity api false'])
    expect(fake.setSystemIdentity).toHaveBeenCalledWith(st.apps[0], false, expect.any(Function))
    expect(applied.principals.has('api')).toBe(false)
    expect(applied.writes).toEqual([
      'Revoked api on vault kv: secrets: get, list (access policy).',
      'Turned off the system-assigned identity of api; the app restarts.'
    ])
    const outputs = computeOutputs(revoke, p, applied)
    expect(outputs['principal-id']).toBe('')
    expect(outputs['principal-ids']).toBe('{}')
  })

  it('says user-assigned identities were kept when turning off the system one', async () => {
    const uai = ['/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u1']
    const st = state(
      [app('api', { identityType: 'SystemAssigned, UserAssigned', userAssignedIds: uai })],
      [vault('kv')]
    )
    const fake = fakeAzure()
    const applied = await applyPlan(makeRevokePlan(want(), st, true).changes, st, fake.azure, revoke, far())
    expect(fake.setSystemIdentity).toHaveBeenCalledWith(
      expect.objectContaining({ userAssignedIds: uai }),
      false,
      expect.any(Function)
    )
    expect(applied.writes).toEqual([
      'Turned off the system-assigned identity of api (user-assigned identities kept); the app restarts.'
    ])
  })

  it('does not turn the identity off when removing its access fails', async () => {
    const st = state([app('api')], [vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] })] })])
    const fake = fakeAzure()
    fake.changeAccessPolicies.mockRejectedValueOnce(new Error('boom'))
    await expect(
      applyPlan(makeRevokePlan(want(), st, true).changes, st, fake.azure, revoke, far())
    ).rejects.toBeInstanceOf(PartialApplyError)
    expect(fake.setSystemIdentity).not.toHaveBeenCalled()
  })

  it('wraps a failed turn-off naming the app', async () => {
    const st = state([app('api')], [vault('kv')])
    const fake = fakeAzure({ setSystemIdentity: async () => Promise.reject(new Error('x')) })
    const error = await applyPlan(makeRevokePlan(want(), st, true).changes, st, fake.azure, revoke, far()).catch(
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(PartialApplyError)
    expect((error as InstanceType<typeof PartialApplyError>).failures[0]).toBeInstanceOf(AzureOperationError)
    expect((error as Error).message).toContain("Could not turn off the system-assigned identity of app 'api'")
  })

  it('runs phases in order whatever the order of the list: enable → access changes → disable', async () => {
    const kvAp = vault('kv-ap', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] })] })
    const kvRb = vault('kv-rb', { rbac: true })
    const st = state([app('old'), appWithoutIdentity('new')], [kvAp, kvRb])
    const name = assignmentName(kvRb.id, ROLES.secretsUser.guid, PRINCIPAL)
    const changes: Change[] = [
      { kind: 'disable-identity', app: 'old', from: 'SystemAssigned', to: 'None', keepsUserAssigned: 0 },
      {
        kind: 'delete-role-assignment',
        vault: 'kv-rb',
        vaultId: kvRb.id,
        app: 'old',
        principalId: PRINCIPAL,
        role: ROLES.secretsUser,
        assignmentName: name
      },
      {
        kind: 'remove-access-policy',
        vault: 'kv-ap',
        vaultId: kvAp.id,
        entries: [{ app: 'old', principalId: PRINCIPAL, tenantId: TENANT, permissions: perms({ secrets: ['get'] }) }]
      },
      {
        kind: 'add-access-policy',
        vault: 'kv-ap',
        vaultId: kvAp.id,
        entries: [{ app: 'new', principalId: undefined, tenantId: TENANT, permissions: perms({ secrets: ['get'] }) }]
      },
      { kind: 'enable-identity', app: 'new', from: 'None', to: 'SystemAssigned', keepsUserAssigned: 0 }
    ]
    const fake = fakeAzure()
    const applied = await applyPlan(changes, st, fake.azure, revoke, far())
    expect(fake.log[0]).toBe('identity new true')
    expect(fake.log[fake.log.length - 1]).toBe('identity old false')
    expect(fake.log.slice(1, -1).sort()).toEqual(
      [`delete ${name}`, `policy kv-ap ${NEW_PRINCIPAL}`, `policy remove kv-ap ${PRINCIPAL}`, 'read kv-ap'].sort()
    )
    expect(applied.principals.get('new')?.principalId).toBe(NEW_PRINCIPAL)
    expect(applied.principals.has('old')).toBe(false)
    expect(applied.writes).toHaveLength(5)
  })
})

describe('applyPlan: a user-assigned identity', () => {
  const UAI = '/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shop-id'
  const UAI_PRINCIPAL = 'dddddddd-0000-0000-0000-00000000000d'
  const withIdentity = (st: CurrentState): CurrentState => ({
    ...st,
    userIdentity: { id: UAI, name: 'shop-id', principalId: UAI_PRINCIPAL, clientId: CLIENT, tenantId: TENANT }
  })

  it('grants it first, then attaches it and makes it the reference identity in one write (one restart)', async () => {
    const st = withIdentity(state([app('api')], [vault('kv')]))
    const fake = fakeAzure()
    const applied = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far())
    expect(fake.log).toEqual([
      `policy kv ${UAI_PRINCIPAL}`,
      `identity api ${JSON.stringify({ userAssigned: { id: UAI, attached: true }, referenceIdentity: UAI })}`
    ])
    expect(applied.writes).toEqual([
      'Granted the user-assigned identity of api on vault kv: secrets: get, list (access policy).',
      'Attached user-assigned identity shop-id to api (other identities kept) and made it the keyVaultReferenceIdentity (was SystemAssigned); one write, the app restarts.'
    ])
  })

  it('leaves the identity switch undone when a grant of the app failed: no reference sees it without access', async () => {
    const st = withIdentity(state([app('api')], [vault('kv', { rbac: true })]))
    const fake = fakeAzure({ create: async () => Promise.reject(new Error('denied')) })
    await expect(applyPlan(plan(want(), st).changes, st, fake.azure, s, far())).rejects.toThrow(/Could not assign/)
    expect(fake.changeIdentity).not.toHaveBeenCalled()
  })

  it('revoke with disable-identity: access removed first, then the reference reset and the detach in one write', async () => {
    const attached = app('api', {
      identityType: 'SystemAssigned, UserAssigned',
      userAssignedIds: [UAI],
      keyVaultReferenceIdentity: UAI
    })
    const st = withIdentity(
      state([attached], [vault('kv', { accessPolicies: [policy(UAI_PRINCIPAL, { secrets: ['get', 'list'] })] })])
    )
    const fake = fakeAzure()
    const changes = makeRevokePlan(want(), st, true).changes
    const applied = await applyPlan(changes, st, fake.azure, inputs({ mode: 'revoke' }), far())
    expect(fake.log).toEqual([
      `policy remove kv ${UAI_PRINCIPAL}`,
      'read kv',
      `identity api ${JSON.stringify({ userAssigned: { id: UAI, attached: false }, referenceIdentity: 'SystemAssigned' })}`
    ])
    expect(applied.writes.at(-1)).toBe(
      'Detached user-assigned identity shop-id from api (the identity itself is kept), keyVaultReferenceIdentity reset to SystemAssigned; one write, the app restarts.'
    )
  })
})
