// What every ARM handler shares: the error shape and texts, api-versions, caller permissions.
import type { FakeRequest, FakeResponse } from '../core/server.ts'
import { deniedBy, lockedBy, type State, type TokenGrant } from '../core/state.ts'

export interface ArmContext {
  state: State
  req: FakeRequest
  grant: TokenGrant
  apiVersion: string
  armEndpoint: string
}

export function armError(status: number, code: string, message: string, extra?: Record<string, unknown>): FakeResponse {
  return { status, body: { error: { code, message, ...extra } } }
}

/**
 * Microsoft.Web's own error answers (the resource provider, not the ARM gateway) carry the error
 * at the top level in Pascal case, with the message again in Details and an ErrorEntity, e.g.
 * {"Code":"Conflict","Message":"Cannot modify this site because another operation is in
 * progress. …","Target":null,"Details":[{"Message":…},{"Code":"Conflict"},{"ErrorEntity":
 * {"ExtendedCode":…}}],"Innererror":null} (Azure/logicapps#1306, microsoft/Partner-Smart-Office#1,
 * the ARM troubleshooting docs). Errors caught by the gateway (404 of a missing resource, 403)
 * keep ARM's {"error":{…}} shape.
 *
 * The ErrorEntity names the service's message template and its parameters; a live 409 quoted in
 * full (gerryw1389's blog post "Terraform: Official Sleep Example", an azurerm/autorest capture):
 * {"ErrorEntity":{"Code":"Conflict","ExtendedCode":"59203","Message":"Cannot modify this site
 * because another operation is in progress. Details: Id: …","MessageTemplate":"Cannot modify this
 * site because another operation is in progress. Details: {0}","Parameters":["Id: …"]}}.
 */
export function webError(
  status: number,
  code: string,
  message: string,
  extendedCode = '00000',
  entity: { template: string; parameters: string[] } = { template: message, parameters: [] }
): FakeResponse {
  return {
    status,
    body: {
      Code: code,
      Message: message,
      Target: null,
      Details: [
        { Message: message },
        { Code: code },
        {
          ErrorEntity: {
            Code: code,
            ExtendedCode: extendedCode,
            Message: message,
            MessageTemplate: entity.template,
            Parameters: entity.parameters
          }
        }
      ],
      Innererror: null
    }
  }
}

/** A Microsoft.Web error from its message template: `{0}`, `{1}` … are the parameters, in order. */
export function webTemplateError(
  status: number,
  code: string,
  extendedCode: string,
  template: string,
  parameters: string[]
): FakeResponse {
  const message = template.replace(/\{(\d+)\}/g, (_m, i: string) => parameters[Number(i)] ?? '')
  return webError(status, code, message, extendedCode, { template, parameters })
}

/**
 * 400 for a body property App Service refuses: ExtendedCode 01007, template "The parameter {0} has
 * an invalid value." (project issue 17, item 10, from Microsoft.Web error entities; no full capture
 * was found in this project's searches).
 */
export const invalidParameter = (what: string): FakeResponse =>
  webTemplateError(400, 'BadRequest', '01007', 'The parameter {0} has an invalid value.', [what])

export const ok = (body: unknown, status = 200): FakeResponse => ({ status, body })
export const clone = <T>(v: T): T => structuredClone(v)

export const API_VERSIONS = {
  web: ['2025-05-01', '2024-11-01', '2024-04-01', '2023-12-01', '2023-01-01', '2022-09-01', '2022-03-01'],
  keyVault: ['2026-02-01', '2025-05-01', '2024-11-01', '2023-07-01', '2023-02-01', '2022-07-01'],
  authorization: ['2022-04-01', '2020-10-01-preview', '2020-04-01-preview'],
  resources: ['2015-11-01', '2021-04-01', '2022-09-01', '2024-03-01', '2024-11-01'],
  subscriptions: ['2022-12-01', '2020-01-01', '2019-11-01', '2016-06-01'],
  // Stable versions of Microsoft.ManagedIdentity (azure-rest-api-specs
  // specification/msi/resource-manager/Microsoft.ManagedIdentity: the stable/ folders).
  managedIdentity: ['2024-11-30', '2023-01-31', '2018-11-30']
}
export type ApiFamily = keyof typeof API_VERSIONS

