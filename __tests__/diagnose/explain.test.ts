import { describe, expect, it } from '@jest/globals'
import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline'
import { AuthenticationError } from '@azure/identity'
import { ReferencesNotResolvedError } from '../../src/apply/app-settings.js'
import { explain } from '../../src/diagnose/explain.js'
import { describeTarget } from '../../src/azure/operation.js'
import { during } from '../../src/azure/operation.js'
import { AzureOperationError } from '../../src/azure/operation.js'
import { type OperationContext } from '../../src/azure/operation.js'
import {
  decodeClaims,
  MissingOidcPermissionError,
  OidcRequestError,
  type OidcClaims
} from '../../src/signin/github-oidc.js'
import { SignInError } from '../../src/signin/credential.js'
import { VaultNotFoundError } from '../../src/azure/vaults.js'
import { NetworkError } from '../../src/azure/http/attempt-policy.js'
import { CLIENT, inputs, SUB, target, TENANT } from '../fixtures.js'

const s = inputs()
const appCtx = (action = 'read'): OperationContext => ({ action, kind: 'app', target: target('shop-api'), inputs: s })
const slotCtx: OperationContext = { action: 'read', kind: 'slot', target: target('shop-api', 'staging'), inputs: s }
const vaultCtx = (resourceGroup?: string): OperationContext => ({
  action: 'read',
  kind: 'vault',
  vault: { name: 'shop-kv', resourceGroup, subscriptionId: SUB },
  inputs: s
})

// Secrets that must never reach a message.
const ARM_TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.ARM-ACCESS-TOKEN-SECRET.c2lnbmF0dXJl'
const REQUEST_TOKEN = 'ACTIONS-ID-TOKEN-REQUEST-TOKEN-SECRET'
function jwt(claims: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.U0lHTkFUVVJFLVNFQ1JFVA`
}
const OIDC_TOKEN = jwt({
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:Contoso/Shop:environment:prod',
  aud: 'api://AzureADTokenExchange',
  exp: 2000000000,
  nbf: 1900000000,
  jti: 'secret-jti'
})
const claims = decodeClaims(OIDC_TOKEN) as OidcClaims

/** An ARM error as the SDK throws it: carrying the request (with its bearer token) and the response. */
function armError(status: number, code: string, message: string): RestError {
  const request = createPipelineRequest({
    url: `https://management.azure.com/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/shop-api?api-version=2025-05-01`,
    headers: createHttpHeaders({ authorization: `Bearer ${ARM_TOKEN}`, 'x-request-token': REQUEST_TOKEN })
  })
  return new RestError(message, {
    code,
    statusCode: status,
    request,
    response: {
      status,
      headers: createHttpHeaders({ 'www-authenticate': `Bearer token="${ARM_TOKEN}"` }),
      request,
      bodyAsText: JSON.stringify({ error: { code, message }, echo: ARM_TOKEN })
    }
  })
}

function entraError(code: string, description: string): AuthenticationError {
  return new AuthenticationError(400, {
    error: 'invalid_client',
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: 1234 Correlation ID: 5678 Timestamp: 2026-01-01 00:00:00Z`,
    error_codes: [Number(code)],
    timestamp: '2026-01-01 00:00:00Z',
    trace_id: '1234',
    correlation_id: '5678'
  })
}

const authFailed = (action: string, scope: string) =>
  armError(
    403,
    'AuthorizationFailed',
    `The client '${CLIENT}' with object id 'oid' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
  )

const explainCtx = { claims, clientId: CLIENT, tenantId: TENANT }

describe('during / AzureOperationError', () => {
  it('wraps a failure with what was being done and to what', async () => {
    const cause = new Error('boom')
    const error = await during(appCtx(), () => Promise.reject(cause)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AzureOperationError)
    expect((error as AzureOperationError).message).toBe(
      `Could not read app 'shop-api' (resource group 'rg', subscription ${SUB})`
    )
    expect((error as AzureOperationError).cause).toBe(cause)
  })

  it('does not wrap twice', async () => {
    const inner = new AzureOperationError(vaultCtx(), new Error('x'))
    await expect(during(appCtx(), () => Promise.reject(inner))).rejects.toBe(inner)
  })

  it('passes values through', async () => {
    await expect(during(appCtx(), async () => 42)).resolves.toBe(42)
  })

  it('describes slots and vaults', () => {
    expect(describeTarget(slotCtx)).toBe(`slot 'staging' of app 'shop-api' (resource group 'rg', subscription ${SUB})`)
    expect(describeTarget(vaultCtx('kv-rg'))).toBe(`Key Vault 'shop-kv' (resource group 'kv-rg', subscription ${SUB})`)
    expect(describeTarget(vaultCtx())).toBe(`Key Vault 'shop-kv' (subscription ${SUB})`)
  })
})

describe('explain: AuthorizationFailed', () => {
  const site = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/shop-api`
  const kv = `/subscriptions/${SUB}/resourceGroups/kv-rg/providers/Microsoft.KeyVault/vaults/shop-kv`

  it.each([
    ['Microsoft.Web/sites/write', site, 'Website Contributor'],
    ['Microsoft.Web/sites/slots/write', `${site}/slots/staging`, 'Website Contributor'],
    ['Microsoft.KeyVault/vaults/accessPolicies/write', kv, 'Key Vault Contributor'],
    ['Microsoft.Authorization/roleAssignments/write', kv, 'Role Based Access Control Administrator'],
    ['Microsoft.Web/sites/read', site, 'Reader'],
    ['Microsoft.Authorization/roleAssignments/delete', kv, 'Role Based Access Control Administrator']
  ])('%s names the action, the scope and the role to grant', (action, scope, role) => {
    const message = explain(
      new AzureOperationError(appCtx('turn on the system-assigned identity of'), authFailed(action, scope)),
      explainCtx
    )
    expect(message).toContain("Could not turn on the system-assigned identity of app 'shop-api'")
    expect(message).toContain(`may not perform '${action}' over scope '${scope}'`)
    expect(message).toContain(`Fix: grant it ${role}`)
    expect(message).toContain(`az role assignment create --assignee ${CLIENT} --role "${role}`)
    expect(message).toContain(`--scope ${scope}`)
    expect(message).toContain(`client ${CLIENT}`)
  })

  it('mentions User Access Administrator as the alternative for role assignments', () => {
    const message = explain(
      new AzureOperationError(vaultCtx('kv-rg'), authFailed('Microsoft.Authorization/roleAssignments/write', kv)),
      explainCtx
    )
    expect(message).toContain('User Access Administrator')
  })
})

