import { describe, expect, it } from '@jest/globals'

// toVaultState is pure; the client itself is tested against the fake (test/azure/vaults-roles.test.ts).
const { toVaultState, resourceGroupOf } = await import('../../src/azure/vaults.js')
const { SUB, TENANT, PRINCIPAL, vaultId } = await import('../fixtures.js')

const wire = (name: string, over: object = {}) => ({
  id: vaultId(name, 'KV-RG'),
  name,
  properties: {
    tenantId: TENANT,
    sku: { family: 'A', name: 'standard' },
    enableRbacAuthorization: false,
    accessPolicies: [],
    ...over
  }
})

describe('toVaultState / resourceGroupOf', () => {
  it('normalises access policies and reads the model', () => {
    const state = toVaultState(
      { name: 'kv', subscriptionId: SUB },
      wire('kv', {
        enableRbacAuthorization: true,
        accessPolicies: [
          { tenantId: TENANT, objectId: PRINCIPAL, applicationId: 'app', permissions: { secrets: ['get'] } }
        ]
      }) as never
    )
    expect(state.rbac).toBe(true)
    expect(state.resourceGroup).toBe('KV-RG')
    expect(state.accessPolicies).toEqual([
      {
        tenantId: TENANT,
        objectId: PRINCIPAL,
        applicationId: 'app',
        permissions: { secrets: ['get'], keys: [], certificates: [], storage: [] }
      }
    ])
  })

  it('treats a missing enableRbacAuthorization as access policies', () => {
    expect(
      toVaultState({ name: 'kv', subscriptionId: SUB }, wire('kv', { enableRbacAuthorization: undefined }) as never)
        .rbac
    ).toBe(false)
  })

  it('keeps the vault id only when it is the Key Vault that was asked for', () => {
    const wanted = { name: 'kv', subscriptionId: SUB, resourceGroup: 'kv-rg' }
    expect(toVaultState(wanted, wire('KV') as never).name).toBe('KV')
    for (const id of [
      '',
      '/',
      `/subscriptions/${SUB}`,
      vaultId('other', 'kv-rg'),
      vaultId('kv', 'other-rg'),
      vaultId('kv').replace('Microsoft.KeyVault/vaults', 'Microsoft.Web/sites')
    ]) {
      expect(() => toVaultState(wanted, { ...wire('kv'), id } as never)).toThrow(/Azure returned the vault id/)
    }
    expect(() => toVaultState(wanted, wire('kv', { tenantId: 'not-a-guid' }) as never)).toThrow(/not a GUID/)
  })

  it('resourceGroupOf reads the group case-insensitively', () => {
    expect(resourceGroupOf('/subscriptions/s/resourcegroups/My-RG/providers/x')).toBe('My-RG')
    expect(resourceGroupOf('/subscriptions/s')).toBe('')
  })
})
