// The runner's own sign-in without a federated credential: the VM's managed identity through
// the fake IMDS, and an `az login` session through the az stand-in. Raw calls first, then the real
// @azure/identity credentials (ManagedIdentityCredential, AzureCliCredential) against them.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { AzureCliCredential, ManagedIdentityCredential } from '@azure/identity'
import { startFakeAzure, type FakeAzure, type RunnerInfo, type UserAssignedIdentityRecord } from '../index.ts'
import { call, type Reply } from './helpers.ts'

const run = promisify(execFile)
let fake: FakeAzure
const RG = 'runner-id-rg'
const rgPath = (): string => `/subscriptions/${fake.subscriptionId}/resourceGroups/${RG}`
const lowerRg = (id: string): string => id.replace('/resourceGroups/', '/resourcegroups/')
const claims = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())
const uai = (name: string): UserAssignedIdentityRecord => fake.addUserAssignedIdentity({ resourceGroup: RG, name })
const withToken = (token: string, path: string, v = '2021-04-01'): Promise<Reply> =>
  call(fake, `${fake.armEndpoint}${path}?api-version=${v}`, { headers: { authorization: `Bearer ${token}` } })

beforeAll(async () => {
  fake = await startFakeAzure({ imds: true })
  fake.addResourceGroup(RG)
})
afterAll(async () => {
  await fake.close()
})

describe('IMDS: the runner VM managed identity', () => {
  let a: UserAssignedIdentityRecord, b: UserAssignedIdentityRecord, runner: RunnerInfo
  const imds = (
    query: string,
    headers: Record<string, string> = { Metadata: 'true' },
    path = '/metadata/identity/oauth2/token/'
  ): Promise<Reply> => call(fake, `${fake.imdsHost}${path}${query ? `?${query}` : ''}`, { headers })
  const ARM = 'api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com'
  beforeAll(() => {
    ;[a, b] = [uai('runner-a'), uai('runner-b')]
    runner = fake.setRunnerIdentity({ systemAssigned: true, userAssigned: [a.id, b.properties.clientId] })
  })
  it('400 bad_request_102 without the Metadata header, the SDK probe (no query) included', async () => {
    for (const q of ['', ARM]) {
      const r = await imds(q, {}, '/metadata/identity/oauth2/token')
      expect(r.status).toBe(400)
      expect(r.body).toEqual({ error: 'bad_request_102', error_description: 'Required metadata header not specified' })
    }
  })
  it('signs in the system identity without an id, a user-assigned one by client_id, object_id or msi_res_id', async () => {
    const sys = await imds(ARM)
    expect(sys.status).toBe(200)
    expect(sys.body).toEqual({
      access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      refresh_token: '',
      expires_in: '3599',
      expires_on: expect.stringMatching(/^\d{10}$/),
      not_before: expect.stringMatching(/^\d{10}$/),
      resource: 'https://management.azure.com',
      token_type: 'Bearer'
    })
    expect(JSON.parse(Buffer.from(sys.body.access_token.split('.')[0], 'base64url').toString())).toEqual({
      alg: 'RS256',
      typ: 'JWT'
    })
    expect(claims(sys.body.access_token)).toMatchObject({
      tid: fake.tenantId,
      iss: `https://sts.windows.net/${fake.tenantId}/`,
      oid: runner.systemAssigned!.principalId,
      appid: runner.systemAssigned!.clientId,
      xms_mirid: expect.stringContaining('/providers/Microsoft.Compute/virtualMachines/'),
      exp: Number(sys.body.expires_on)
    })
    const oid = async (q: string, path?: string): Promise<string> =>
      claims((await imds(`${ARM}&${q}`, undefined, path)).body.access_token).oid
    expect(await oid(`client_id=${a.properties.clientId}`)).toBe(a.properties.principalId)
    expect(await oid(`object_id=${b.properties.principalId}`)).toBe(b.properties.principalId)
    expect(await oid(`msi_res_id=${encodeURIComponent(lowerRg(b.id))}`, '/metadata/identity/oauth2/token')).toBe(
      b.properties.principalId
    )
    expect(claims((await imds(`${ARM}&client_id=${a.properties.clientId}`)).body.access_token).xms_mirid).toBe(a.id)
  })
  it('400 Identity not found for an unknown id, or without an id when there is no system identity to default to', async () => {
    const notFound = { error: 'invalid_request', error_description: 'Identity not found' }
    expect((await imds(`${ARM}&client_id=${crypto.randomUUID()}`)).body).toEqual(notFound)
    fake.setRunnerIdentity({ userAssigned: [a.id, b.id] })
    expect((await imds(ARM)).body).toEqual(notFound)
    fake.setRunnerIdentity({ userAssigned: [a.id] }) // a VM's only identity needs no id
    expect(claims((await imds(ARM)).body.access_token).oid).toBe(a.properties.principalId)
    runner = fake.setRunnerIdentity({ systemAssigned: true, userAssigned: [a.id, b.id] })
  })
  it('issues tokens the fake ARM accepts and names in its 403s; faults by server name', async () => {
    const token = (await imds(ARM)).body.access_token
    expect((await withToken(token, rgPath())).status).toBe(200)
    fake.deny(
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      `/subscriptions/${fake.subscriptionId}/resourceGroups/secret-rg`
    )
    const denied = await withToken(token, `/subscriptions/${fake.subscriptionId}/resourceGroups/secret-rg`)
    expect(denied.body.error.message).toContain(
      `The client '${runner.systemAssigned!.clientId}' with object id '${runner.systemAssigned!.principalId}'`
    )
    expect(fake.requests.filter((r) => r.server === 'imds').at(-1)!.responseBody).toMatchObject({
      access_token: '[redacted]'
    })
    fake.addFault({ server: 'imds', status: 410 })
    const gone = await imds(ARM)
    expect(gone.status).toBe(410)
    expect(gone.body.error_description).toMatch(/^IMDS is going through updates/)
    fake.addFault({ server: 'imds', drop: true })
    await expect(imds(ARM)).rejects.toThrow()
    expect((await imds(ARM)).status).toBe(200)
  })
  it('@azure/identity ManagedIdentityCredential signs in through it (AZURE_POD_IDENTITY_AUTHORITY_HOST)', async () => {
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = fake.imdsHost
    try {
      const byClientId = await new ManagedIdentityCredential({ clientId: a.properties.clientId }).getToken(
        'https://management.azure.com/.default'
      )
      expect(claims(byClientId.token).oid).toBe(a.properties.principalId)
      expect((await withToken(byClientId.token, rgPath())).status).toBe(200)
      const byResourceId = await new ManagedIdentityCredential({ resourceId: b.id }).getToken(
        'https://management.azure.com/.default'
      )
      expect(claims(byResourceId.token).oid).toBe(b.properties.principalId)
      const system = await new ManagedIdentityCredential().getToken('https://management.azure.com/.default')
      expect(claims(system.token).oid).toBe(runner.systemAssigned!.principalId)
      const unknown = new ManagedIdentityCredential({ clientId: crypto.randomUUID() })
      await expect(unknown.getToken('https://management.azure.com/.default')).rejects.toThrow(/Identity not found/)
      const asked = fake.requests.filter((r) => r.server === 'imds').map((r) => r.path)
      expect(asked.at(-1)).toBe('/metadata/identity/oauth2/token/')
    } finally {
      delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST
    }
  })
})