describe('explain: not found', () => {
  it('app: says the app does not exist in the resource group', () => {
    const message = explain(
      new AzureOperationError(
        appCtx(),
        armError(
          404,
          'ResourceNotFound',
          "The Resource 'Microsoft.Web/sites/shop-api' under resource group 'rg' was not found."
        )
      )
    )
    expect(message).toContain(`Could not read app 'shop-api' (resource group 'rg', subscription ${SUB})`)
    expect(message).toContain('the app does not exist in that resource group')
    expect(message).toContain("check 'app-name' and 'resource-group'")
    expect(message).toContain('Azure says: ResourceNotFound:')
  })

  it('slot: names the slot and how to list slots', () => {
    const message = explain(new AzureOperationError(slotCtx, armError(404, 'NotFound', 'Not found')))
    expect(message).toContain("slot 'staging' of app 'shop-api'")
    expect(message).toContain("check 'app-name' and 'slot'")
    expect(message).toContain('az webapp deployment slot list --name shop-api --resource-group rg')
  })

  it('vault: says which vault and which inputs to check', () => {
    const message = explain(new AzureOperationError(vaultCtx('kv-rg'), armError(404, 'ResourceNotFound', 'gone')))
    expect(message).toContain(`Key Vault 'shop-kv' (resource group 'kv-rg', subscription ${SUB})`)
    expect(message).toContain("check 'vault-name', 'vault-resource-group' and 'vault-subscription-id'")
  })

  it('vault looked up by name: says it searched the subscription and suggests the inputs', () => {
    const message = explain(new AzureOperationError(vaultCtx(), new VaultNotFoundError('shop-kv', SUB)))
    expect(message).toContain(`Key Vault 'shop-kv' was not found in subscription ${SUB}`)
    expect(message).toContain('searched')
    expect(message).toContain("set 'vault-resource-group'")
    expect(message).toContain("'vault-subscription-id'")
  })

  it('resource group and subscription', () => {
    expect(
      explain(
        new AzureOperationError(
          appCtx(),
          armError(404, 'ResourceGroupNotFound', "Resource group 'rg' could not be found.")
        )
      )
    ).toContain("check 'resource-group' / 'vault-resource-group'")
    expect(
      explain(
        new AzureOperationError(appCtx(), armError(404, 'SubscriptionNotFound', 'The subscription could not be found.'))
      )
    ).toContain("check 'subscription-id' / 'vault-subscription-id'")
  })
})

describe('explain: other ARM failures', () => {
  it('409 Conflict after every retry', () => {
    expect(explain(new AzureOperationError(appCtx(), armError(409, 'Conflict', 'busy')))).toContain(
      'another operation on the resource kept it busy'
    )
  })

  it('PrincipalNotFound after retrying', () => {
    const message = explain(
      new AzureOperationError(vaultCtx(), armError(400, 'PrincipalNotFound', 'Principal x does not exist'))
    )
    expect(message).toContain('replication delay')
    expect(message).toContain('re-run')
  })

  it('401 points at environment / arm-endpoint', () => {
    expect(
      explain(new AzureOperationError(appCtx(), armError(401, 'InvalidAuthenticationToken', 'bad token')))
    ).toContain("'environment' / 'arm-endpoint'")
  })

  it('anything else: what failed plus what Azure said', () => {
    expect(explain(new AzureOperationError(appCtx(), armError(500, 'InternalServerError', 'oops')))).toBe(
      `Could not read app 'shop-api' (resource group 'rg', subscription ${SUB}).\nAzure says: InternalServerError: oops`
    )
  })

  it('plain errors and non-errors', () => {
    expect(explain(new Error('plain'))).toBe('plain')
    expect(explain('text')).toBe('text')
  })
})

