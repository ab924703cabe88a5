import { describe, expect, it } from '@jest/globals'
import { InputError, parseInputs, type Inputs } from '../../src/inputs/inputs.js'
import { splitList } from '../../src/inputs/list.js'

const SUB = '11111111-1111-1111-1111-111111111111'
const TENANT = '22222222-2222-2222-2222-222222222222'
const CLIENT = '33333333-3333-3333-3333-333333333333'

const BASE: Record<string, string> = {
  'app-name': 'shop-api',
  'resource-group': 'shop-rg',
  'vault-name': 'shop-kv',
  'subscription-id': SUB,
  'client-id': CLIENT,
  'tenant-id': TENANT
}

/** Reads inputs as core.getInput does: trimmed, '' when unset. */
function reader(inputs: Record<string, string>) {
  return (name: string): string => (inputs[name] ?? '').trim()
}

function parse(over: Record<string, string | undefined> = {}, env: NodeJS.ProcessEnv = {}): Inputs {
  const inputs: Record<string, string> = { ...BASE }
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete inputs[k]
    else inputs[k] = v
  }
  return parseInputs(reader(inputs), env)
}

function problemsOf(over: Record<string, string | undefined>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parse(over, env)
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return (error as InputError).problems
  }
  throw new Error('expected an InputError')
}

function oneProblem(over: Record<string, string | undefined>): string {
  const problems = problemsOf(over)
  expect(problems).toHaveLength(1)
  return problems[0]
}

describe('parseSettings: defaults', () => {
  it('fills every default from a minimal set of inputs', () => {
    const s = parse()
    expect(s.mode).toBe('apply')
    expect(s.subscriptionId).toBe(SUB)
    expect(s.resourceGroup).toBe('shop-rg')
    expect(s.apps).toEqual([{ name: 'shop-api', slot: undefined, key: 'shop-api' }])
    expect(s.vaults).toEqual([{ name: 'shop-kv', resourceGroup: undefined, subscriptionId: SUB }])
    expect(s.permissions).toEqual({ secrets: ['get', 'list'], keys: [], certificates: [], storage: [] })
    expect(s.accessModel).toBe('auto')
    expect(s.clientId).toBe(CLIENT)
    expect(s.tenantId).toBe(TENANT)
    expect(s.audience).toBe('api://AzureADTokenExchange')
    expect(s.cloud).toEqual({
      name: 'AzureCloud',
      armEndpoint: 'https://management.azure.com',
      authorityHost: 'https://login.microsoftonline.com',
      azCliArmScope: 'https://management.core.windows.net//.default',
      armScope: 'https://management.azure.com/.default',
      portal: 'https://portal.azure.com',
      keyVaultSuffix: 'vault.azure.net',
      disableInstanceDiscovery: false
    })
    expect(s.retryTimeoutSeconds).toBe(300)
    expect(s.appSettings).toEqual([])
  })

  it('uses the vault resource group and subscription when given', () => {
    const other = '44444444-4444-4444-4444-444444444444'
    const s = parse({ 'vault-resource-group': 'kv-rg', 'vault-subscription-id': other })
    expect(s.vaults).toEqual([{ name: 'shop-kv', resourceGroup: 'kv-rg', subscriptionId: other }])
  })

  it('defaults the vault subscription to subscription-id', () => {
    expect(parse().vaults[0].subscriptionId).toBe(SUB)
  })

  it('keeps a custom audience', () => {
    expect(parse({ audience: 'api://custom' }).audience).toBe('api://custom')
  })

  it('accepts access-model case-insensitively', () => {
    expect(parse({ 'access-model': 'RBAC' }).accessModel).toBe('rbac')
    expect(parse({ 'access-model': 'Access-Policy' }).accessModel).toBe('access-policy')
  })
})

describe('parseSettings: retry-timeout', () => {
  it.each([
    ['1', 1],
    ['45', 45],
    ['3600', 3600]
  ])('accepts %s', (value, seconds) => {
    expect(parse({ 'retry-timeout': value }).retryTimeoutSeconds).toBe(seconds)
  })

  it.each(['0', '3601', '1.5', '-5', '10s', 'abc', '1e3'])('rejects %s', (value) => {
    expect(oneProblem({ 'retry-timeout': value })).toBe(
      `'retry-timeout' must be a whole number of seconds from 1 to 3600, got '${value}'.`
    )
  })
})

