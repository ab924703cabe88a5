// User-assigned managed identities (Microsoft.ManagedIdentity/userAssignedIdentities): one GET, for
// the principal to grant and the client id apps need. Through the same small typed client as role
// assignments; no SDK package for one call.
import { createRestError, getClient, type Client } from '@azure-rest/core-client'
import type { TokenCredential } from '@azure/core-auth'
import type { Cloud } from '../model/clouds.js'
import type { RetryBudget } from './http/budget.js'
import { armClientOptions } from './http/pipeline.js'
import { expectGuid, UnexpectedAzureDataError } from './returned.js'
import type { UserIdentity } from '../model/state.js'

/** The latest stable api-version (specification/msi TypeSpec: v2024_11_30). */
const API_VERSION = '2024-11-30'

export class UserAssignedIdentities {
  private readonly client: Client

  constructor(credential: TokenCredential, cloud: Cloud, budget: RetryBudget) {
    this.client = getClient(cloud.armEndpoint, credential, armClientOptions(cloud, budget))
  }

  async get(wanted: { id: string; name: string }): Promise<UserIdentity> {
    const response = await this.client.pathUnchecked(wanted.id).get({ queryParameters: { 'api-version': API_VERSION } })
    if (response.status !== '200') throw createRestError(response)
    const body = response.body as {
      id?: string
      properties?: { principalId?: string; clientId?: string; tenantId?: string }
    }
    // ARM answers `resourcegroups` (and sometimes all lower case): ids compare case-insensitively.
    if (body.id?.toLowerCase() !== wanted.id.toLowerCase()) {
      throw new UnexpectedAzureDataError(
        'the identity id',
        body.id ?? '(none)',
        `the id of user-assigned identity '${wanted.name}'`
      )
    }
    const what = (field: string): string => `the ${field} of identity '${wanted.name}'`
    const principalId = expectGuid(what('principal id'), body.properties?.principalId)
    const clientId = expectGuid(what('client id'), body.properties?.clientId)
    if (!principalId || !clientId) {
      throw new UnexpectedAzureDataError(
        what('principal and client id'),
        JSON.stringify(body.properties ?? {}),
        'present'
      )
    }
    return {
      id: wanted.id,
      name: wanted.name,
      principalId,
      clientId,
      tenantId: expectGuid(what('tenant'), body.properties?.tenantId) ?? ''
    }
  }
}