describe('explain: Entra ID sign-in failures', () => {
  const mismatch = entraError(
    '700213',
    "No matching federated identity record found for presented assertion subject 'repo:Contoso/Shop:environment:prod'."
  )

  it.each(['700213', '70021', '7002138'])(
    'AADSTS%s shows the presented issuer, subject and audience and the fix',
    (code) => {
      const message = explain(entraError(code, 'No matching federated identity record found.'), explainCtx)
      expect(message).toContain(`app ${CLIENT} has no federated credential matching`)
      expect(message).toContain('  issuer:   https://token.actions.githubusercontent.com')
      expect(message).toContain('  subject:  repo:Contoso/Shop:environment:prod')
      expect(message).toContain('  audience: api://AzureADTokenExchange')
      expect(message).toContain('case-sensitive')
      expect(message).toContain(`az ad app federated-credential create --id ${CLIENT} --parameters '`)
    }
  )

  it('the suggested command carries exactly the presented issuer, subject and audience', () => {
    const message = explain(mismatch, explainCtx)
    const json = /--parameters '([^']+)'/.exec(message)?.[1]
    expect(json).toBeDefined()
    const params = JSON.parse(json!) as { name: string; issuer: string; subject: string; audiences: string[] }
    expect(params.issuer).toBe('https://token.actions.githubusercontent.com')
    expect(params.subject).toBe('repo:Contoso/Shop:environment:prod')
    expect(params.audiences).toEqual(['api://AzureADTokenExchange'])
    expect(params.name).toMatch(/^github-[A-Za-z0-9-]+$/)
  })

  it('points out environment subjects', () => {
    expect(explain(mismatch, explainCtx)).toContain('This job uses a GitHub environment')
    const branch = decodeClaims(jwt({ iss: 'i', sub: 'repo:Contoso/Shop:ref:refs/heads/main', aud: 'a' }))
    expect(explain(mismatch, { ...explainCtx, claims: branch })).not.toContain('GitHub environment')
  })

  it('still explains a mismatch wrapped in an AzureOperationError, showing what Entra said without trace ids', () => {
    const message = explain(new AzureOperationError(appCtx(), mismatch), explainCtx)
    expect(message).toContain('subject:  repo:Contoso/Shop:environment:prod')
    expect(message).toContain('Entra ID says: AADSTS700213: No matching federated identity record')
    expect(message).not.toContain('Trace ID')
  })

  it('works without claims', () => {
    const message = explain(mismatch, { clientId: CLIENT })
    expect(message).toContain('subject:  unknown')
  })

  it('AADSTS700016: client id not in the tenant', () => {
    const message = explain(
      entraError('700016', `Application with identifier '${CLIENT}' was not found in the directory.`),
      explainCtx
    )
    expect(message).toContain(`no application with client id ${CLIENT} exists in tenant ${TENANT}`)
    expect(message).toContain("check 'client-id'")
  })

  it('AADSTS90002: tenant not found', () => {
    const message = explain(entraError('90002', `Tenant '${TENANT}' not found.`), explainCtx)
    expect(message).toContain(`tenant ${TENANT} was not found`)
    expect(message).toContain("check 'tenant-id'")
  })

  it('AADSTS700024: assertion outside its time range', () => {
    const message = explain(entraError('700024', 'Client assertion is not within its valid time range.'), explainCtx)
    expect(message).toContain('outside its valid time range')
    expect(message).toContain('clock')
  })

  it('AADSTS700024 with azure-cli: the federated az session expired, not the clock', () => {
    const error = entraError('700024', 'Client assertion is not within its valid time range.')
    const message = explain(error, { ...explainCtx, authType: 'azure-cli' })
    expect(message).toContain('Azure CLI session from a federated login')
    expect(message).toContain('auth-type: oidc')
    expect(message).not.toContain('clock')
  })

  it('other AADSTS codes are named', () => {
    expect(explain(entraError('7000215', 'Invalid client secret provided.'), explainCtx)).toContain(
      'Sign-in to Entra ID failed (AADSTS7000215)'
    )
  })
})