describe('parseSettings: environment variable fallbacks', () => {
  const env = { AZURE_CLIENT_ID: CLIENT, AZURE_TENANT_ID: TENANT, AZURE_SUBSCRIPTION_ID: SUB }

  it('reads client, tenant and subscription from AZURE_* when the inputs are empty', () => {
    const s = parse({ 'client-id': undefined, 'tenant-id': undefined, 'subscription-id': undefined }, env)
    expect(s.clientId).toBe(CLIENT)
    expect(s.tenantId).toBe(TENANT)
    expect(s.subscriptionId).toBe(SUB)
    expect(s.vaults[0].subscriptionId).toBe(SUB)
  })

  it('prefers the input over the environment variable', () => {
    const other = '55555555-5555-5555-5555-555555555555'
    const s = parse({ 'client-id': other }, { AZURE_CLIENT_ID: CLIENT })
    expect(s.clientId).toBe(other)
  })

  it('trims environment values', () => {
    const s = parse({ 'tenant-id': undefined }, { AZURE_TENANT_ID: `  ${TENANT}\n` })
    expect(s.tenantId).toBe(TENANT)
  })

  it('validates a GUID that came from the environment', () => {
    const problems = problemsOf({ 'subscription-id': undefined }, { AZURE_SUBSCRIPTION_ID: 'nope' })
    expect(problems).toEqual([expect.stringContaining("'subscription-id' must be a GUID")])
    expect(problems[0]).toContain("'nope'")
  })

  it('names the environment variable when a required id is missing everywhere', () => {
    const problems = problemsOf({ 'client-id': undefined, 'tenant-id': undefined, 'subscription-id': undefined })
    expect(problems).toEqual([
      "'subscription-id' is required (or set the AZURE_SUBSCRIPTION_ID environment variable).",
      "'client-id' is required (or set the AZURE_CLIENT_ID environment variable).",
      "'tenant-id' is required (or set the AZURE_TENANT_ID environment variable)."
    ])
  })
})

