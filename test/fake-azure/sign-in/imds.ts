// The Azure Instance Metadata Service's token endpoint, as the runner's VM sees it: MSAL (under
// @azure/identity's ManagedIdentityCredential) calls it at AZURE_POD_IDENTITY_AUTHORITY_HOST +
// /metadata/identity/oauth2/token/ (@azure/msal-node dist/client/ManagedIdentitySources/Imds.mjs).
// Bodies and errors: Entra's how-to-use-vm-token doc (its error table) and real captures cited below.
import { randomUUID } from 'node:crypto'
import { ARM_RESOURCES } from './entra.ts'
import { mintAccessToken } from '../core/jwt.ts'
import type { FakeRequest, FakeResponse, Handler } from '../core/server.ts'
import { addPrincipal, findUserAssigned, type RunnerMi, type State } from '../core/state.ts'

export interface RunnerIdentityOptions {
  systemAssigned?: boolean
  /**
   * How IMDS says a named user-assigned identity is not there: "Identity not found" (default), or
   * 400 "No User Assigned or Delegated Managed Identity found for specified
   * ClientId/ResourceId/PrincipalId." as quoted from a live run in Azure/login#538.
   */
  notFoundAnswer?: 'identity-not-found' | 'no-user-assigned'
  /** Resource ids or client ids of identities created with addUserAssignedIdentity (or seeded on a site). */
  userAssigned?: string[]
}
/** What the runner's VM holds: grant roles to these principals. */
export interface RunnerInfo {
  systemAssigned?: RunnerMi
  userAssigned: RunnerMi[]
}

// The VM the runner is on: named in the system identity's tokens (xms_mirid); no ARM resource.
const runnerVm = (state: State): string =>
  `/subscriptions/${state.subscriptionId}/resourcegroups/runner-rg/providers/Microsoft.Compute/virtualMachines/runner-vm`

export function setRunnerIdentity(state: State, r: RunnerIdentityOptions): RunnerInfo {
  const userAssigned = (r.userAssigned ?? []).map((idOrClientId) => {
    const u = findUserAssigned(state, idOrClientId)
    if (!u) throw new Error(`setRunnerIdentity: no user-assigned identity '${idOrClientId}'`)
    return { resourceId: u.resourceId, principalId: u.principalId, clientId: u.clientId, tenantId: u.tenantId }
  })
  // Kept on, the system identity keeps its principal; turned on again, it is a new one (as a site's).
  let system = r.systemAssigned ? state.runner.system : undefined
  if (r.systemAssigned && !system) {
    system = {
      resourceId: runnerVm(state),
      principalId: randomUUID(),
      clientId: randomUUID(),
      tenantId: state.tenantId
    }
    addPrincipal(state, system.principalId, 0)
  }
  state.runner = { system, userAssigned, notFoundAnswer: r.notFoundAnswer }
  return structuredClone({ ...(system ? { systemAssigned: system } : {}), userAssigned })
}

const imdsError = (error: string, description: string): FakeResponse => ({
  status: 400,
  body: { error, error_description: description }
})
// The doc's error table: "400 bad_request_102 Required metadata header not specified"; captures of "Identity not found"
// (azure-sdk-for-net#37278, azure-sdk-for-python#38826).
const noMetadata = (): FakeResponse => imdsError('bad_request_102', 'Required metadata header not specified')
const notFound = (state: State): FakeResponse =>
  state.runner.notFoundAnswer === 'no-user-assigned'
    ? imdsError(
        'invalid_request',
        'No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.'
      )
    : imdsError('invalid_request', 'Identity not found')

// Which identity a request names (client_id, object_id, msi_res_id: the how-to-use-vm-token
// doc's query parameters; older docs mi_res_id). Without one: the system identity; with none, a VM's only user-assigned identity
// ("Required, if your VM has multiple user-assigned managed identities": the clientId doc of
// @azure/ms-rest-nodeauth MSIVmOptions).
function pick(state: State, q: Record<string, string>): RunnerMi | FakeResponse {
  const keys = ['client_id', 'object_id', 'msi_res_id', 'mi_res_id'].filter((k) => q[k] !== undefined)
  const { system, userAssigned } = state.runner
  if (keys.length > 1)
    return imdsError('invalid_request', 'Only one of client_id, object_id and msi_res_id may be given')
  if (keys.length === 0) {
    if (system) return system
    return userAssigned.length === 1 ? userAssigned[0] : notFound(state)
  }
  const v = q[keys[0]].toLowerCase()
  const field = keys[0] === 'client_id' ? 'clientId' : keys[0] === 'object_id' ? 'principalId' : 'resourceId'
  return userAssigned.find((u) => u[field].toLowerCase() === v) ?? notFound(state)
}

const isArm = (resource: string, armEndpoint: string): boolean => {
  const r = resource.toLowerCase().replace(/\/+$/, '')
  return ARM_RESOURCES.includes(r) || r === armEndpoint.toLowerCase()
}

export function imdsHandler(state: State, armEndpoint: () => string): Handler {
  return (req: FakeRequest): FakeResponse => {
    // MSAL adds a trailing slash (Imds.mjs builds the URL so; seen in the fake's log); curl users do not.
    if (!/^\/metadata\/identity\/oauth2\/token\/?$/i.test(req.path))
      return { status: 404, body: { error: 'not_found', error_description: `fake IMDS has no ${req.path}` } }
    // The SDK's probe leaves the header out on purpose "to invoke an error from IMDS" (imdsMsi.js).
    if (String(req.headers.metadata).toLowerCase() !== 'true') return noMetadata()
    if (req.method !== 'GET') return imdsError('invalid_request', `Method ${req.method} is not supported`)
    const q = req.query
    if (!q['api-version']) return imdsError('invalid_request', "Required query variable 'api-version' is missing")
    if (!q.resource) return imdsError('invalid_request', "Required query variable 'resource' is missing")
    const mi = pick(state, q)
    if ('status' in mi) return mi
    const grant = { tenantId: mi.tenantId, clientId: mi.clientId, spObjectId: mi.principalId }
    const { token, exp, iat } = mintAccessToken(state.tokens, grant, { aud: q.resource, xms_mirid: mi.resourceId })
    // Only an ARM token opens ARM; tokens for other resources are issued but never accepted.
    if (!isArm(q.resource, armEndpoint())) state.tokens.delete(token)
    // Every value a string (B5); expires_on is what MSAL reads, expires_in it ignores.
    return {
      status: 200,
      body: {
        access_token: token,
        refresh_token: '',
        expires_in: String(exp - iat),
        expires_on: String(exp),
        not_before: String(iat),
        resource: q.resource,
        token_type: 'Bearer'
      }
    }
  }
}