describe('explain: missing OIDC permission', () => {
  it('MissingOidcPermissionError shows the permissions block and the fork caveat', () => {
    const message = explain(new MissingOidcPermissionError(), explainCtx)
    expect(message).toContain('ACTIONS_ID_TOKEN_REQUEST_URL is not set')
    expect(message).toContain('permissions:\n    id-token: write')
    expect(message).toContain('forks')
  })

  // The assertion callback runs inside the SDK: @azure/identity wraps what it throws
  // (AuthenticationRequiredError with `cause`), and the first ARM call wraps that in `during`.
  it('is reported as itself when it arrives wrapped by the SDK and by during()', () => {
    const fromSdk = Object.assign(
      new Error(new MissingOidcPermissionError().message, { cause: new MissingOidcPermissionError() }),
      {
        name: 'AuthenticationRequiredError'
      }
    )
    const message = explain(new AzureOperationError(appCtx(), fromSdk), explainCtx)
    expect(message).toContain('id-token: write')
    expect(message.startsWith('GitHub did not give this job an OIDC token')).toBe(true)
    expect(message).not.toContain('Azure says')
  })
})

describe('explain never leaks a token', () => {
  const errors: [string, unknown][] = [
    [
      'AuthorizationFailed',
      new AzureOperationError(appCtx(), authFailed('Microsoft.Web/sites/write', '/subscriptions/x'))
    ],
    ['ResourceNotFound', new AzureOperationError(vaultCtx(), armError(404, 'ResourceNotFound', 'gone'))],
    ['generic 500', new AzureOperationError(appCtx(), armError(500, 'InternalServerError', 'oops'))],
    ['401', new AzureOperationError(appCtx(), armError(401, 'InvalidAuthenticationToken', 'no'))],
    ['bare RestError', armError(400, 'BadRequest', 'bad')],
    ['AADSTS700213', entraError('700213', 'No matching federated identity record found.')],
    ['AADSTS700213 wrapped', new AzureOperationError(appCtx(), entraError('700213', 'No match.'))],
    ['AADSTS700016', entraError('700016', 'no app')],
    ['AADSTS90002', entraError('90002', 'no tenant')],
    ['AADSTS700024', entraError('700024', 'expired')],
    ['missing OIDC', new MissingOidcPermissionError()]
  ]

  it.each(errors)('%s', (_, error) => {
    const message = explain(error, explainCtx)
    expect(message.length).toBeGreaterThan(0)
    for (const secret of [
      ARM_TOKEN,
      OIDC_TOKEN,
      REQUEST_TOKEN,
      OIDC_TOKEN.split('.')[1],
      OIDC_TOKEN.split('.')[2],
      'ARM-ACCESS-TOKEN-SECRET',
      'secret-jti'
    ]) {
      expect(message).not.toContain(secret)
    }
  })
})

describe('explain: retry budget spent', () => {
  const abort = () => Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' })
  const budget = {
    seconds: 45,
    expired: true,
    lastFailure: 'GET /subscriptions/x/resourceGroups/rg/providers/Microsoft.Web/sites/shop-api answered 429'
  }

  it('says what was being done, the budget, what kept failing and the fix', () => {
    const message = explain(new AzureOperationError(appCtx(), abort()), { ...explainCtx, budget })
    expect(message).toContain(
      `Could not read app 'shop-api' (resource group 'rg', subscription ${SUB}): gave up after 45 s of retries (input 'retry-timeout')`
    )
    expect(message).toContain('answered 429')
    expect(message).toContain("raise 'retry-timeout'")
  })

  it('works for an abort outside an Azure operation, and never claims a failure that did not happen', () => {
    expect(explain(abort(), { budget: { seconds: 10, expired: true } })).toMatch(
      /^The run failed: the run did not finish within 'retry-timeout' \(10 s\); every request that was answered succeeded, the last one was still waiting\.\nFix: raise 'retry-timeout'/
    )
  })

  it('an abort while the budget is not spent is reported as it is', () => {
    expect(explain(new AzureOperationError(appCtx(), abort()), { budget: { seconds: 10, expired: false } })).toContain(
      'aborted'
    )
  })
})

