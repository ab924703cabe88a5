// Input `app-settings`, the app-settings part of the plan, and the merge the executor writes.
import { describe, expect, it } from '@jest/globals'
import { parseAppSettings } from '../../src/inputs/app-settings.js'
import { withReferences } from '../../src/apply/app-settings.js'
import { planSettings } from '../../src/plan/app-settings.js'
import type { ReferenceState, WantedSetting } from '../../src/model/references.js'
import { app, perms, inputs, state, vault } from '../fixtures.js'

const cloud = inputs().cloud
const V1 = '0123456789abcdef0123456789abcdef'
function parse(raw: string, vaults = ['shop-kv', 'other-kv']): { wanted: WantedSetting[]; problems: string[] } {
  const problems: string[] = []
  return { wanted: parseAppSettings(raw, vaults, cloud, problems), problems }
}

describe('parseAppSettings', () => {
  it('a secret name becomes a versionless VaultName reference to the first vault', () => {
    expect(parse('DB_PASSWORD=db-password').wanted).toEqual([
      {
        name: 'DB_PASSWORD',
        vault: 'shop-kv',
        secret: 'db-password',
        value: '@Microsoft.KeyVault(VaultName=shop-kv;SecretName=db-password)'
      }
    ])
  })

  it('a secret URI of a listed vault is written verbatim, with or without a version', () => {
    const { wanted, problems } = parse(
      `A=https://other-kv.vault.azure.net/secrets/a\nB = https://Other-KV.vault.azure.net/secrets/b/${V1}\n\n# a comment\n`
    )
    expect(problems).toEqual([])
    expect(wanted).toEqual([
      {
        name: 'A',
        vault: 'other-kv',
        secret: 'a',
        version: undefined,
        value: '@Microsoft.KeyVault(SecretUri=https://other-kv.vault.azure.net/secrets/a)'
      },
      {
        name: 'B',
        vault: 'other-kv',
        secret: 'b',
        version: V1,
        value: `@Microsoft.KeyVault(SecretUri=https://Other-KV.vault.azure.net/secrets/b/${V1})`
      }
    ])
  })

  it('a versionless secret URI with a trailing slash is accepted and written as given (azure-docs#41917, #63017)', () => {
    const { wanted, problems } = parse('A=https://shop-kv.vault.azure.net/secrets/a/')
    expect(problems).toEqual([])
    expect(wanted).toEqual([
      {
        name: 'A',
        vault: 'shop-kv',
        secret: 'a',
        version: undefined,
        value: '@Microsoft.KeyVault(SecretUri=https://shop-kv.vault.azure.net/secrets/a/)'
      }
    ])
  })

  it("a secret URI of another cloud's vault names both suffixes (a URI, not a secret)", () => {
    const { wanted, problems } = parse('A=https://shop-kv.vault.usgovcloudapi.net/secrets/a')
    expect(wanted).toEqual([])
    expect(problems).toEqual([
      "'app-settings' line 1 sets 'A' to a secret URI of a AzureUSGovernment vault (vault.usgovcloudapi.net), but 'environment' is AzureCloud: the AzureCloud Key Vault DNS suffix is vault.azure.net."
    ])
  })

  it.each([
    ['NOEQUALS', /^'app-settings' line 1 must be NAME=SECRET \(a secret name or a secret URI\), and has no '='\.$/],
    ['1BAD=x', /^'app-settings' line 1 has no valid setting name before '='/],
    ['A=bad_name!', /^'app-settings' line 1 sets 'A' to a value that is neither a secret name/],
    [
      'A=https://unknown-kv.vault.azure.net/secrets/a',
      /sets 'A' to a secret URI of vault 'unknown-kv', which is not in 'vault-name' \(shop-kv, other-kv\)/
    ],
    ['A=https://shop-kv.vault.azure.net/secrets/a//', /neither a secret name .* nor a AzureCloud secret URI/],
    ['A=https://shop-kv.vault.azure.net/secrets/a/123', /a secret URI whose version is not a 32-character hexadecimal/],
    ['A=https://shop-kv.vault.azure.net/secrets/a_b', /a secret URI whose secret name is not 1–127 letters/],
    [
      'A=http://shop-kv.vault.azure.net/secrets/a',
      /https:\/\/<vault>\.vault\.azure\.net\/secrets\/<name>\[\/<version>\]/
    ],
    ['A=https://shop-kv.vault.azure.net/keys/a', /neither a secret name/],
    ['A=https://shop-kv.vault.azure.net/secrets/a?x=1', /neither a secret name/],
    ['A=https://u:p@shop-kv.vault.azure.net/secrets/a', /neither a secret name/]
  ])("'%s' is an input error naming the line and the rule", (line, message) => {
    const { wanted, problems } = parse(line)
    expect(wanted).toEqual([])
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^'app-settings' line 1/)
    expect(problems[0]).toMatch(message)
  })

  // A secret typed in where its name belongs: the line and the setting are named, never the value.
  it.each([
    ['DB_PASSWORD=Sup3r$ecret!Value', 'Sup3r$ecret!Value'],
    ['DB_PASSWORD=c2VjcmV0/Zm9v+YmFy==', 'c2VjcmV0/Zm9v+YmFy=='],
    ['DB_PASSWORD=https://admin:hunter2@db.example.com/x', 'hunter2'],
    ['Sup3r$ecret!Value', 'Sup3r$ecret!Value'],
    ['Sup3r$ecret!=Value', 'Sup3r$ecret']
  ])("'%s' is refused without quoting the value", (line, secret) => {
    const { wanted, problems } = parse(`# first\n${line}`)
    expect(wanted).toEqual([])
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^'app-settings' line 2 /)
    expect(problems[0]).not.toContain(secret)
    if (line.startsWith('DB_PASSWORD=')) {
      expect(problems[0]).toContain("sets 'DB_PASSWORD' to a value that is neither a secret name")
      expect(problems[0]).toContain('the value is not shown')
    }
  })

  it('a name set twice (in any case) is an error naming both lines', () => {
    const { problems } = parse('Db=a\ndb=b')
    expect(problems).toEqual([
      "'app-settings' line 2 sets 'db' again (first on line 1); app setting names are case-insensitive."
    ])
  })

  it('every bad line is reported at once', () => {
    expect(parse('x\ny\nOK=fine').problems).toHaveLength(2)
  })
})

