// Microsoft.ManagedIdentity/userAssignedIdentities: seeding, GET, deletion, the linked-scope check
// ARM runs on each one a site update names (Azure/application-gateway-kubernetes-ingress#999,
// Azure/aad-pod-identity#339), and the failure of an identity
// operation on a site that still lists a deleted one. Also the public face of the identity
// features: user-assigned identities, the runner's managed identity (imds.ts), the az stand-in.
import { armError, authorize, findResourceGroup, ok, resourceNotFound, type ArmContext } from './common.ts'
import { writeAzCli, type AzCliOptions } from '../sign-in/az-cli.ts'
import { setRunnerIdentity, type RunnerIdentityOptions, type RunnerInfo } from '../sign-in/imds.ts'
import type { FakeResponse } from '../core/server.ts'
import { addPrincipal, addResourceGroup, deniedBy, rgId, type State, type TokenGrant } from '../core/state.ts'
import type { UserAssignedIdentityRecord } from '../core/types.ts'
import { randomUUID } from 'node:crypto'
export type { AzCliOptions } from '../sign-in/az-cli.ts'
export type { RunnerIdentityOptions, RunnerInfo } from '../sign-in/imds.ts'

const TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities'
export const ASSIGN_ACTION = `${TYPE}/assign/action`

export interface UaiSeed {
  resourceGroup: string
  name: string
  subscriptionId?: string
  /** The identity's tenant (default: the fake's). */
  tenantId?: string
  location?: string
  tags?: Record<string, string>
}

export const uaiId = (sub: string, rg: string, name: string): string => `${rgId(sub, rg)}/providers/${TYPE}/${name}`

/**
 * ARM answers ids with `resourcegroups` in lower case: the IdentityGet.json spec example and the
 * linked scope of LinkedAuthorizationFailed in the captures quoted by the issues above; the rest keeps its casing.
 */