describe('explain: unknown tenant at discovery (endpoints_resolution_error)', () => {
  const host = 'https://login.microsoftonline.com'
  // MSAL's ClientAuthError: the code on `errorCode`, Entra's own text dropped.
  const msal = () =>
    Object.assign(new Error('endpoints_resolution_error: Endpoints cannot be resolved'), {
      name: 'ClientAuthError',
      errorCode: 'endpoints_resolution_error'
    })
  const expected =
    `Sign-in failed: Entra ID could not resolve tenant ${TENANT} at ${host}: the tenant was not found (AADSTS90002) or the authority host is wrong.\n` +
    `Fix: check 'tenant-id' (Directory (tenant) ID), and that 'environment' / 'authority-host' name the cloud the tenant lives in.`

  it('names the tenant and the authority host, with the fix', () => {
    expect(explain(new SignInError(s, msal()), { ...explainCtx, authorityHost: host })).toBe(expected)
  })

  it('is found through SignInError and the SDK wrapper', () => {
    const fromSdk = Object.assign(new Error('ClientAssertionCredential authentication failed.', { cause: msal() }), {
      name: 'AuthenticationRequiredError'
    })
    expect(explain(new SignInError(s, fromSdk), { ...explainCtx, authorityHost: host })).toBe(expected)
  })

  it('is recognised by the code in the message alone', () => {
    const bare = new Error('Failed: endpoints_resolution_error: could not resolve endpoints')
    expect(explain(new SignInError(s, bare), { ...explainCtx, authorityHost: host })).toBe(expected)
  })

  it('reads without an authority host in the context', () => {
    expect(explain(new SignInError(s, msal()), { tenantId: TENANT })).toContain(
      `could not resolve tenant ${TENANT} at the authority host:`
    )
  })

  it('an AADSTS code in the chain takes precedence', () => {
    const both = Object.assign(entraError('90002', `Tenant '${TENANT}' not found.`), { cause: msal() })
    expect(explain(both, explainCtx)).toContain(`tenant ${TENANT} was not found`)
    expect(explain(both, explainCtx)).not.toContain('could not resolve tenant')
  })

  it('other errors are not mistaken for it', () => {
    expect(explain(new SignInError(s, new Error('network down')), explainCtx)).not.toContain('could not resolve tenant')
  })

  it('the code outside a sign-in failure is not a sign-in failure', () => {
    expect(explain(msal())).toBe('endpoints_resolution_error: Endpoints cannot be resolved')
  })
})

describe('explain: our own errors are reported as themselves, however wrapped', () => {
  const sdkWrap = (cause: Error) =>
    Object.assign(new Error(`ClientAssertionCredential: ${cause.message}`, { cause }), {
      name: 'AuthenticationRequiredError'
    })

  it('VaultNotFoundError inside another error inside during()', () => {
    const own = new VaultNotFoundError('shop-kv', SUB)
    const wrapped = new AzureOperationError(vaultCtx(), new Error('lookup failed', { cause: own }))
    expect(explain(wrapped, explainCtx)).toBe(own.message)
  })

  it('VaultNotFoundError on its own', () => {
    const own = new VaultNotFoundError('shop-kv', SUB)
    expect(explain(own)).toBe(own.message)
  })

  it('OidcRequestError inside the SDK wrapper inside SignInError', () => {
    const own = new OidcRequestError(
      "GitHub refused the OIDC token request (HTTP 403). Check that the job has 'permissions: id-token: write'."
    )
    expect(explain(new SignInError(s, sdkWrap(own)), explainCtx)).toBe(own.message)
  })

  it('a refused OidcRequestError wins over a spent retry budget', () => {
    const own = new OidcRequestError('GitHub refused the OIDC token request (HTTP 403).')
    expect(explain(new SignInError(s, sdkWrap(own)), { ...explainCtx, budget: { seconds: 10, expired: true } })).toBe(
      own.message
    )
  })

  it('an OidcRequestError that is only the budget running out says what kept failing', () => {
    const aborted = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' })
    const own = new OidcRequestError('The GitHub OIDC token request failed: aborted', { cause: aborted })
    const message = explain(new SignInError(s, sdkWrap(own)), {
      ...explainCtx,
      budget: { seconds: 10, expired: true, lastFailure: 'GET /token answered 503' }
    })
    expect(message).toBe(
      `Could not sign in to Entra ID as client ${CLIENT} in tenant ${TENANT}: gave up after 10 s of retries (input 'retry-timeout'): GET /token answered 503.\n` +
        "Fix: the service is throttling or failing; re-run later (the run is safe to repeat), or raise 'retry-timeout'."
    )
  })

  it('MissingOidcPermissionError inside the SDK wrapper inside SignInError', () => {
    const own = new MissingOidcPermissionError()
    const message = explain(new SignInError(s, sdkWrap(own)), explainCtx)
    expect(message).toBe(own.message)
    expect(message).not.toContain('Could not sign in')
  })

  it('a SignInError with no known cause is reported with its own message', () => {
    const error = new SignInError(s, new Error('socket hang up'))
    expect(explain(error, explainCtx)).toBe(error.message)
    expect(error.message).toContain('socket hang up')
  })
})

describe('explain: SignInError wrapping an Entra ID failure', () => {
  it('still gives the AADSTS diagnosis (federation mismatch with the presented claims)', () => {
    const error = new SignInError(s, entraError('700213', 'No matching federated identity record found.'))
    const message = explain(error, explainCtx)
    expect(message).toContain(`app ${CLIENT} has no federated credential matching`)
    expect(message).toContain('  subject:  repo:Contoso/Shop:environment:prod')
    expect(message).not.toContain('Trace ID')
  })

  it('still gives the AADSTS diagnosis through the SDK wrapper too', () => {
    const inner = entraError('700016', `Application with identifier '${CLIENT}' was not found in the directory.`)
    const error = new SignInError(
      s,
      Object.assign(new Error('wrapped', { cause: inner }), { name: 'AuthenticationRequiredError' })
    )
    expect(explain(error, explainCtx)).toContain(`no application with client id ${CLIENT} exists in tenant ${TENANT}`)
  })

  // Bug: entraMessage stops at the first error whose message mentions AADSTS, which is the
  // SignInError itself (its message embeds the cause's), so the "Entra ID says" line quotes the
  // first line of our own wrapper ("Could not sign in … invalid_client Status code: 400") instead
  // of Entra's description. Flip to `it` once src/diagnose/explain.ts prefers the innermost match.
  it("quotes Entra's description, not the wrapper's first line", () => {
    const error = new SignInError(s, entraError('700213', 'No matching federated identity record found.'))
    expect(explain(error, explainCtx)).toContain(
      'Entra ID says: AADSTS700213: No matching federated identity record found.'
    )
  })
})

