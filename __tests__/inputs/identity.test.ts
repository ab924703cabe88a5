import { describe, expect, it } from '@jest/globals'
import { type InputError, parseInputs } from '../../src/inputs/inputs.js'

const SUB = '11111111-1111-1111-1111-111111111111'
const CLIENT = '33333333-3333-3333-3333-333333333333'
const BASE = { 'app-name': 'shop-api', 'resource-group': 'shop-rg', 'vault-name': 'shop-kv', 'subscription-id': SUB }
const parse = (over: Record<string, string>, env: NodeJS.ProcessEnv = {}) =>
  parseInputs((name) => (({ ...BASE, ...over }) as Record<string, string>)[name] ?? '', env)
const problems = (over: Record<string, string>, env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    parse(over, env)
  } catch (error) {
    return (error as InstanceType<typeof InputError>).problems
  }
  throw new Error('expected an InputError')
}

describe('auth-type', () => {
  it('oidc (the default) needs client-id and tenant-id', () => {
    expect(problems({})).toEqual([
      "'client-id' is required (or set the AZURE_CLIENT_ID environment variable).",
      "'tenant-id' is required (or set the AZURE_TENANT_ID environment variable)."
    ])
  })

  it('managed-identity needs neither; client-id (or AZURE_CLIENT_ID) picks a user-assigned identity of the runner', () => {
    expect(parse({ 'auth-type': 'Managed-Identity' })).toMatchObject({
      authType: 'managed-identity',
      clientId: '',
      tenantId: ''
    })
    expect(parse({ 'auth-type': 'managed-identity' }, { AZURE_CLIENT_ID: CLIENT.toUpperCase() }).clientId).toBe(CLIENT)
  })

  it('azure-cli needs neither and refuses a client-id it would not use (but ignores AZURE_CLIENT_ID)', () => {
    expect(parse({ 'auth-type': 'AZURE-CLI' }, { AZURE_CLIENT_ID: CLIENT })).toMatchObject({
      authType: 'azure-cli',
      clientId: ''
    })
    expect(problems({ 'auth-type': 'azure-cli', 'client-id': CLIENT })[0]).toMatch(
      /'client-id' is not used with 'auth-type: azure-cli'/
    )
  })

  it('managed-identity and azure-cli refuse a tenant-id (the token tells the tenant) and ignore AZURE_TENANT_ID', () => {
    for (const authType of ['managed-identity', 'azure-cli']) {
      expect(problems({ 'auth-type': authType, 'tenant-id': CLIENT })).toEqual([
        expect.stringMatching(new RegExp(`^'tenant-id' is not used with 'auth-type: ${authType}': .*Remove it`))
      ])
      expect(parse({ 'auth-type': authType }, { AZURE_TENANT_ID: CLIENT }).tenantId).toBe('')
    }
  })

  it('an unknown auth-type names the valid ones', () => {
    expect(problems({ 'auth-type': 'password' })).toContain(
      "'auth-type' must be one of oidc, managed-identity, azure-cli (case-insensitive), got 'password'."
    )
  })
})

describe('identity', () => {
  const withOidc = { 'client-id': CLIENT, 'tenant-id': CLIENT }

  it('system by default', () => {
    expect(parse(withOidc).identity).toEqual({ kind: 'system' })
  })

  it('a name is looked up in identity-resource-group, else resource-group, in subscription-id', () => {
    expect(parse({ ...withOidc, identity: 'shop-id' }).identity).toEqual({
      kind: 'user',
      name: 'shop-id',
      resourceGroup: 'shop-rg',
      subscriptionId: SUB,
      id: `/subscriptions/${SUB}/resourceGroups/shop-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shop-id`
    })
    expect(parse({ ...withOidc, identity: 'shop-id', 'identity-resource-group': 'ids-rg' }).identity).toMatchObject({
      resourceGroup: 'ids-rg'
    })
  })

  it('a resource id is taken as it is, in another subscription too', () => {
    const other = '44444444-4444-4444-4444-444444444444'
    const id = `/subscriptions/${other}/resourcegroups/Ids/providers/microsoft.managedidentity/userAssignedIdentities/shared_id`
    expect(parse({ ...withOidc, identity: id }).identity).toEqual({
      kind: 'user',
      id,
      subscriptionId: other,
      resourceGroup: 'Ids',
      name: 'shared_id'
    })
  })

  it.each([
    ['a', /'identity' must be 'system', a user-assigned identity's name/],
    [
      '/subscriptions/x/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ok-name',
      /its subscription is not a GUID/
    ],
    ['/subscriptions/x/resourceGroups/g', /'identity' must be 'system'/],
    ['bad/name', /'identity' must be 'system'/]
  ])("'%s' is an input error", (identity, message) => {
    expect(problems({ ...withOidc, identity }).join('\n')).toMatch(message)
  })

  it('identity-resource-group with system is an error: it would be ignored', () => {
    expect(problems({ ...withOidc, 'identity-resource-group': 'x' })).toEqual([
      "'identity-resource-group' is only used with a user-assigned 'identity', not 'system'."
    ])
  })
})
