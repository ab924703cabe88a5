import { beforeEach, describe, expect, it, jest } from '@jest/globals'

jest.unstable_mockModule('@actions/core', () => ({ warning: jest.fn(), info: jest.fn(), debug: jest.fn() }))
jest.unstable_mockModule('@azure/arm-keyvault/api', () => ({
  createKeyVaultManagement: jest.fn(() => ({ fake: 'context' }))
}))
const get = jest.fn<(...a: unknown[]) => Promise<unknown>>()
const listBySubscription = jest.fn<(...a: unknown[]) => AsyncIterable<unknown>>()
const updateAccessPolicy = jest.fn<(...a: unknown[]) => Promise<unknown>>()
jest.unstable_mockModule('@azure/arm-keyvault/api/vaults', () => ({ get, listBySubscription, updateAccessPolicy }))

const { Vaults, VaultNotFoundError, toVaultState, resourceGroupOf } = await import('../src/azure/vaults.js')
const { RetryBudget } = await import('../src/azure/pipeline.js')
const { settings, SUB, TENANT, PRINCIPAL, vaultId } = await import('./fixtures.js')

const credential = { getToken: jest.fn(async () => null) }
const vaults = () => new Vaults(credential, settings().cloud, new RetryBudget(60), SUB)
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
async function* iterate<T>(items: T[]) {
  yield* items
}

beforeEach(() => {
  jest.clearAllMocks()
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

  it('resourceGroupOf reads the group case-insensitively', () => {
    expect(resourceGroupOf('/subscriptions/s/resourcegroups/My-RG/providers/x')).toBe('My-RG')
    expect(resourceGroupOf('/subscriptions/s')).toBe('')
  })
})

describe('Vaults', () => {
  it('reads by resource group with a GET', async () => {
    get.mockResolvedValue(wire('kv'))
    const state = await vaults().read({ name: 'kv', resourceGroup: 'kv-rg', subscriptionId: SUB })
    expect(get).toHaveBeenCalledWith({ fake: 'context' }, 'kv-rg', 'kv')
    expect(state.resourceGroup).toBe('kv-rg')
    expect(listBySubscription).not.toHaveBeenCalled()
  })

  it('finds vaults by name (case-insensitively) with one listing of the subscription', async () => {
    listBySubscription.mockImplementation(() => iterate([wire('other'), wire('Shop-KV'), wire('kv-two')]))
    const client = vaults()
    const [a, b] = await Promise.all([
      client.read({ name: 'shop-kv', subscriptionId: SUB }),
      client.read({ name: 'kv-two', subscriptionId: SUB })
    ])
    expect(a.name).toBe('Shop-KV')
    expect(a.resourceGroup).toBe('KV-RG')
    expect(b.name).toBe('kv-two')
    expect(listBySubscription).toHaveBeenCalledTimes(1)
    expect(get).not.toHaveBeenCalled()
  })

  it('says it searched the subscription when the vault is not there', async () => {
    listBySubscription.mockImplementation(() => iterate([wire('other')]))
    const error = await vaults()
      .read({ name: 'shop-kv', subscriptionId: SUB })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(VaultNotFoundError)
    expect((error as Error).message).toContain(`Key Vault 'shop-kv' was not found in subscription ${SUB}`)
    expect((error as Error).message).toContain("'vault-resource-group'")
  })

  it("adds access policies with operation 'add' only, carrying only tenant, object and non-empty permission lists", async () => {
    updateAccessPolicy.mockResolvedValue({})
    const state = toVaultState({ name: 'kv', subscriptionId: SUB }, wire('kv') as never)
    await vaults().changeAccessPolicies(state, 'add', [
      {
        tenantId: TENANT,
        objectId: PRINCIPAL,
        applicationId: undefined,
        permissions: { secrets: ['list'], keys: [], certificates: [], storage: [] },
        ...{ app: 'api' }
      }
    ])
    expect(updateAccessPolicy).toHaveBeenCalledTimes(1)
    expect(updateAccessPolicy.mock.calls[0].slice(1)).toEqual([
      'KV-RG',
      'kv',
      'add',
      {
        properties: { accessPolicies: [{ tenantId: TENANT, objectId: PRINCIPAL, permissions: { secrets: ['list'] } }] }
      }
    ])
  })
})