describe('explain: retry budget spent during sign-in', () => {
  const abort = () => Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' })

  it('a SignInError wrapping an AbortError says sign-in gave up, the budget, the last failure and the fix', () => {
    const message = explain(new SignInError(s, abort()), {
      ...explainCtx,
      budget: { seconds: 30, expired: true, lastFailure: 'POST https://login.microsoftonline.com/…/token answered 503' }
    })
    expect(message).toBe(
      `Could not sign in to Entra ID as client ${CLIENT} in tenant ${TENANT}: gave up after 30 s of retries (input 'retry-timeout'): POST https://login.microsoftonline.com/…/token answered 503.\n` +
        "Fix: the service is throttling or failing; re-run later (the run is safe to repeat), or raise 'retry-timeout'."
    )
  })

  it('finds the AbortError through the SDK wrapper', () => {
    const wrapped = Object.assign(new Error('wrapped', { cause: abort() }), { name: 'AuthenticationRequiredError' })
    expect(
      explain(new SignInError(s, wrapped), {
        budget: { seconds: 30, expired: true, lastFailure: 'POST /t/token answered 503' }
      })
    ).toMatch(/^Could not sign in to Entra ID: gave up after 30 s of retries .*: POST \/t\/token answered 503\./)
  })

  it('while the budget is not spent, the SignInError is reported as it is', () => {
    const error = new SignInError(s, abort())
    expect(explain(error, { ...explainCtx, budget: { seconds: 30, expired: false } })).toBe(error.message)
  })
})

describe('explain: review findings', () => {
  it('LinkedAuthorizationFailed names Managed Identity Operator on the identity the write names', () => {
    const cause = armError(
      403,
      'LinkedAuthorizationFailed',
      "The client has permission to perform action 'Microsoft.Web/sites/write' on scope 'x', however it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) 'y'."
    )
    const message = explain(new AzureOperationError(appCtx("attach user-assigned identity 'shop-id' to"), cause), {
      clientId: CLIENT
    })
    expect(message).toContain('the action names only the one it attaches or detaches')
    expect(message).toContain(`az role assignment create --assignee ${CLIENT} --role "Managed Identity Operator"`)
  })

  it('InvalidAuthenticationTokenTenant points at tenant-id, not at the cloud', () => {
    const cause = armError(401, 'InvalidAuthenticationTokenTenant', 'The access token is from the wrong issuer.')
    const message = explain(new AzureOperationError(appCtx(), cause), { tenantId: TENANT })
    expect(message).toContain(`the subscription belongs to another tenant than 'tenant-id' (${TENANT})`)
    expect(message).not.toContain("'environment'")
  })

  it('a refused slot read asks for Reader, which is all verify needs', () => {
    const cause = armError(
      403,
      'AuthorizationFailed',
      "The client 'c' with object id 'o' does not have authorization to perform action 'Microsoft.Web/sites/slots/read' over scope '/s' or the scope is invalid."
    )
    expect(explain(new AzureOperationError(slotCtx, cause), { clientId: CLIENT })).toContain(
      'Fix: grant it Reader (or Website Contributor) on the app'
    )
  })
})

describe('explain: a spent budget explains only what it stopped', () => {
  it('an error of its own (a plan refusal) is reported as itself even after the budget ran out', () => {
    const refusal = new Error("The identity of 'api' belongs to tenant x, but Key Vault 'kv' belongs to tenant y.")
    refusal.name = 'PlanError'
    expect(
      explain(refusal, { ...explainCtx, budget: { seconds: 5, expired: true, lastFailure: 'GET /x answered 503' } })
    ).toBe(refusal.message)
  })

  it('a redirect to another host is named as such', () => {
    const message = explain(new AzureOperationError(appCtx(), armError(302, '', '')), explainCtx)
    expect(message).toContain('Azure answered with a redirect (302) to another host, which the action does not follow')
  })
})

