import { describe, expect, it, jest } from '@jest/globals'

const warning = jest.fn<(m: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({ warning }))
const { unresolvedReferences, verifyFailure, warnAccessStillHeld } = await import('../../src/report/verify.js')
import { makePlan, type Wanted } from '../../src/plan/plan.js'
import { type Plan } from '../../src/model/changes.js'
import { ROLES } from '../../src/model/roles.js'
import {
  app,
  appWithoutIdentity,
  assignment,
  perms,
  policy,
  PRINCIPAL,
  PRINCIPAL_2,
  state,
  vault
} from '../fixtures.js'

const wanted = (p = perms({ secrets: ['get', 'list'] })): Wanted => ({ permissions: p, accessModel: 'auto' })
const FIX_PREFIX = "Fix: run this action with 'mode: apply' (same inputs) from an identity allowed to grant access;"

describe('verifyFailure', () => {
  it('lists the missing access-policy permissions of one app and the fix', () => {
    const kv = vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get'] })] })
    const plan = makePlan(wanted(), state([app('api')], [kv]))
    expect(verifyFailure(plan)).toBe(
      [
        'Verify failed: 1 thing(s) missing:',
        '  - api on vault kv (access-policy): missing secrets: list',
        `${FIX_PREFIX} 'mode: plan' previews the 1 change(s) it would make.`
      ].join('\n')
    )
  })

  it('names missing roles on an RBAC vault', () => {
    const kv = vault('kv', { rbac: true })
    const plan = makePlan(
      wanted(perms({ secrets: ['get'], keys: ['sign'] })),
      state([app('api')], [kv], { [kv.id]: [assignment(kv.id, ROLES.secretsUser.guid)] })
    )
    const message = verifyFailure(plan)
    expect(message).toContain('  - api on vault kv (rbac): missing role(s) Key Vault Crypto User\n')
    expect(message).not.toContain('Key Vault Secrets User')
    expect(message.split('\n')[0]).toBe('Verify failed: 1 thing(s) missing:')
  })

  it('reports an identity that is off first, then what it lacks, with the number of changes apply would make', () => {
    const plan = makePlan(wanted(), state([appWithoutIdentity('api')], [vault('kv')]))
    expect(plan.changes).toHaveLength(2)
    const lines = verifyFailure(plan).split('\n')
    expect(lines).toEqual([
      'Verify failed: 2 thing(s) missing:',
      '  - api: the system-assigned identity is off',
      '  - api on vault kv (access-policy): missing secrets: get, list',
      `${FIX_PREFIX} 'mode: plan' previews the 2 change(s) it would make.`
    ])
  })

  it('leaves out app × vault pairs that already have everything', () => {
    const ok = vault('kv-ok', {
      accessPolicies: [
        policy(PRINCIPAL, { secrets: ['get', 'list'] }),
        policy(PRINCIPAL_2, { secrets: ['get', 'list'] })
      ]
    })
    const short = vault('kv-short', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list'] })] })
    const plan = makePlan(wanted(), state([app('api'), app('web', { principalId: PRINCIPAL_2 })], [ok, short]))
    const message = verifyFailure(plan)
    expect(message).toContain('Verify failed: 1 thing(s) missing:')
    expect(message).toContain('  - web on vault kv-short (access-policy): missing secrets: get, list')
    expect(message).not.toContain('kv-ok')
    expect(message).not.toMatch(/ - api /)
  })

  it('counts lines, not changes: one access-policy change for two apps is two missing things', () => {
    const plan = makePlan(wanted(), state([app('api'), app('web', { principalId: PRINCIPAL_2 })], [vault('kv')]))
    expect(plan.changes).toHaveLength(1)
    const message = verifyFailure(plan)
    expect(message).toMatch(/^Verify failed: 2 thing\(s\) missing:/)
    expect(message).toContain('previews the 1 change(s)')
  })

  it('works from a hand-made plan (no enable-identity line for other change kinds)', () => {
    const plan: Plan = {
      changes: [{ kind: 'disable-identity', app: 'api', from: 'SystemAssigned', to: 'None', keepsUserAssigned: 0 }],
      grants: [{ app: 'api', vault: 'kv', model: 'rbac', requested: 'Key Vault Secrets User', delta: '' }]
    }
    expect(verifyFailure(plan).split('\n')).toEqual([
      'Verify failed: 0 thing(s) missing:',
      `${FIX_PREFIX} 'mode: plan' previews the 1 change(s) it would make.`
    ])
  })
})

describe('verifyFailure: Key Vault references', () => {
  const refs = new Map([
    [
      'api',
      [
        {
          setting: 'DB',
          reference: '@Microsoft.KeyVault(VaultName=kv;SecretName=db)',
          status: 'Resolved',
          vaultName: 'kv',
          secretName: 'db'
        },
        {
          setting: 'LEGACY',
          reference: '@Microsoft.KeyVault(VaultName=old-kv;SecretName=x)',
          status: 'AccessToKeyVaultDenied',
          vaultName: 'old-kv',
          secretName: 'x',
          details:
            "Key Vault reference was not able to be resolved because site was denied access to Key Vault reference's vault."
        }
      ]
    ]
  ])

  it('names every reference of the app that does not resolve, with its vault and secret, status, details and fix', () => {
    const plan = makePlan(
      wanted(),
      state([app('api')], [vault('kv', { accessPolicies: [policy(PRINCIPAL, { secrets: ['get', 'list'] })] })])
    )
    const unresolved = unresolvedReferences(refs)
    expect(unresolved.map((u) => u.ref.setting)).toEqual(['LEGACY'])
    const message = verifyFailure(plan, unresolved)
    expect(message).toMatch(/^Verify failed: 1 thing\(s\) missing or not resolving:\n/)
    expect(message).toContain(
      "  - api: LEGACY → old-kv/x: AccessToKeyVaultDenied (App Service says: Key Vault reference was not able to be resolved because site was denied access to Key Vault reference's vault.). Fix: the app's identity may not read the secret"
    )
    expect(message).toContain('For references to vaults not in these inputs, grant access to those vaults too.')
  })
})

describe('warnAccessStillHeld', () => {
  it('warns once per role assignment or entry still granting revoked access, naming it, its scope, why and the fix', () => {
    warning.mockClear()
    const reason = 'revoke deletes only role assignments this action created. Fix: delete it.'
    const plan: Plan = {
      changes: [],
      grants: [
        {
          app: 'api',
          vault: 'kv',
          model: 'rbac',
          requested: 'Key Vault Secrets User',
          delta: '',
          stillHeld: [
            {
              grants: 'secrets: get, list',
              through: "role 'Key Vault Secrets User' at scope /rg (assignment p)",
              reason
            }
          ]
        },
        { app: 'web', vault: 'kv', model: 'rbac', requested: 'Key Vault Secrets User', delta: 'Key Vault Secrets User' }
      ]
    }
    warnAccessStillHeld(plan)
    expect(warning.mock.calls).toEqual([
      [
        `api still holds secrets: get, list on vault kv through role 'Key Vault Secrets User' at scope /rg (assignment p): ${reason}`
      ]
    ])
  })
})
