import { beforeEach, describe, expect, it, jest } from '@jest/globals'

jest.unstable_mockModule('@actions/core', () => ({ warning: jest.fn(), info: jest.fn(), debug: jest.fn() }))

interface Response {
  status: string
  body: unknown
}
const put = jest.fn<(options: unknown) => Promise<Response>>()
const get = jest.fn<(options: unknown) => Promise<Response>>()
const del = jest.fn<(options: unknown) => Promise<Response>>()
const pathUnchecked = jest.fn((path: string) => ({ put, get, delete: del, path }))
const getClient = jest.fn((_endpoint: string, _credential: unknown, _options: unknown) => ({ pathUnchecked }))
/** As @azure-rest/core-client builds it from an ARM error body. */
const createRestError = (response: Response) => {
  const error = (response.body as { error?: { code?: string; message?: string } }).error
  return Object.assign(new Error(error?.message ?? 'error'), {
    name: 'RestError',
    code: error?.code,
    statusCode: Number(response.status)
  })
}
jest.unstable_mockModule('@azure-rest/core-client', () => ({ getClient, createRestError }))

const { RoleAssignments } = await import('../src/azure/roles.js')
const { RetryBudget } = await import('../src/azure/pipeline.js')
const { settings, vaultId, PRINCIPAL, SUB } = await import('./fixtures.js')

const scope = vaultId('kv')
const roleDef = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`
const client = () => new RoleAssignments({ getToken: jest.fn(async () => null) }, settings().cloud, new RetryBudget(60))

beforeEach(() => {
  jest.clearAllMocks()
})

describe('RoleAssignments.create', () => {
  it('PUTs the assignment at the vault scope with principalType ServicePrincipal', async () => {
    put.mockResolvedValue({ status: '201', body: {} })
    await expect(client().create(scope, 'name-1', roleDef, PRINCIPAL)).resolves.toBe('created')
    expect(getClient).toHaveBeenCalledWith(
      'https://management.azure.com',
      expect.anything(),
      expect.objectContaining({ credentials: { scopes: ['https://management.azure.com/.default'] } })
    )
    expect(pathUnchecked).toHaveBeenCalledWith(`${scope}/providers/Microsoft.Authorization/roleAssignments/name-1`)
    expect(pathUnchecked.mock.calls[0][0].startsWith('//')).toBe(false)
    expect(put).toHaveBeenCalledWith({
      queryParameters: { 'api-version': '2022-04-01' },
      contentType: 'application/json',
      body: { properties: { roleDefinitionId: roleDef, principalId: PRINCIPAL, principalType: 'ServicePrincipal' } }
    })
  })

  it("treats 200 (same name, re-run) as 'created'", async () => {
    put.mockResolvedValue({ status: '200', body: {} })
    await expect(client().create(scope, 'n', roleDef, PRINCIPAL)).resolves.toBe('created')
  })

  it("treats 409 RoleAssignmentExists as 'exists'", async () => {
    put.mockResolvedValue({
      status: '409',
      body: { error: { code: 'RoleAssignmentExists', message: 'The role assignment already exists.' } }
    })
    await expect(client().create(scope, 'n', roleDef, PRINCIPAL)).resolves.toBe('exists')
  })

  it('throws other errors with their code (PrincipalNotFound is retried by the caller)', async () => {
    put.mockResolvedValue({
      status: '400',
      body: { error: { code: 'PrincipalNotFound', message: 'Principal does not exist' } }
    })
    await expect(client().create(scope, 'n', roleDef, PRINCIPAL)).rejects.toMatchObject({
      code: 'PrincipalNotFound',
      statusCode: 400
    })
  })
})

describe('RoleAssignments.listAtOrAbove', () => {
  it('refuses a nextLink to another host: the bearer token only goes to the ARM endpoint', async () => {
    get.mockResolvedValueOnce({ status: '200', body: { value: [], nextLink: 'https://evil.example/next?page=2' } })
    await expect(client().listAtOrAbove(scope)).rejects.toThrow(
      'Refusing to follow a role assignment page link outside https://management.azure.com: https://evil.example'
    )
    expect(get).toHaveBeenCalledTimes(1)
  })

  it('lists with atScope() and follows nextLink', async () => {
    const wire = (name: string, s: string) => ({
      id: `${s}/x/${name}`,
      name,
      properties: { scope: s, roleDefinitionId: roleDef, principalId: PRINCIPAL, principalType: 'ServicePrincipal' }
    })
    get
      .mockResolvedValueOnce({
        status: '200',
        body: { value: [wire('a', scope)], nextLink: 'https://management.azure.com/next?page=2' }
      })
      .mockResolvedValueOnce({ status: '200', body: { value: [wire('b', `/subscriptions/${SUB}`)] } })
    const list = await client().listAtOrAbove(scope)
    expect(list.map((a) => [a.name, a.scope, a.principalId])).toEqual([
      ['a', scope, PRINCIPAL],
      ['b', `/subscriptions/${SUB}`, PRINCIPAL]
    ])
    expect(pathUnchecked.mock.calls.map((c) => c[0])).toEqual([
      `${scope}/providers/Microsoft.Authorization/roleAssignments`,
      'https://management.azure.com/next?page=2'
    ])
    expect(get.mock.calls[0][0]).toEqual({ queryParameters: { $filter: 'atScope()', 'api-version': '2022-04-01' } })
    expect(get.mock.calls[1][0]).toEqual({ queryParameters: undefined })
  })

  it('throws on an error status', async () => {
    get.mockResolvedValue({ status: '403', body: { error: { code: 'AuthorizationFailed', message: 'no' } } })
    await expect(client().listAtOrAbove(scope)).rejects.toMatchObject({ code: 'AuthorizationFailed' })
  })
})
