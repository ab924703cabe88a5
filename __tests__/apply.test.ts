import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { AppState } from '../src/azure/sites.js'
import type { AccessPolicy, VaultState } from '../src/azure/vaults.js'

const notice = jest.fn<(m: string) => void>()
const warning = jest.fn<(m: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({ notice, warning, info: jest.fn(), debug: jest.fn() }))

const { applyPlan } = await import('../src/apply.js')
const { makePlan } = await import('../src/plan.js')
const { assignmentName, ROLES } = await import('../src/rbac.js')
const { AzureOperationError } = await import('../src/errors.js')
const { computeOutputs } = await import('../src/report.js')
const { app, appWithoutIdentity, assignment, perms, policy, PRINCIPAL, settings, state, target, TENANT, vault } = await import('./fixtures.js')
import type { Azure, CurrentState } from '../src/read.js'

const NEW_PRINCIPAL = 'cccccccc-0000-0000-0000-00000000000c'

/** A fake of the Azure clients that records every call in order. */
function fakeAzure(options: { create?: (...args: unknown[]) => Promise<'created' | 'exists'>; setSystemIdentity?: (app: AppState) => Promise<AppState> } = {}) {
  const log: string[] = []
  const setSystemIdentity = jest.fn(async (a: AppState, enabled: boolean): Promise<AppState> => {
    log.push(`identity ${a.target.key} ${enabled}`)
    if (options.setSystemIdentity) return options.setSystemIdentity(a)
    return { ...a, systemAssigned: true, identityType: 'SystemAssigned', principalId: NEW_PRINCIPAL, tenantId: TENANT }
  })
  const changeAccessPolicies = jest.fn(async (v: VaultState, operation: 'add' | 'remove', entries: AccessPolicy[]) => {
    log.push(`policy ${operation === 'add' ? '' : 'remove '}${v.name} ${entries.map((e) => e.objectId).join(',')}`)
  })
  const create = jest.fn(async (scope: string, name: string, roleDefinitionId: string, principalId: string) => {
    log.push(`role ${principalId}`)
    return options.create ? options.create(scope, name, roleDefinitionId, principalId) : ('created' as const)
  })
  const vaults = jest.fn((_subscriptionId: string) => ({ changeAccessPolicies }))
  const roles = jest.fn(async () => ({ create }))
  const azure = { sites: { setSystemIdentity }, vaults, roles } as unknown as Azure
  return { azure, log, setSystemIdentity, changeAccessPolicies, create, vaults, roles }
}