describe('explain: resource locks', () => {
  it('ScopeLocked names the locked scope, the operation, and the fix; it is not a busy resource', () => {
    const group = `/subscriptions/${SUB}/resourcegroups/rg`
    const message = explain(
      new AzureOperationError(
        appCtx('turn on the system-assigned identity of'),
        armError(
          409,
          'ScopeLocked',
          `The scope '/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/shop-api' cannot perform write operation because following scope(s) are locked: '${group}'. Please remove the lock and try again.`
        )
      ),
      explainCtx
    )
    expect(message).toContain(
      `Could not turn on the system-assigned identity of app 'shop-api' (resource group 'rg', subscription ${SUB}): a resource lock on ${group} forbids this write (409 ScopeLocked).`
    )
    expect(message).toContain('az lock delete --ids <lock id>')
    expect(message).toContain('Azure says: ScopeLocked: The scope')
    expect(message).not.toContain('another operation')
  })
})

describe('explain: the network', () => {
  const refused = { origin: 'https://login.example.com', problem: 'refused' as const, code: 'ECONNREFUSED' }

  it('a NetworkError from the pipeline says what failed, the host and port, and the fix', () => {
    const error = new AzureOperationError(
      appCtx(),
      new NetworkError('GET /subscriptions/x', { ...refused, origin: 'https://arm.example.com:8443' }, undefined)
    )
    expect(explain(error, explainCtx)).toBe(
      `Could not read app 'shop-api' (resource group 'rg', subscription ${SUB}): GET /subscriptions/x: arm.example.com:8443 refused the connection (ECONNREFUSED).\n` +
        "Fix: check the URL and port (inputs 'authority-host', 'arm-endpoint'); on a self-hosted runner check the firewall, or set HTTPS_PROXY when outbound traffic must go through a proxy."
    )
  })

  it.each([
    ['endpoints_resolution_error', 'CredentialUnavailableError'],
    ['network_error', 'AuthenticationRequiredError']
  ])('MSAL %s is explained from what the pipeline saw at the authority host', (code, name) => {
    const msal = Object.assign(new Error(`${code}: See https://aka.ms/msal.js.errors#${code} for details`), { name })
    const untrusted = {
      origin: 'https://login.example.com',
      problem: 'untrusted-certificate' as const,
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
      proxy: 'http://proxy:3128'
    }
    const message = explain(new SignInError(s, msal), {
      ...explainCtx,
      authorityHost: 'https://login.example.com',
      budget: { seconds: 30, expired: false, network: new Map([[untrusted.origin, untrusted]]) }
    })
    expect(message).toBe(
      'Sign-in failed: could not reach Entra ID at https://login.example.com: the TLS certificate of login.example.com:443 is not trusted (through the proxy http://proxy:3128) (SELF_SIGNED_CERT_IN_CHAIN).\n' +
        'Fix: when a TLS-inspecting proxy or a private CA sits in between, point NODE_EXTRA_CA_CERTS at a PEM file with its CA certificate (an env: of the step or job); otherwise check that the URL names the right host.'
    )
  })

  it('without a network failure, a failed discovery is the unknown tenant it usually is', () => {
    const msal = Object.assign(new Error('endpoints_resolution_error: See https://aka.ms/msal.js.errors'), {
      name: 'CredentialUnavailableError'
    })
    expect(
      explain(new SignInError(s, msal), {
        ...explainCtx,
        authorityHost: 'https://login.example.com',
        budget: { seconds: 30, expired: false, network: new Map() }
      })
    ).toMatch(
      /^Sign-in failed: Entra ID could not resolve tenant .* the tenant was not found \(AADSTS90002\) or the authority host is wrong\./
    )
  })

  it('a spent budget names the network failure rather than "throttling"', () => {
    const message = explain(new SignInError(s, Object.assign(new Error('aborted'), { name: 'AbortError' })), {
      ...explainCtx,
      budget: {
        seconds: 8,
        expired: true,
        lastFailure: 'POST /t/token failed: ENOTFOUND',
        network: new Map([[refused.origin, { ...refused, problem: 'unresolvable' as const, code: 'ENOTFOUND' }]])
      }
    })
    expect(message).toMatch(
      /gave up after 8 s \(input 'retry-timeout'\): the host name login\.example\.com could not be resolved \(ENOTFOUND\)\./
    )
    expect(message).not.toContain('throttling')
  })
})

