// Key Vault references of app settings and connection strings, as the action reads, names and
// heals them; and the App Configuration references a change of keyVaultReferenceIdentity moves.
import { describe, expect, it } from '@jest/globals'
import { appConfigurationNotes } from '../../src/plan/app-configuration.js'
import { toReferenceState } from '../../src/azure/site-config.js'
import type { Plan } from '../../src/model/changes.js'
import type { Change } from '../../src/model/changes.js'
import { describeChange } from '../../src/model/change-text.js'
import { planSettings } from '../../src/plan/app-settings.js'
import {
  findReference,
  isAppConfigurationReference,
  referenceKey,
  referenceLabel,
  type ReferenceState,
  type WantedSetting
} from '../../src/model/references.js'
import { app, perms, state, vault } from '../fixtures.js'

const DB: WantedSetting = {
  name: 'DB',
  vault: 'shop-kv',
  secret: 'db',
  value: '@Microsoft.KeyVault(VaultName=shop-kv;SecretName=db)'
}
const refOf = (setting: string, status: string, over: Partial<ReferenceState> = {}): ReferenceState => ({
  setting,
  status,
  reference: DB.value,
  vaultName: 'shop-kv',
  secretName: 'db',
  ...over
})

describe('references of app settings and connection strings', () => {
  it('a connection string is keyed and labelled apart from an app setting of the same name', () => {
    const cs = refOf('Main', 'Resolved', { collection: 'connectionstrings' })
    expect(referenceKey(cs)).toBe('connectionStrings/Main')
    expect(referenceKey(refOf('Main', 'Resolved'))).toBe('Main')
    expect(referenceLabel(cs)).toBe('connection string Main')
    // The action's own settings are app settings: a connection string of that name is not one of them.
    expect(findReference([cs], 'main')).toBeUndefined()
    expect(findReference([cs, refOf('MAIN', 'Resolved')], 'main')?.setting).toBe('MAIN')
  })

  it('an App Configuration reference is recognised in any case and marked', () => {
    const value = '@microsoft.appconfiguration(Endpoint=https://s.azconfig.io; Key=k)'
    expect(isAppConfigurationReference(value)).toBe(true)
    expect(isAppConfigurationReference(DB.value)).toBe(false)
    expect(referenceLabel({ setting: 'FONT', reference: value })).toBe('FONT (App Configuration)')
  })

  it('identityType arrives as a string (live) or as the spec object: both are read; absent stays absent', () => {
    const item = (identityType: unknown) => ({
      id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/a/config/configreferences/connectionstrings/Main',
      properties: { reference: DB.value, status: 'Resolved', vaultName: 'kv', secretName: 'db', identityType }
    })
    expect(toReferenceState(item('UserAssigned') as never, 'connectionstrings')).toEqual({
      setting: 'Main',
      collection: 'connectionstrings',
      reference: DB.value,
      status: 'Resolved',
      vaultName: 'kv',
      secretName: 'db',
      secretVersion: undefined,
      details: undefined,
      identity: 'UserAssigned'
    })
    const spec = toReferenceState(
      item({ type: 'SystemAssigned', userAssignedIdentities: null }) as never,
      'appsettings'
    )
    expect(spec.identity).toBe('SystemAssigned')
    expect(spec.collection).toBeUndefined()
    expect(toReferenceState(item(null) as never, 'appsettings').identity).toBeUndefined()
  })
})