const s = settings()
const far = () => Date.now() + 3600_000
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
    expect(entries).toEqual([expect.objectContaining({ objectId: NEW_PRINCIPAL, tenantId: TENANT, permissions: perms({ secrets: ['get', 'list'] }) })])
    expect(fake.vaults).toHaveBeenCalledWith(st.vaults[0].subscriptionId)
    expect(applied.principals.get('api')).toEqual({ principalId: NEW_PRINCIPAL, tenantId: TENANT })
    expect(applied.writes).toEqual([
      `Turned on the system-assigned identity of api (principal ${NEW_PRINCIPAL}).`,
      'Granted api on vault kv: secrets: get, list (access policy).'
    ])
    expect(notice).toHaveBeenCalledWith(`Turned on the system-assigned identity of api (principal ${NEW_PRINCIPAL}).`)
    expect(notice).toHaveBeenCalledWith('Granted api on vault kv: secrets: get, list (access policy).')
  })

  it('passes the app state (with its user-assigned identities) to the identity PATCH', async () => {
    const uai = ['/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u1']
    const st = state([appWithoutIdentity('api', { identityType: 'UserAssigned', userAssignedIds: uai })], [vault('kv')])
    const fake = fakeAzure()
    await applyPlan(plan(want(), st).changes, st, fake.azure, s, far())
    expect(fake.setSystemIdentity).toHaveBeenCalledWith(expect.objectContaining({ userAssignedIds: uai, identityType: 'UserAssigned' }), true)
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
    const sx = settings({ apps: [target('api'), target('web')] })
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
    const applied = await applyPlan(plan(want(perms({ secrets: ['get'], keys: ['sign'] })), st).changes, st, fake.azure, s, far())
    expect(fake.log).toEqual(['identity api true', `role ${NEW_PRINCIPAL}`, `role ${NEW_PRINCIPAL}`])
    expect(fake.create.mock.calls).toEqual([
      [kv.id, assignmentName(kv.id, ROLES.secretsUser.guid, NEW_PRINCIPAL), expect.stringMatching(new RegExp(`/roleDefinitions/${ROLES.secretsUser.guid}$`)), NEW_PRINCIPAL],
      [kv.id, assignmentName(kv.id, ROLES.cryptoUser.guid, NEW_PRINCIPAL), expect.stringMatching(new RegExp(`/roleDefinitions/${ROLES.cryptoUser.guid}$`)), NEW_PRINCIPAL]
    ])
    expect(applied.writes).toContain("Granted api on vault kv: role 'Key Vault Secrets User'.")
    expect(applied.writes).toContain("Granted api on vault kv: role 'Key Vault Crypto User'.")
  })

  it('counts RoleAssignmentExists ("exists") as not a write', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv])
    const fake = fakeAzure({ create: async () => 'exists' })
    const p = plan(want(), st)
    expect(p.changes).toHaveLength(1)
    const applied = await applyPlan(p.changes, st, fake.azure, s, far())
    expect(fake.create).toHaveBeenCalledTimes(1)
    expect(applied.writes).toEqual([])
    expect(notice).not.toHaveBeenCalled()
    expect(computeOutputs(s, p, applied).changed).toBe('false')
  })

  it('does not call the RBAC client when every role is held', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv], { [kv.id]: [assignment(kv.id, ROLES.secretsUser.guid)] })
    const fake = fakeAzure()
    await applyPlan(plan(want(), st).changes, st, fake.azure, s, far())
    expect(fake.roles).not.toHaveBeenCalled()
  })

  it('retries PrincipalNotFound (directory replication) with a warning, then succeeds', async () => {
    jest.useFakeTimers({ now: Date.now() })
    try {
      const kv = vault('kv', { rbac: true })
      const st = state([appWithoutIdentity('api')], [kv])
      let calls = 0
      const fake = fakeAzure({
        create: async () => {
          if (++calls <= 2) throw Object.assign(new Error('Principal does not exist in the directory'), { code: 'PrincipalNotFound', statusCode: 400 })
          return 'created'
        }
      })
      const done = applyPlan(plan(want(), st).changes, st, fake.azure, s, Date.now() + 300_000)
      await jest.advanceTimersByTimeAsync(2000)
      await jest.advanceTimersByTimeAsync(4000)
      const applied = await done
      expect(fake.create).toHaveBeenCalledTimes(3)
      expect(warning).toHaveBeenCalledTimes(2)
      expect(warning.mock.calls[0][0]).toContain('PrincipalNotFound')
      expect(applied.writes).toEqual([expect.stringContaining('Turned on'), "Granted api on vault kv: role 'Key Vault Secrets User'."])
    } finally {
      jest.useRealTimers()
    }
  })

  it('does not retry other errors, and wraps them with the vault as context', async () => {
    const kv = vault('kv', { rbac: true })
    const st = state([app('api')], [kv])
    const cause = Object.assign(new Error('denied'), { code: 'AuthorizationFailed', statusCode: 403 })
    const fake = fakeAzure({ create: async () => Promise.reject(cause) })
    const error = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AzureOperationError)
    expect((error as InstanceType<typeof AzureOperationError>).cause).toBe(cause)
    expect((error as Error).message).toContain("Could not assign 'Key Vault Secrets User' on Key Vault 'kv'")
    expect(fake.create).toHaveBeenCalledTimes(1)
  })
})

describe('applyPlan: failures', () => {
  it('does not grant anything when turning on an identity fails', async () => {
    const cause = Object.assign(new Error('nope'), { code: 'AuthorizationFailed', statusCode: 403 })
    const st = state([appWithoutIdentity('api')], [vault('kv')])
    const fake = fakeAzure({ setSystemIdentity: async () => Promise.reject(cause) })
    const error = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AzureOperationError)
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

  it('fails clearly when Azure returns no principal id', async () => {
    const st = state([appWithoutIdentity('api')], [vault('kv')])
    const fake = fakeAzure({ setSystemIdentity: async (a) => ({ ...a, systemAssigned: true, principalId: undefined }) })
    await expect(applyPlan(plan(want(), st).changes, st, fake.azure, s, far())).rejects.toThrow(
      "Azure turned on the identity of 'api' but returned no principal id."
    )
    expect(fake.changeAccessPolicies).not.toHaveBeenCalled()
  })

  it('wraps an access-policy failure with the vault as context', async () => {
    const st = state([app('api')], [vault('kv')])
    const fake = fakeAzure()
    fake.changeAccessPolicies.mockRejectedValueOnce(new Error('boom'))
    const error = await applyPlan(plan(want(), st).changes, st, fake.azure, s, far()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AzureOperationError)
    expect((error as Error).message).toContain("Could not add access policies to Key Vault 'kv'")
  })
})