export const armIdView = (id: string): string => id.replace(/\/resourcegroups\//i, '/resourcegroups/')

export function seedUserAssignedIdentity(state: State, s: UaiSeed): UserAssignedIdentityRecord {
  const sub = s.subscriptionId ?? state.subscriptionId
  addResourceGroup(state, s.resourceGroup, sub)
  const id = uaiId(sub, s.resourceGroup, s.name)
  const key = id.toLowerCase()
  if (state.identities.has(key)) throw new Error(`addUserAssignedIdentity: '${id}' exists already`)
  // Seeded on a site earlier (addSite): the same identity, so the same principal and client ids.
  const ids = state.userAssigned.get(key) ?? { principalId: randomUUID(), clientId: randomUUID() }
  state.userAssigned.set(key, ids)
  addPrincipal(state, ids.principalId, 0) // created long before the test: replicated
  const tenantId = s.tenantId ?? state.tenantId
  state.tenants.add(tenantId.toLowerCase())
  const rec: UserAssignedIdentityRecord = {
    id,
    name: s.name,
    location: s.location ?? state.location,
    type: TYPE,
    tags: { ...s.tags },
    properties: { principalId: ids.principalId, clientId: ids.clientId, tenantId }
  }
  state.identities.set(key, rec)
  return structuredClone(rec)
}

// GET …/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name} (UserAssignedIdentities_Get).
export function handleUserAssignedIdentity(ctx: ArmContext, sub: string, rg: string, name: string): FakeResponse {
  if (ctx.req.method !== 'GET')
    return armError(405, 'MethodNotAllowed', `The fake does not support ${ctx.req.method} on ${TYPE}.`)
  const id = uaiId(sub, rg, name)
  const denied = authorize(ctx, `${TYPE}/read`, id)
  if (denied) return denied
  const noRg = findResourceGroup(ctx, sub, rg)
  if (noRg) return noRg
  const key = id.toLowerCase()
  const rec = ctx.state.identities.get(key)
  const seeded = ctx.state.userAssigned.get(key)
  if (!rec && !seeded) return resourceNotFound(TYPE, name, rg)
  // One only seeded on a site (addSite) exists too, in the fake's tenant and location.
  const body = rec
    ? structuredClone(rec)
    : {
        id,
        name,
        location: ctx.state.location,
        type: TYPE,
        tags: {},
        properties: { ...seeded!, tenantId: ctx.state.tenantId }
      }
  body.id = armIdView(body.id)
  // isolationScope appears in the 2024-11-30 spec example only (IdentityGet.json).
  const properties = ctx.apiVersion === '2024-11-30' ? { ...body.properties, isolationScope: 'None' } : body.properties
  return ok({ ...body, properties })
}

export interface LinkCaller {
  grant: TokenGrant
  action: string // the write the caller is allowed, e.g. Microsoft.Web/sites/write
  scope: string
}

/**
 * Naming user-assigned identities in a write needs assign/action on each (the issues above; see
 * site-identity.ts for which are checked): ARM refuses with LinkedAuthorizationFailed, in today's wording
 * "…; however, it does not have permission to perform action(s) '…' on the linked scope(s) '…'
 * (respectively) or the linked scope(s) are invalid." (an Update-AzVM error quoted in Microsoft's VM
 * troubleshooting article, and terraform/azurerm captures; older texts lack "(s)" and
 * "(respectively)"), whose "or the linked scope(s) are invalid" also
 * covers an identity that does not exist. Exists here: created with addUserAssignedIdentity or
 * seeded on a site (addSite).
 */
export function checkLinked(state: State, caller: LinkCaller, ids: string[]): FakeResponse | undefined {
  const refused = ids.filter((id) => !state.userAssigned.has(id.toLowerCase()) || deniedBy(state, ASSIGN_ACTION, id))
  if (!refused.length) return undefined
  // Several refused scopes: joined with ',' (no capture shows more than one).
  return armError(
    403,
    'LinkedAuthorizationFailed',
    `The client '${caller.grant.clientId}' with object id '${caller.grant.spObjectId}' has permission to perform action '${caller.action}' on scope '${caller.scope}'; however, it does not have permission to perform action(s) '${ASSIGN_ACTION}' on the linked scope(s) '${refused.map(armIdView).join(',')}' (respectively) or the linked scope(s) are invalid.`
  )
}

/**
 * A user-assigned identity deleted while a site still lists it: App Service keeps listing it
 * (Azure/azure-sdk-for-java#33544), and an identity operation whose result still holds it fails
 * with 400 FailedIdentityOperation, the identity id in lower case (Azure/aad-pod-identity#515, a
 * VMSS update; Azure/azure-libraries-for-net#839, a site update, `resourcegroups` lower case). An
 * operation that removes it is let through here (whether Azure allows that: #839 says not through
 * that SDK; no other source found).
 */
export function deletedIdentity(state: State, caller: LinkCaller, ids: string[]): FakeResponse | undefined {
  const gone = ids.find((id) => !state.userAssigned.has(id.toLowerCase()))
  if (!gone) return undefined
  const inner = JSON.stringify({
    error: { code: 'BadRequest', message: `Resource '${gone.toLowerCase()}' was not found.` }
  })
  return armError(
    400,
    'FailedIdentityOperation',
    `Identity operation for resource '${caller.scope}' failed with error 'Failed to perform resource identity operation. Status: 'BadRequest'. Response: '${inner}'.'.`
  )
}

export interface IdentityApi {
  /** A Microsoft.ManagedIdentity/userAssignedIdentities resource; GET answers it, sites may attach it. */
  addUserAssignedIdentity(u: UaiSeed): UserAssignedIdentityRecord
  /** Deletes a user-assigned identity; sites that hold it keep listing it (deletedIdentity). */
  deleteUserAssignedIdentity(id: string): void
  /**
   * The managed identities of the VM the runner is on, as the fake IMDS (`imds: true`) signs them
   * in. userAssigned: resource ids or client ids of identities created with
   * addUserAssignedIdentity (or seeded on a site).
   */
  setRunnerIdentity(r: RunnerIdentityOptions): RunnerInfo
  /** A stand-in `az` (a sh script) in a fresh directory to put first on PATH; removed on close. */
  azCli(options?: AzCliOptions): { dir: string }
}

export function identityApi(state: State): { api: IdentityApi; close(): void } {
  const cleanups: (() => void)[] = []
  const api: IdentityApi = {
    addUserAssignedIdentity: (u) => seedUserAssignedIdentity(state, u),
    deleteUserAssignedIdentity: (id) => {
      state.identities.delete(id.toLowerCase())
      state.userAssigned.delete(id.toLowerCase())
    },
    setRunnerIdentity: (r) => setRunnerIdentity(state, r),
    azCli: (options) => {
      const az = writeAzCli(state, options)
      cleanups.push(az.cleanup)
      return { dir: az.dir }
    }
  }
  return { api, close: () => cleanups.splice(0).forEach((c) => c()) }
}