describe('planSettings: cached failures of connection strings', () => {
  const grantOn = (vaultName: string): Change => ({
    kind: 'add-access-policy',
    vault: vaultName,
    vaultId: vault(vaultName).id,
    entries: [{ app: 'api', principalId: 'p', tenantId: 't', permissions: perms({ secrets: ['get'] }) }]
  })

  it('a failed connection-string reference on a vault this run grants is resolved again, labelled, even when an app setting shares its name', () => {
    const refs = [
      refOf('DB', 'Resolved'),
      refOf('DB', 'AccessToKeyVaultDenied', { collection: 'connectionstrings' }),
      refOf('Other', 'AccessToKeyVaultDenied', { collection: 'connectionstrings', vaultName: 'elsewhere' })
    ]
    const st = state(
      [app('api')],
      [vault('shop-kv')],
      {},
      {
        references: new Map([['api', refs]]),
        secrets: [{ vault: 'shop-kv', secret: 'db', exists: true, enabled: true }]
      }
    )
    const [change] = planSettings([DB], st, [grantOn('shop-kv')])
    expect(change).toEqual({
      kind: 'set-app-settings',
      app: 'api',
      names: [],
      refresh: [{ setting: 'connection string DB', status: 'AccessToKeyVaultDenied' }]
    })
    // Nothing to write: the documented refresh call, and its cost, not a rewrite of the settings.
    expect(describeChange(change)).toBe(
      'Key Vault references of api: have App Service resolve connection string DB (AccessToKeyVaultDenied) again (the refresh call; the app restarts)'
    )
  })

  it('with settings to write, the write itself resolves them again', () => {
    const change: Change = {
      kind: 'set-app-settings',
      app: 'api',
      names: ['DB'],
      refresh: [{ setting: 'OLD', status: 'SecretNotFound' }]
    }
    expect(describeChange(change)).toBe(
      'app settings of api: set DB to Key Vault references; App Service resolves OLD (SecretNotFound) again with that write (the whole collection is written back, other settings kept; the app restarts)'
    )
  })
})

describe('appConfigurationNotes', () => {
  const UAI = '/subscriptions/s/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shared'
  const attach = (setReference: boolean): Change => ({
    kind: 'attach-identity',
    app: 'api',
    identityId: UAI,
    identityName: 'shared',
    attach: true,
    setReference,
    referenceFrom: 'SystemAssigned'
  })
  const plan = (...changes: Change[]): Plan => ({ changes, grants: [] })
  const found = new Map([
    [
      'api',
      [
        { setting: 'FONT', collection: 'appsettings' as const },
        { setting: 'Cfg', collection: 'connectionstrings' as const }
      ]
    ]
  ])

  it('names the references and the new identity when keyVaultReferenceIdentity changes', () => {
    const [note, ...rest] = appConfigurationNotes(plan(attach(true)), found)
    expect(rest).toEqual([])
    expect(note).toMatch(
      /^api: keyVaultReferenceIdentity also selects the identity of its App Configuration references \(FONT, connection string Cfg\); keyVaultReferenceIdentity changes from SystemAssigned to shared: they will resolve through shared\. Grant that identity 'App Configuration Data Reader'/
    )
  })

  it('says so on a reset (revoke) and when the system identity is turned off', () => {
    const reset: Change = {
      kind: 'detach-identity',
      app: 'api',
      identityId: UAI,
      identityName: 'shared',
      detach: true,
      resetReference: true
    }
    expect(appConfigurationNotes(plan(reset), found)[0]).toContain(
      'keyVaultReferenceIdentity is reset from shared to SystemAssigned: they will resolve through the system-assigned identity (and shared is detached)'
    )
    const off: Change = {
      kind: 'disable-identity',
      app: 'api',
      from: 'SystemAssigned',
      to: 'None',
      keepsUserAssigned: 0
    }
    expect(appConfigurationNotes(plan(off), found)[0]).toContain('the system-assigned identity is turned off')
  })

  it('nothing when the identity they use does not change, or the app has none; a hedge when they could not be read', () => {
    expect(appConfigurationNotes(plan(attach(false)), found)).toEqual([])
    expect(appConfigurationNotes(plan(attach(true)), new Map([['api', []]]))).toEqual([])
    expect(appConfigurationNotes(plan(attach(true)), undefined)).toEqual([])
    const [hedge] = appConfigurationNotes(plan(attach(true)), new Map([['api', undefined]]))
    expect(hedge).toContain('any App Configuration references it has (the action could not read its settings to check')
  })
})