describe('parseSettings: every problem reported at once', () => {
  it('reports each bad input with its name, the bad value and the rule, in one InputError', () => {
    let error: unknown
    try {
      parse({
        'app-name': '-bad-',
        'resource-group': 'rg.',
        'vault-name': '1kv',
        'subscription-id': 'not-a-guid',
        'secret-permissions': 'gte',
        'access-model': 'sometimes',
        environment: 'Mars',
        'arm-endpoint': 'http://arm.example',
        audience: 'a b'
      })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InputError)
    const { problems, message } = error as InputError
    expect(problems).toHaveLength(9)
    const expectProblem = (name: string, value: string, rule: string): void => {
      const found = problems.find((p) => p.includes(`'${name}'`) && p.includes(value))
      expect(found).toBeDefined()
      expect(found).toContain(rule)
      expect(message).toContain(found!)
    }
    expectProblem('app-name', "'-bad-'", 'letters, digits and hyphens')
    expectProblem('resource-group', "'rg.'", "not ending in '.'")
    expectProblem('vault-name', "'1kv'", 'starting with a letter')
    expectProblem('subscription-id', "'not-a-guid'", 'must be a GUID')
    expectProblem('secret-permissions', "'gte'", 'unknown permission')
    expectProblem('access-model', "'sometimes'", 'must be one of auto, access-policy, rbac')
    expectProblem('environment', "'Mars'", 'AzureCloud, AzureUSGovernment, AzureChinaCloud')
    expectProblem('arm-endpoint', "'http://arm.example'", 'https://')
    expectProblem('audience', "'a b'", 'white space')
    expect(message.startsWith('Invalid inputs:\n  - ')).toBe(true)
  })

  it('reports every missing required input', () => {
    const problems = problemsOf({
      'app-name': undefined,
      'resource-group': undefined,
      'vault-name': undefined,
      'subscription-id': undefined,
      'client-id': undefined,
      'tenant-id': undefined
    })
    for (const name of ['app-name', 'resource-group', 'vault-name', 'subscription-id', 'client-id', 'tenant-id']) {
      expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^'${name}' is required`)))
    }
    expect(problems).toHaveLength(6)
  })

  it('words a single problem as "Invalid input: …"', () => {
    expect(() => parse({ 'vault-name': 'ab' })).toThrow(/^Invalid input: 'vault-name' has 'ab'/)
  })
})

describe('parseSettings: app names, slots and lists', () => {
  it('splits app-name on commas and newlines and trims entries', () => {
    const s = parse({ 'app-name': 'api, web\n  worker \n\n,' })
    expect(s.apps.map((a) => a.key)).toEqual(['api', 'web', 'worker'])
  })

  it('reads name/slot entries', () => {
    const s = parse({ 'app-name': 'api/staging,web' })
    expect(s.apps).toEqual([
      { name: 'api', slot: 'staging', key: 'api/staging' },
      { name: 'web', slot: undefined, key: 'web' }
    ])
  })

  it('applies the slot input to entries without their own slot', () => {
    const s = parse({ 'app-name': 'api,web/blue', slot: 'green' })
    expect(s.apps).toEqual([
      { name: 'api', slot: 'green', key: 'api/green' },
      { name: 'web', slot: 'blue', key: 'web/blue' }
    ])
  })

  it('de-duplicates apps case-insensitively, keeping the first spelling', () => {
    const s = parse({ 'app-name': 'API/Staging\napi/staging,Api/STAGING,api' })
    expect(s.apps.map((a) => a.key)).toEqual(['API/Staging', 'api'])
  })

  it('de-duplicates vaults case-insensitively', () => {
    const s = parse({ 'vault-name': 'kv-one,KV-ONE\nkv-two' })
    expect(s.vaults.map((v) => v.name)).toEqual(['kv-one', 'kv-two'])
  })

  it('rejects an entry with more than one slash', () => {
    expect(oneProblem({ 'app-name': 'a/b/c' })).toBe("'app-name' entry 'a/b/c' must be 'name' or 'name/slot'.")
  })

  it('reports a bad slot inside app-name naming the slot', () => {
    const p = oneProblem({ 'app-name': 'api/s' })
    expect(p).toContain("'app-name' has slot 's'")
    expect(p).toContain('2–60')
  })

  it('rejects a bad slot input', () => {
    expect(oneProblem({ slot: 'blue_green' })).toContain("'slot' has slot 'blue_green'")
  })

  it.each([
    ['a', 'too short'],
    ['x'.repeat(61), 'too long'],
    ['-api', 'leading hyphen'],
    ['api-', 'trailing hyphen'],
    ['api_1', 'underscore'],
    ['api.web', 'dot']
  ])('rejects app name %s (%s)', (name) => {
    expect(oneProblem({ 'app-name': name })).toContain(`'app-name' has '${name}': an app name is 2–60`)
  })

  it.each(['ab', 'x'.repeat(60), 'Shop-API-2'])('accepts app name %s', (name) => {
    expect(parse({ 'app-name': name }).apps[0].name).toBe(name)
  })

  it('reports every bad entry of a list, not just the first', () => {
    const problems = problemsOf({ 'app-name': 'ok-app,-x,y-' })
    expect(problems).toHaveLength(2)
    expect(problems[0]).toContain("'-x'")
    expect(problems[1]).toContain("'y-'")
  })

  it('splitList handles commas, newlines, CRLF and blanks', () => {
    expect(splitList(' a ,b\r\nc\n\n, ')).toEqual(['a', 'b', 'c'])
  })
})

describe('parseSettings: lists that name nothing', () => {
  it.each([
    ['app-name', ','],
    ['app-name', ' , \n ,'],
    ['vault-name', ', '],
    ['vault-name', '\n,\n']
  ])("%s '%s' is an input error naming the input, not an empty list", (name, value) => {
    const problems = problemsOf({ [name]: value })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(new RegExp(`^'${name}' names nothing: ".*" holds only separators`))
    expect(problems[0]).not.toContain('\n')
    expect(problems[0]).toContain('Give at least one name')
  })

  it('both at once are both reported', () => {
    const problems = problemsOf({ 'app-name': ',', 'vault-name': ',' })
    expect(problems.map((p) => p.split(' ')[0])).toEqual(["'app-name'", "'vault-name'"])
  })
})

describe('parseSettings: resource group and vault names', () => {
  it.each(['r', 'my_rg', 'rg-(prod).1', 'x'.repeat(90), 'grüße'])('accepts resource group %s', (rg) => {
    expect(parse({ 'resource-group': rg }).resourceGroup).toBe(rg)
  })

  it.each([['x'.repeat(91)], ['rg.'], ['rg name'], ['rg*']])('rejects resource group %s', (rg) => {
    expect(oneProblem({ 'resource-group': rg })).toContain(
      `'resource-group' has '${rg}': a resource group name is 1–90`
    )
  })

  it('validates vault-resource-group with the same rule', () => {
    expect(oneProblem({ 'vault-resource-group': 'bad.' })).toContain("'vault-resource-group' has 'bad.'")
  })

  it.each(['abc', 'a'.repeat(24), 'Kv-1-x'])('accepts vault name %s', (name) => {
    expect(parse({ 'vault-name': name }).vaults[0].name).toBe(name)
  })

  it.each([
    ['ab', 'too short'],
    ['a'.repeat(25), 'too long'],
    ['1kv', 'starts with a digit'],
    ['kv-', 'ends with a hyphen'],
    ['kv--one', 'double hyphen'],
    ['kv_one', 'underscore']
  ])('rejects vault name %s (%s)', (name) => {
    expect(oneProblem({ 'vault-name': name })).toContain(`'vault-name' has '${name}': a vault name is 3–24`)
  })
})

describe('parseSettings: values that would smuggle path syntax into a URL', () => {
  it.each([
    ['app-name', 'api?x=1'],
    ['app-name', 'api#frag'],
    ['app-name', '../other'],
    ['app-name', 'api/..'],
    ['app-name', 'api/../../x'],
    ['slot', 'a/b'],
    ['slot', '..'],
    ['resource-group', 'rg/providers'],
    ['resource-group', 'rg?api-version=1'],
    ['resource-group', 'rg#'],
    ['resource-group', '..'],
    ['resource-group', '.'],
    ['vault-resource-group', '..'],
    ['vault-resource-group', 'a/b'],
    ['vault-name', 'kv/..'],
    ['vault-name', 'kv?x'],
    ['vault-name', 'kv#x'],
    ['vault-name', '..']
  ])('rejects %s = %s', (name, value) => {
    const problems = problemsOf({ [name]: value })
    expect(problems.length).toBeGreaterThan(0)
    expect(problems.every((p) => p.includes(`'${name === 'slot' ? 'slot' : name}'`))).toBe(true)
  })
})

describe('parseSettings: GUIDs', () => {
  it('accepts upper-case GUIDs and normalises them to lower case', () => {
    const s = parse({ 'client-id': CLIENT.toUpperCase().replace(/3/g, 'A') })
    expect(s.clientId).toBe('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')
  })

  it.each([
    '1111111-1111-1111-1111-111111111111',
    '11111111111111111111111111111111',
    '{11111111-1111-1111-1111-111111111111}',
    '11111111-1111-1111-1111-11111111111g',
    '11111111-1111-1111-1111-111111111111/x'
  ])('rejects %s', (value) => {
    const p = oneProblem({ 'tenant-id': value })
    expect(p).toBe(`'tenant-id' must be a GUID such as 00000000-0000-0000-0000-000000000000, got '${value}'.`)
  })

  it('validates vault-subscription-id', () => {
    expect(oneProblem({ 'vault-subscription-id': 'sub' })).toContain("'vault-subscription-id' must be a GUID")
  })
})

describe('parseSettings: permissions', () => {
  it('parses comma and space separated names case-insensitively into the service spelling', () => {
    const s = parse({
      'secret-permissions': 'GET  List,set',
      'key-permissions': 'WRAPKEY, unwrapkey sign GetRotationPolicy',
      'certificate-permissions': 'ManageContacts',
      'storage-permissions': 'SETSAS'
    })
    expect(s.permissions).toEqual({
      secrets: ['get', 'list', 'set'],
      keys: ['wrapKey', 'unwrapKey', 'sign', 'getrotationpolicy'],
      certificates: ['managecontacts'],
      storage: ['setsas']
    })
  })

  it('drops duplicates', () => {
    expect(parse({ 'secret-permissions': 'get,GET, Get list' }).permissions.secrets).toEqual(['get', 'list'])
  })

  it('grants keys only when only key-permissions is given (no secrets default)', () => {
    const s = parse({ 'key-permissions': 'sign' })
    expect(s.permissions.secrets).toEqual([])
    expect(s.permissions.keys).toEqual(['sign'])
  })

  it('suggests the closest name and lists the valid ones for an unknown permission', () => {
    const p = oneProblem({ 'key-permissions': 'wrapkeys' })
    expect(p).toContain("'key-permissions' has unknown permission 'wrapkeys'.")
    expect(p).toContain("Did you mean 'wrapKey'?")
    expect(p).toContain('Valid: all, encrypt, decrypt, wrapKey, unwrapKey')
  })

  it('gives no suggestion when nothing is close, but still the valid list', () => {
    const p = oneProblem({ 'certificate-permissions': 'xyzzyplugh' })
    expect(p).not.toContain('Did you mean')
    expect(p).toContain('Valid: all, get, list, delete, create')
  })

  it('rejects a permission of another kind (storage name in secrets)', () => {
    expect(oneProblem({ 'secret-permissions': 'regeneratekey' })).toContain(
      "'secret-permissions' has unknown permission 'regeneratekey'"
    )
  })

  it('reports every unknown permission across kinds', () => {
    const problems = problemsOf({
      'secret-permissions': 'gett',
      'key-permissions': 'sing',
      'storage-permissions': 'sass'
    })
    expect(problems).toHaveLength(3)
    expect(problems[0]).toContain("Did you mean 'get'?")
    expect(problems[1]).toContain("Did you mean 'sign'?")
  })

  it('rejects an empty permission set', () => {
    const p = oneProblem({ 'secret-permissions': ',' })
    expect(p).toBe(
      'No permission requested: set at least one of secret-permissions, key-permissions, certificate-permissions, storage-permissions.'
    )
  })

  it('does not add the empty-set problem on top of unknown names', () => {
    const problems = problemsOf({ 'secret-permissions': 'nothing-valid' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain('unknown permission')
  })
})

describe('parseSettings: environment (cloud) and endpoints', () => {
  it.each([
    [
      'azureusgovernment',
      'AzureUSGovernment',
      'https://management.usgovcloudapi.net',
      'https://login.microsoftonline.us'
    ],
    ['AZURECHINACLOUD', 'AzureChinaCloud', 'https://management.chinacloudapi.cn', 'https://login.chinacloudapi.cn'],
    ['AzureCloud', 'AzureCloud', 'https://management.azure.com', 'https://login.microsoftonline.com']
  ])('environment %s selects %s', (input, name, arm, authority) => {
    const { cloud } = parse({ environment: input })
    expect(cloud.name).toBe(name)
    expect(cloud.armEndpoint).toBe(arm)
    expect(cloud.authorityHost).toBe(authority)
    expect(cloud.armScope).toBe(`${arm}/.default`)
    expect(cloud.disableInstanceDiscovery).toBe(false)
  })

  it('rejects an unknown environment naming the valid ones', () => {
    expect(oneProblem({ environment: 'AzureGermanCloud' })).toBe(
      "'environment' must be one of AzureCloud, AzureUSGovernment, AzureChinaCloud (case-insensitive), got 'AzureGermanCloud'."
    )
  })

  it('overrides the ARM endpoint (trailing slash dropped) without disabling instance discovery', () => {
    const { cloud } = parse({ 'arm-endpoint': 'https://arm.local:8443/' })
    expect(cloud.armEndpoint).toBe('https://arm.local:8443')
    expect(cloud.authorityHost).toBe('https://login.microsoftonline.com')
    expect(cloud.armScope).toBe('https://management.azure.com/.default')
    expect(cloud.disableInstanceDiscovery).toBe(false)
  })

  it('disables instance discovery only when authority-host is given', () => {
    const { cloud } = parse({ 'authority-host': 'https://login.local:8443' })
    expect(cloud.authorityHost).toBe('https://login.local:8443')
    expect(cloud.disableInstanceDiscovery).toBe(true)
    expect(parse().cloud.disableInstanceDiscovery).toBe(false)
  })

  it('keeps the sovereign cloud scope when only the endpoints are overridden', () => {
    const { cloud } = parse({ environment: 'AzureUSGovernment', 'arm-endpoint': 'https://arm.local' })
    expect(cloud.armEndpoint).toBe('https://arm.local')
    expect(cloud.armScope).toBe('https://management.usgovcloudapi.net/.default')
  })

  it.each([
    ['arm-endpoint', 'http://arm.local', 'must be a plain https:// URL'],
    ['arm-endpoint', 'arm.local', 'must be an https:// URL'],
    ['arm-endpoint', 'https://arm.local/?api-version=1', 'no query'],
    ['arm-endpoint', 'https://arm.local/#x', 'fragment'],
    ['arm-endpoint', 'https://user:pw@arm.local', 'credentials'],
    ['authority-host', 'http://login.local', 'must be a plain https:// URL'],
    ['authority-host', 'ftp://login.local', 'must be a plain https:// URL'],
    ['authority-host', 'https://login.local?x', 'no query'],
    ['authority-host', 'https://user@login.local', 'credentials']
  ])('rejects %s = %s', (name, value, rule) => {
    const p = oneProblem({ [name]: value })
    expect(p).toContain(`'${name}'`)
    expect(p).toContain(`'${value}'`)
    expect(p).toContain(rule)
  })

  // A bare '?' or '#' gives URL.search / URL.hash === '', but still ends up in the endpoint string.
  it.each([
    ['arm-endpoint', 'https://arm.local/?'],
    ['arm-endpoint', 'https://arm.local#'],
    ['authority-host', 'https://login.local/?'],
    ['authority-host', 'https://login.local/#']
  ])('rejects %s = %s (empty query or fragment)', (name, value) => {
    const p = oneProblem({ [name]: value })
    expect(p).toContain(`'${name}'`)
    expect(p).toContain('no query, fragment or credentials')
  })
})

describe('parseSettings: mode', () => {
  it("defaults to 'apply' and turns no identity off", () => {
    const s = parse()
    expect(s.mode).toBe('apply')
    expect(s.disableIdentity).toBe(false)
  })

  it.each([
    ['apply', 'apply'],
    ['plan', 'plan'],
    ['verify', 'verify'],
    ['revoke', 'revoke'],
    ['Plan', 'plan'],
    ['VERIFY', 'verify']
  ])('accepts %s (case-insensitive)', (value, mode) => {
    expect(parse({ mode: value }).mode).toBe(mode)
  })

  it('rejects an unknown mode, naming every valid one', () => {
    expect(oneProblem({ mode: 'dry-run' })).toBe("'mode' must be one of apply, plan, verify, revoke, got 'dry-run'.")
  })

  it('reports a bad mode together with the other problems', () => {
    const problems = problemsOf({ mode: 'destroy', 'vault-name': 'ab' })
    expect(problems).toHaveLength(2)
    expect(problems).toContainEqual(expect.stringContaining("'mode' must be one of"))
  })
})

describe('parseSettings: disable-identity', () => {
  it.each(['true', 'True', 'TRUE'])('accepts %s with mode revoke', (value) => {
    const s = parse({ mode: 'revoke', 'disable-identity': value })
    expect(s.mode).toBe('revoke')
    expect(s.disableIdentity).toBe(true)
  })

  it.each(['false', 'False', 'FALSE'])('accepts %s with any mode', (value) => {
    expect(parse({ mode: 'revoke', 'disable-identity': value }).disableIdentity).toBe(false)
    expect(parse({ mode: 'apply', 'disable-identity': value }).disableIdentity).toBe(false)
  })

  it('defaults to false with mode revoke', () => {
    expect(parse({ mode: 'revoke' }).disableIdentity).toBe(false)
  })

  it.each(['yes', '1', 'on', 'tRuE'])('rejects %s as not a YAML boolean', (value) => {
    expect(oneProblem({ mode: 'revoke', 'disable-identity': value })).toBe(
      `'disable-identity' must be true or false, got '${value}'.`
    )
  })

  it.each(['apply', 'plan', 'verify'])('is refused with mode %s (it would be silently ignored)', (mode) => {
    expect(oneProblem({ mode, 'disable-identity': 'true' })).toBe(
      `'disable-identity' is only used with 'mode: revoke', got mode '${mode}'.`
    )
  })

  it('is refused with the default mode, naming it', () => {
    expect(oneProblem({ 'disable-identity': 'true' })).toContain("got mode 'apply'")
  })
})
