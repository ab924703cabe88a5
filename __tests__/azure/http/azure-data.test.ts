// Pure pieces of the HTTP layer: reading Azure's two error shapes, which answers are waited out,
// what a failed connection means, checks of data Azure returns, and log lines safe from commands.
import { describe, expect, it } from '@jest/globals'
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline'
import { readAzureError, retryRule } from '../../../src/azure/http/error-policies.js'
import { classify, isUnreachable } from '../../../src/azure/http/network.js'
import { isBuiltFromRead } from '../../../src/azure/http/replay.js'
import { expectGuid, expectUserAssignedIdentityId, isVaultScope } from '../../../src/azure/returned.js'
import { neutralize } from '../../../src/log/log.js'

const SITE = 'https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/app'
const answer = (
  status: number,
  body: unknown,
  method: 'PATCH' | 'PUT' = 'PATCH',
  url = SITE
): [ReturnType<typeof createPipelineRequest>, PipelineResponse] => {
  const request = createPipelineRequest({ url, method })
  return [request, { request, status, headers: createHttpHeaders(), bodyAsText: JSON.stringify(body) }]
}
const POLICY_ADD =
  'https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/accessPolicies/add'
const webConflict = {
  Code: 'Conflict',
  Message: 'Cannot modify this site because another operation is in progress. Details: Id: 1, OperationName: Update',
  Target: null,
  Details: [{ Message: 'Cannot modify this site…' }, { Code: 'Conflict' }],
  Innererror: null
}

describe('readAzureError', () => {
  it("reads ARM's {error:{code,message}} and Microsoft.Web's top-level {Code,Message}", () => {
    expect(readAzureError(JSON.stringify({ error: { code: 'ScopeLocked', message: 'locked' } }))).toMatchObject({
      code: 'ScopeLocked',
      message: 'locked'
    })
    expect(readAzureError(JSON.stringify(webConflict))).toMatchObject({
      code: 'Conflict',
      message: webConflict.Message
    })
  })

  it('takes the message from Details when Message is empty; ignores bodies that are neither', () => {
    expect(readAzureError(JSON.stringify({ message: 'GitHub says no' }))?.message).toBe('GitHub says no')
    expect(
      readAzureError(
        JSON.stringify({ Code: 'BadRequest', Message: '', Details: [{ Code: 'x' }, { Message: 'said here' }] })
      )
    ).toMatchObject({
      code: 'BadRequest',
      message: 'said here'
    })
    expect(readAzureError('<html>bad gateway</html>')).toBeUndefined()
    expect(readAzureError(JSON.stringify({ value: [] }))).toBeUndefined()
  })
})

describe('retryRule: which error answers are waited out', () => {
  it('409 Conflict (either shape) and AnotherOperationInProgress: yes, for a request safe to send again', () => {
    expect(retryRule(...answer(409, webConflict, 'PUT', POLICY_ADD))?.why).toMatch(/another operation is in progress/)
    const other = { error: { code: 'AnotherOperationInProgress', message: 'x' } }
    expect(retryRule(...answer(409, other, 'PUT', POLICY_ADD))).toBeDefined()
  })

  it('409 Conflict on a write built from a read (site PATCH, settings PUT): no — its caller reads again', () => {
    expect(retryRule(...answer(409, webConflict))).toBeUndefined()
    expect(retryRule(...answer(409, webConflict, 'PUT', `${SITE}/slots/stage/config/appsettings`))).toBeUndefined()
  })

  it('409 ScopeLocked, RoleAssignmentExists, RoleAssignmentUpdateNotPermitted: no — they do not pass', () => {
    for (const code of ['ScopeLocked', 'RoleAssignmentExists', 'RoleAssignmentUpdateNotPermitted'])
      expect(retryRule(...answer(409, { error: { code, message: 'x' } }))).toBeUndefined()
  })

  it('400 PrincipalNotFound on a role assignment PUT: yes, for at most 150 s; elsewhere or other 400s: no', () => {
    const assignment =
      'https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/providers/Microsoft.Authorization/roleAssignments/n'
    const body = { error: { code: 'PrincipalNotFound', message: 'Principal x does not exist in the directory y.' } }
    expect(retryRule(...answer(400, body, 'PUT', assignment))?.limitMs).toBe(150_000)
    expect(retryRule(...answer(400, body, 'PATCH'))).toBeUndefined()
    expect(
      retryRule(...answer(400, { error: { code: 'BadRequest', message: 'x' } }, 'PUT', assignment))
    ).toBeUndefined()
  })
})