describe('explain: sign-in without OIDC', () => {
  const unavailable = (message: string, cause?: Error) =>
    Object.assign(new Error(message, cause ? { cause } : undefined), { name: 'CredentialUnavailableError' })
  const mi = inputs({ authType: 'managed-identity', clientId: CLIENT, tenantId: '' })
  const cli = inputs({ authType: 'azure-cli', clientId: '', tenantId: '' })

  it('managed identity: "Identity not found" names the client id and how to assign it', () => {
    const error = new SignInError(
      mi,
      unavailable(
        'ManagedIdentityCredential: Authentication failed. Message invalid_request: Error(s): Not Available - Description: Identity not found - Correlation ID: Not Available'
      )
    )
    const message = explain(error, { clientId: CLIENT, authType: 'managed-identity' })
    expect(message).toMatch(
      /^Sign-in with the runner's managed identity failed: the runner has no a user-assigned identity with client id|^Sign-in with the runner's managed identity failed: the runner has no user-assigned identity/
    )
    expect(message).toContain(CLIENT)
    expect(message).toContain('az vm identity assign')
  })

  it('managed identity: IMDS 400 "No User Assigned … Identity found" (Azure/login#538) names client-id', () => {
    const error = new SignInError(
      mi,
      unavailable(
        'ManagedIdentityCredential: Authentication failed. invalid_request: No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.'
      )
    )
    const message = explain(error, { clientId: CLIENT, authType: 'managed-identity' })
    expect(message).toContain(`the runner has no user-assigned identity with client id ${CLIENT}`)
    expect(message).toContain("correct 'client-id'")
  })

  it('managed identity: an unreachable endpoint says the runner is not on Azure', () => {
    const error = new SignInError(
      mi,
      unavailable(
        'ManagedIdentityCredential: Network unreachable. Message: network_error: See https://aka.ms/msal.js.errors#network_error for details'
      )
    )
    expect(explain(error, { authType: 'managed-identity' })).toContain(
      "'auth-type: managed-identity' needs a self-hosted runner on Azure"
    )
  })

  it('azure-cli: az missing, or not signed in, each with its fix', () => {
    const missing = new SignInError(
      cli,
      unavailable(
        "Azure CLI could not be found. Please visit https://aka.ms/azure-cli for installation instructions and then, once installed, authenticate to your Azure account using 'az login'."
      )
    )
    expect(explain(missing, { authType: 'azure-cli' })).toMatch(
      /the az command was not found on this runner's PATH\.\nFix: install the Azure CLI/
    )
    const loggedOut = new SignInError(
      cli,
      unavailable("Please run 'az login' from a command prompt to authenticate before using this credential.")
    )
    expect(explain(loggedOut, { authType: 'azure-cli' })).toMatch(
      /az is not signed in .*\nFix: add an azure\/login step before this one/
    )
  })
})

describe('explain: a failure keeps its cause (issue 16.8)', () => {
  const aadsts = `AADSTS700016: Application with identifier '${CLIENT}' was not found in the directory 'Contoso'.`

  it("a reference whose App Service details quote an AADSTS code is reported as the reference, not as this run's sign-in", () => {
    const error = new ReferencesNotResolvedError('shop-api', [
      {
        setting: 'DB_PASSWORD',
        reference: '@Microsoft.KeyVault(VaultName=shop-kv;SecretName=db)',
        status: 'UnauthorizedClient',
        vaultName: 'shop-kv',
        secretName: 'db',
        details: aadsts
      }
    ])
    const message = explain(error, explainCtx)
    expect(message).toBe(error.message)
    expect(message).toContain('  - DB_PASSWORD → shop-kv/db: UnauthorizedClient (App Service says: AADSTS700016')
    expect(message).not.toContain('Sign-in failed')
  })

  it('an ARM answer that quotes an AADSTS code is explained as that answer', () => {
    const error = new AzureOperationError(appCtx('write the app settings of'), armError(400, 'BadRequest', aadsts))
    const message = explain(error, explainCtx)
    expect(message).toBe(
      `Could not write the app settings of app 'shop-api' (resource group '${s.resourceGroup}', subscription ${SUB}).\nAzure says: BadRequest: ${aadsts}`
    )
  })

  it('a plain error that mentions an MSAL code is not a sign-in failure', () => {
    expect(explain(new Error('upstream said network_error'), explainCtx)).toBe('upstream said network_error')
  })

  it('a token that cannot be renewed during an Azure call is still a sign-in failure', () => {
    const error = new AzureOperationError(appCtx(), entraError('700016', 'Application was not found in the directory.'))
    expect(explain(error, explainCtx)).toContain(`no application with client id ${CLIENT} exists in tenant ${TENANT}`)
  })
})

describe('explain: Container Apps secrets', () => {
  const ctx: OperationContext = {
    action: 'write the Key Vault secrets of',
    kind: 'app',
    target: { name: 'api', key: 'containerapp:api', kind: 'containerapp' },
    inputs: s
  }
  it.each([
    [
      'ContainerAppSecretKeyVaultUrlInvalid',
      "Container Apps refused a Key Vault secret URL.\nFix: check the vault and secret names in 'app-settings'"
    ],
    ['ContainerAppSecretInvalid', 'Fix: grant the sign-in identity listSecrets on the app']
  ])('%s says what it means here and the fix, then Azure', (code, expected) => {
    const message = explain(new AzureOperationError(ctx, armError(400, code, 'Azure words.')), explainCtx)
    expect(message).toContain(
      `Could not write the Key Vault secrets of container app 'api' (resource group 'rg', subscription ${SUB}): `
    )
    expect(message).toContain(expected)
    expect(message).toContain(`Azure says: ${code}: Azure words.`)
  })
})