describe('az stand-in', () => {
  const TOKEN_ARGS = ['account', 'get-access-token', '--output', 'json', '--resource', 'https://management.azure.com']
  it('signed in: a token the fake ARM accepts, account show, and calls.log', async () => {
    const { dir } = fake.azCli()
    const got = await run(join(dir, 'az'), TOKEN_ARGS, { cwd: '/bin' })
    const t = JSON.parse(got.stdout)
    expect(t).toEqual({
      accessToken: expect.any(String),
      expiresOn: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/),
      expires_on: expect.any(Number),
      subscription: fake.subscriptionId,
      tenant: fake.tenantId,
      tokenType: 'Bearer'
    })
    expect(new Date(t.expiresOn).getTime()).toBe(t.expires_on * 1000) // local time, as az prints it
    expect(claims(t.accessToken)).toMatchObject({ tid: fake.tenantId, appid: fake.clientId })
    expect((await withToken(t.accessToken, rgPath())).status).toBe(200)
    const show = JSON.parse((await run(join(dir, 'az'), ['account', 'show', '--output', 'json'])).stdout)
    expect(show).toMatchObject({
      id: fake.subscriptionId,
      tenantId: fake.tenantId,
      homeTenantId: fake.tenantId,
      state: 'Enabled',
      isDefault: true,
      environmentName: 'AzureCloud',
      user: { name: fake.clientId, type: 'servicePrincipal' }
    })
    await run(join(dir, 'az'), [...TOKEN_ARGS, '--tenant', fake.tenantId])
    expect(readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n')).toEqual([
      TOKEN_ARGS.join(' '),
      'account show --output json',
      `${TOKEN_ARGS.join(' ')} --tenant ${fake.tenantId}`
    ])
  })
  it('federated login older than 10 minutes: the default resource still works, another fails AADSTS700024', async () => {
    const { dir } = fake.azCli({ loginAgeSeconds: 600 })
    const base = ['account', 'get-access-token', '--output', 'json', '--resource']
    const { stdout } = await run(join(dir, 'az'), [...base, 'https://management.core.windows.net/'])
    expect(JSON.parse(stdout).tokenType).toBe('Bearer')
    await expect(run(join(dir, 'az'), [...base, 'https://management.azure.com'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('AADSTS700024')
    })
    const fresh = fake.azCli({ loginAgeSeconds: 599 })
    await expect(run(join(fresh.dir, 'az'), [...base, 'https://management.azure.com'])).resolves.toBeDefined()
  })

  it('signed out: exit 1 and az login message for both commands', async () => {
    const { dir } = fake.azCli({ loggedIn: false })
    for (const args of [TOKEN_ARGS, ['account', 'show', '--output', 'json']]) {
      await expect(run(join(dir, 'az'), args)).rejects.toMatchObject({
        code: 1,
        stdout: '',
        stderr: "ERROR: Please run 'az login' to setup account.\n"
      })
    }
  })
  it('AzureCliCredential finds it first on PATH and gets a token; signed out it asks for az login', async () => {
    const path = process.env.PATH
    try {
      const { dir } = fake.azCli()
      process.env.PATH = `${dir}:${path}`
      const t = await new AzureCliCredential().getToken('https://management.azure.com/.default')
      expect((await withToken(t.token, rgPath())).status).toBe(200)
      expect(readFileSync(join(dir, 'calls.log'), 'utf8')).toBe(`${TOKEN_ARGS.join(' ')}\n`)
      process.env.PATH = `${fake.azCli({ loggedIn: false }).dir}:${path}`
      await expect(new AzureCliCredential().getToken('https://management.azure.com/.default')).rejects.toThrow(
        "Please run 'az login' from a command prompt to authenticate before using this credential."
      )
    } finally {
      process.env.PATH = path
    }
  })
  it('its directories go when the fake closes', async () => {
    const other = await startFakeAzure()
    const { dir } = other.azCli()
    expect(existsSync(join(dir, 'az'))).toBe(true)
    await other.close()
    expect(existsSync(dir)).toBe(false)
  })
})