describe('isBuiltFromRead: the writes the pipeline never sends twice as they are', () => {
  it('names the site PATCH and the settings and connection-string PUTs, of apps and slots', () => {
    expect(isBuiltFromRead('PATCH', SITE)).toBe(true)
    expect(isBuiltFromRead('patch', `${SITE}/slots/stage`)).toBe(true)
    expect(isBuiltFromRead('PUT', `${SITE}/config/appsettings`)).toBe(true)
    expect(isBuiltFromRead('PUT', `${SITE}/slots/stage/config/connectionstrings`)).toBe(true)
  })

  it('names the PATCH of a container app or job (identity, or the whole secrets array), not its reads', () => {
    const APP = 'https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.App'
    expect(isBuiltFromRead('PATCH', `${APP}/containerApps/api?api-version=2025-07-01`)).toBe(true)
    expect(isBuiltFromRead('PATCH', `${APP}/jobs/nightly?api-version=2025-07-01`)).toBe(true)
    expect(isBuiltFromRead('POST', `${APP}/containerApps/api/listSecrets?api-version=2025-07-01`)).toBe(false)
    expect(isBuiltFromRead('GET', `${APP}/containerApps/api?api-version=2025-07-01`)).toBe(false)
  })

  it('leaves reads and writes that are safe to repeat to the pipeline', () => {
    expect(isBuiltFromRead('GET', SITE)).toBe(false)
    expect(isBuiltFromRead('POST', `${SITE}/config/appsettings/list`)).toBe(false)
    expect(isBuiltFromRead('PUT', POLICY_ADD)).toBe(false)
    expect(isBuiltFromRead('PUT', `${SITE}/providers/Microsoft.Authorization/roleAssignments/n`)).toBe(false)
  })
})

describe('network failures', () => {
  it('classifies by the system error code, through wrappers', () => {
    expect(classify(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe('unresolvable')
    expect(classify(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }))).toBe(
      'refused'
    )
    expect(classify(Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toBe('untrusted-certificate')
    expect(classify(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined() // a drop: retried for the budget
    expect(isUnreachable('refused')).toBe(true)
    expect(isUnreachable('untrusted-certificate')).toBe(false)
  })
})

describe('data returned by Azure', () => {
  it('principal ids must be GUIDs', () => {
    expect(expectGuid('p', 'aaaaaaaa-0000-0000-0000-000000000001')).toBe('aaaaaaaa-0000-0000-0000-000000000001')
    expect(expectGuid('p', undefined)).toBeUndefined()
    expect(() => expectGuid('the principal id', '../x')).toThrow(
      "Azure returned the principal id '../x', which is not a GUID"
    )
  })

  it('user-assigned identity ids must be such ids', () => {
    const id = '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u'
    expect(expectUserAssignedIdentityId(id)).toBe(id)
    expect(() => expectUserAssignedIdentityId(`${id}/../x`)).toThrow()
    expect(() => expectUserAssignedIdentityId('/subscriptions/s')).toThrow()
  })

  it('a role assignment scope is a vault id, never the root, a subscription or a group', () => {
    expect(isVaultScope('/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv')).toBe(true)
    for (const scope of [
      '',
      '/',
      '/subscriptions/s',
      '/subscriptions/s/resourceGroups/g',
      '/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv/x'
    ])
      expect(isVaultScope(scope)).toBe(false)
  })
})

describe('neutralize: Azure text never becomes a workflow command', () => {
  it('breaks `::` at a line start (after blanks, which the runner trims) and `##[` anywhere', () => {
    const text = 'vault kv\n::set-output name=principal-id::evil\n   ::add-mask::x\nsee ##[error]boom'
    const safe = neutralize(text)
    for (const line of safe.split('\n')) {
      expect(line.trimStart().startsWith('::')).toBe(false)
      expect(line).not.toContain('##[')
    }
    expect(safe.replaceAll('\u200b', '')).toBe(text) // nothing else changes
  })

  it('leaves ordinary text alone', () => {
    expect(neutralize('GET /subscriptions/x → 200 (12 ms)')).toBe('GET /subscriptions/x → 200 (12 ms)')
  })
})