const wanted = parse('DB=db-password\nAPI_KEY=api-key').wanted
const ref = (setting: string, status: string, reference?: string): ReferenceState => ({
  setting,
  status,
  reference: reference ?? wanted.find((w) => w.name === setting)!.value,
  vaultName: 'shop-kv',
  secretName: setting.toLowerCase()
})
const exists = [
  { vault: 'shop-kv', secret: 'db-password', exists: true, enabled: true },
  { vault: 'shop-kv', secret: 'api-key', exists: true, enabled: true }
]

describe('planSettings', () => {
  it('plans the settings not yet right, per app, by name only', () => {
    const st = state(
      [app('api'), app('web')],
      [vault('shop-kv')],
      {},
      {
        references: new Map([
          [
            'api',
            [ref('DB', 'Resolved'), ref('API_KEY', 'Resolved', '@Microsoft.KeyVault(VaultName=old;SecretName=x)')]
          ],
          ['web', [ref('DB', 'Resolved'), ref('API_KEY', 'Resolved')]]
        ]),
        secrets: exists
      }
    )
    expect(planSettings(wanted, st, [])).toEqual([
      { kind: 'set-app-settings', app: 'api', names: ['API_KEY'], refresh: [] }
    ])
  })

  it('a reference right but denied is written back when this run grants the app (App Service caches the failure)', () => {
    const st = state(
      [app('api')],
      [vault('shop-kv')],
      {},
      {
        references: new Map([['api', [ref('DB', 'AccessToKeyVaultDenied'), ref('API_KEY', 'Resolved')]]]),
        secrets: exists
      }
    )
    const grant = { kind: 'add-access-policy' as const, vault: 'shop-kv', vaultId: vault('shop-kv').id, entries: [] }
    const withGrant = {
      ...grant,
      entries: [{ app: 'api', principalId: 'p', tenantId: 't', permissions: perms({ secrets: ['get'] }) }]
    }
    expect(planSettings(wanted, st, [withGrant])).toEqual([
      {
        kind: 'set-app-settings',
        app: 'api',
        names: [],
        refresh: [{ setting: 'DB', status: 'AccessToKeyVaultDenied' }]
      }
    ])
    // Without a grant in this run, a denial may be the vault's firewall: no restart on every run.
    expect(planSettings(wanted, st, [])).toEqual([])
  })

  it('nothing is written back for an app whose user-assigned identity is attached after the grants: that write refetches', () => {
    const st = state(
      [app('api')],
      [vault('shop-kv')],
      {},
      {
        references: new Map([['api', [ref('DB', 'AccessToKeyVaultDenied'), ref('API_KEY', 'MSINotEnabled')]]]),
        secrets: exists
      }
    )
    const grant = {
      kind: 'add-access-policy' as const,
      vault: 'shop-kv',
      vaultId: vault('shop-kv').id,
      entries: [{ app: 'api', principalId: 'p', tenantId: 't', permissions: perms({ secrets: ['get'] }) }]
    }
    const attach = {
      kind: 'attach-identity' as const,
      app: 'api',
      identityId: 'id',
      identityName: 'shop-id',
      attach: true,
      setReference: true,
      referenceFrom: 'SystemAssigned'
    }
    expect(planSettings(wanted, st, [grant, attach])).toEqual([])
  })

  it('a failure the state contradicts (the secret exists, the identity is on) is written back without a grant', () => {
    const st = state(
      [app('api')],
      [vault('shop-kv')],
      {},
      {
        references: new Map([['api', [ref('DB', 'SecretNotFound'), ref('API_KEY', 'MSINotEnabled')]]]),
        secrets: exists
      }
    )
    expect(planSettings(wanted, st, [])[0].refresh.map((r) => r.setting)).toEqual(['DB', 'API_KEY'])
  })

  it('a failing reference this run did not ask for heals too when this run grants its vault', () => {
    const legacy: ReferenceState = {
      setting: 'LEGACY',
      reference: 'x',
      status: 'AccessToKeyVaultDenied',
      vaultName: 'shop-kv',
      secretName: 'l'
    }
    const st = state(
      [app('api')],
      [vault('shop-kv')],
      {},
      {
        references: new Map([['api', [ref('DB', 'Resolved'), ref('API_KEY', 'Resolved'), legacy]]]),
        secrets: exists
      }
    )
    const grant = {
      kind: 'assign-role' as const,
      vault: 'shop-kv',
      vaultId: vault('shop-kv').id,
      app: 'api',
      role: { name: 'Key Vault Secrets User', guid: 'g' },
      roleDefinitionId: 'r'
    }
    expect(planSettings(wanted, st, [grant])[0].refresh).toEqual([
      { setting: 'LEGACY', status: 'AccessToKeyVaultDenied' }
    ])
    expect(planSettings(wanted, st, [])).toEqual([])
  })

  it('a setting spelled in another case is written under the requested name (plan and apply agree)', () => {
    const st = state(
      [app('api')],
      [vault('shop-kv')],
      {},
      {
        references: new Map([['api', [{ ...ref('DB', 'Resolved'), setting: 'db' }, ref('API_KEY', 'Resolved')]]]),
        secrets: exists
      }
    )
    expect(planSettings(wanted, st, [])[0].names).toEqual(['DB'])
  })

  it('refuses when the app resolves references through a user-assigned identity the system mode would not grant', () => {
    const uai = '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/old'
    const st = state([app('api', { keyVaultReferenceIdentity: uai })], [vault('shop-kv')], {}, { secrets: exists })
    expect(() => planSettings(wanted, st, [])).toThrow(
      /resolve through keyVaultReferenceIdentity .*old \(a user-assigned identity\), but 'identity' is system/
    )
    const fine = state(
      [app('api', { keyVaultReferenceIdentity: 'SystemAssigned' })],
      [vault('shop-kv')],
      {},
      { secrets: exists }
    )
    expect(() => planSettings(wanted, fine, [])).not.toThrow()
  })

  it('nothing to do when every reference is right and resolved: a re-run writes nothing', () => {
    const st = state(
      [app('api')],
      [vault('shop-kv')],
      {},
      {
        references: new Map([['api', [ref('DB', 'Resolved'), ref('API_KEY', 'Resolved')]]]),
        secrets: exists
      }
    )
    expect(planSettings(wanted, st, [])).toEqual([])
  })

  it('a missing or disabled secret stops the plan before any write, naming the secret, the vault and the setting', () => {
    const st = state(
      [app('api')],
      [vault('shop-kv')],
      {},
      {
        secrets: [
          { vault: 'shop-kv', secret: 'db-password', exists: false, enabled: false },
          { vault: 'shop-kv', secret: 'api-key', exists: true, enabled: false }
        ]
      }
    )
    expect(() => planSettings(wanted, st, [])).toThrow(
      /Nothing was written: \n- secret 'db-password' \(for DB\) was not found in Key Vault 'shop-kv'\.[\s\S]*az keyvault secret set --vault-name shop-kv --name db-password[\s\S]*secret 'api-key' \(for API_KEY\) in Key Vault 'shop-kv' is disabled/
    )
  })
})

describe('withReferences (what the executor writes)', () => {
  it('keeps every other setting exactly, sets the references, and says which changed', () => {
    const current = { OTHER: 'x', DB: wanted[0].value, api_key: 'plain' }
    const { next, changed } = withReferences(current, wanted)
    expect(next).toEqual({ OTHER: 'x', DB: wanted[0].value, API_KEY: wanted[1].value })
    expect(changed).toEqual(['API_KEY (was api_key)'])
  })

  it('changes nothing when everything is in place', () => {
    const current = { OTHER: 'x', DB: wanted[0].value, API_KEY: wanted[1].value }
    expect(withReferences(current, wanted)).toEqual({ next: current, changed: [] })
  })
})