// Resource providers answer NoRegisteredProviderFound; ARM's own endpoints InvalidApiVersionParameter.
export function apiVersionError(
  family: ApiFamily,
  version: string,
  resourceType: string,
  location: string
): FakeResponse {
  const list = API_VERSIONS[family].join(', ')
  if (family === 'resources' || family === 'subscriptions') {
    return armError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${version}' is invalid. The supported versions are '${API_VERSIONS[family].join(',')}'.`
    )
  }
  return armError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location '${location}' and API version '${version}' for type '${resourceType}'. The supported api-versions are '${list}'. The supported locations are 'westeurope, northeurope, eastus, eastus2, westus2, centralus, uksouth, swedencentral'.`
  )
}

export const missingApiVersion = (): FakeResponse =>
  armError(
    400,
    'MissingApiVersionParameter',
    'The api-version query parameter (?api-version=) is required for all requests.'
  )

// Checked before existence, like ARM: a denied caller cannot learn whether a resource exists.
// Then resource locks, which ARM enforces before the request reaches the resource provider.
export function authorize(ctx: ArmContext, action: string, scope: string): FakeResponse | undefined {
  if (!deniedBy(ctx.state, action, scope)) return scopeLocked(ctx, action, scope)
  return armError(
    403,
    'AuthorizationFailed',
    `The client '${ctx.grant.clientId}' with object id '${ctx.grant.spObjectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
  )
}

// Text as ARM words it (az CLI output of a ScopeLocked error; Microsoft's Automation
// troubleshooting doc): the target, the operation, and the locked scope(s). The fake prints the
// lock's scope in lower case as it stores it; azure-sdk-for-java#2560 shows one in mixed case.
function scopeLocked(ctx: ArmContext, action: string, scope: string): FakeResponse | undefined {
  const lock = lockedBy(ctx.state, action, scope)
  if (!lock) return undefined
  const operation = action.toLowerCase().endsWith('/delete') ? 'delete' : 'write'
  return armError(
    409,
    'ScopeLocked',
    `The scope '${scope}' cannot perform ${operation} operation because following scope(s) are locked: '${lock.scope}'. Please remove the lock and try again.`
  )
}

export const resourceNotFound = (type: string, name: string, rg: string): FakeResponse =>
  armError(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`
  )

export const resourceGroupNotFound = (rg: string): FakeResponse =>
  armError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`)

export const subscriptionNotFound = (sub: string): FakeResponse =>
  armError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`)

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export const invalidContent = (): FakeResponse =>
  armError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.')

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

// Resource-group existence with the real 404, for handlers under /resourceGroups/{rg}.
export function findResourceGroup(ctx: ArmContext, sub: string, rg: string): FakeResponse | undefined {
  return ctx.state.resourceGroups.has(`/subscriptions/${sub}/resourcegroups/${rg}`.toLowerCase())
    ? undefined
    : resourceGroupNotFound(rg)
}

// `$top` caps a page; a nextLink carries the offset, as ARM's $skiptoken does.
export function page<T>(ctx: ArmContext, items: T[]): { value: T[]; nextLink?: string } {
  const top = Number(ctx.req.query.$top) > 0 ? Number(ctx.req.query.$top) : ctx.state.vaultPageSize
  const skip = Number(ctx.req.query.$skiptoken ?? 0) || 0
  const value = items.slice(skip, skip + top)
  if (skip + top >= items.length) return { value }
  const q = new URLSearchParams({ ...ctx.req.query, $skiptoken: String(skip + top) })
  return { value, nextLink: `${ctx.armEndpoint}${ctx.req.path}?${q.toString()}` }
}
