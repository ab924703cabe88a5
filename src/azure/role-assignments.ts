// Azure RBAC role assignments, through a small typed client on @azure-rest/core-client (the same
// pipeline as the other clients: bearer token, retries, request log). @azure/arm-authorization 9
// is a CommonJS bundle of the whole Authorization API (~270 kB) whose `scope` parameter turns
// `/subscriptions/...` into `//subscriptions/...`; three calls do not justify it. This module is
// loaded only when a vault uses RBAC.
import { createRestError, getClient, type Client } from '@azure-rest/core-client'
import type { TokenCredential } from '@azure/core-auth'
import type { PipelineRequest } from '@azure/core-rest-pipeline'
import type { Cloud } from '../model/clouds.js'
import type { RetryBudget } from './http/budget.js'
import { hadUnclearAttempt } from './http/attempt-policy.js'
import { armClientOptions } from './http/pipeline.js'
import { isVaultScope } from './returned.js'
import type { RoleAssignment } from '../model/state.js'

const API_VERSION = '2022-04-01'

interface WireAssignment {
  id: string
  name: string
  properties: {
    scope: string
    roleDefinitionId: string
    principalId: string
    principalType?: string
    condition?: string | null
  }
}

export class RoleAssignments {
  private readonly client: Client

  constructor(credential: TokenCredential, cloud: Cloud, budget: RetryBudget) {
    this.client = getClient(cloud.armEndpoint, credential, armClientOptions(cloud, budget))
  }

  /**
   * Every assignment at `scope` or above it: resource group, subscription, management groups and
   * the root `/`. Page links are followed as ARM gives them; the pipeline refuses one that leaves
   * the ARM origin, before the token goes out.
   */
  async listAtOrAbove(scope: string): Promise<RoleAssignment[]> {
    const all: RoleAssignment[] = []
    let next: string | undefined = `${scope}/providers/Microsoft.Authorization/roleAssignments`
    let query: Record<string, string> | undefined = { $filter: 'atScope()', 'api-version': API_VERSION }
    while (next) {
      const response = await this.client.pathUnchecked(next).get({ queryParameters: query })
      if (response.status !== '200') throw createRestError(response)
      const body = response.body as { value?: WireAssignment[]; nextLink?: string }
      all.push(...(body.value ?? []).map(fromWire))
      next = body.nextLink
      query = undefined // nextLink carries its own query
    }
    return all
  }

  /**
   * Creates the assignment under a deterministic name. `principalType` lets ARM skip the directory
   * lookup that fails while a just-created identity replicates. 'exists': ARM holds an assignment
   * of the role for the principal at the scope under another name (409 RoleAssignmentExists,
   * whatever that one's condition); the caller looks at it before calling the access granted.
   */
  async create(
    scope: string,
    name: string,
    roleDefinitionId: string,
    principalId: string
  ): Promise<'created' | 'exists'> {
    checkScope(scope)
    const response = await this.client
      .pathUnchecked(`${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`)
      .put({
        queryParameters: { 'api-version': API_VERSION },
        contentType: 'application/json',
        body: { properties: { roleDefinitionId, principalId, principalType: 'ServicePrincipal' } }
      })
    if (response.status === '200' || response.status === '201') return 'created'
    const error = createRestError(response)
    if (error.code === 'RoleAssignmentExists') return 'exists'
    throw error
  }

  /**
   * Deletes one assignment by name; true when this call deleted it. A 204 ("nothing there") after
   * an attempt whose answer was unclear (lost, or a 5xx the pipeline retried) counts as this
   * call's: that attempt may have deleted it, and it is gone either way.
   */
  async delete(scope: string, name: string): Promise<boolean> {
    checkScope(scope)
    let request: PipelineRequest | undefined
    const response = await this.client
      .pathUnchecked(`${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`)
      .delete({ queryParameters: { 'api-version': API_VERSION }, onResponse: (raw) => (request = raw.request) })
    if (response.status === '200') return true
    if (response.status === '204') return request !== undefined && hadUnclearAttempt(request)
    throw createRestError(response)
  }
}

/** This action assigns and deletes roles on Key Vaults only: never at `/`, a subscription or a group. */
function checkScope(scope: string): void {
  if (!isVaultScope(scope))
    throw new Error(`Refusing a role assignment at scope '${scope}': only a Key Vault's own id is allowed.`)
}

function fromWire(wire: WireAssignment): RoleAssignment {
  return {
    id: wire.id,
    name: wire.name,
    scope: wire.properties.scope,
    roleDefinitionId: wire.properties.roleDefinitionId,
    principalId: wire.properties.principalId,
    principalType: wire.properties.principalType,
    condition: wire.properties.condition ?? undefined
  }
}
