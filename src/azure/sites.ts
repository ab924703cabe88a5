// Web apps, function apps and their slots (all Microsoft.Web/sites). Reads are GETs; the only
// write is a PATCH of `identity` alone: never a PUT, which would replace the whole site.
import * as core from '@actions/core'
import type { TokenCredential } from '@azure/core-auth'
import { createWebSiteManagement, type WebSiteManagementContext } from '@azure/arm-appservice/api'
import { get, getSlot, update, updateSlot } from '@azure/arm-appservice/api/webApps'
import type { Site, SitePatchResource } from '@azure/arm-appservice/models'
import type { Cloud } from '../clouds.js'
import { parseIdentityType, withSystemAssigned } from '../identity-type.js'
import { withRetry } from '../retry.js'
import type { AppTarget } from '../settings.js'
import { armClientOptions, type RetryBudget } from './pipeline.js'

export interface AppState {
  target: AppTarget
  id: string
  kind: string
  identityType: string
  systemAssigned: boolean
  /** Resource ids of the user-assigned identities, exactly as ARM returned them. */
  userAssignedIds: string[]
  principalId?: string
  tenantId?: string
}

export interface IdentityResult {
  principalId: string
  tenantId: string
}

export class Sites {
  private readonly context: WebSiteManagementContext
  private readonly resourceGroup: string
  private readonly budget: RetryBudget

  constructor(
    credential: TokenCredential,
    cloud: Cloud,
    budget: RetryBudget,
    subscriptionId: string,
    resourceGroup: string
  ) {
    this.context = createWebSiteManagement(credential, subscriptionId, armClientOptions(cloud, budget))
    this.resourceGroup = resourceGroup
    this.budget = budget
  }

  async read(target: AppTarget): Promise<AppState> {
    const site = target.slot
      ? await getSlot(this.context, this.resourceGroup, target.name, target.slot)
      : await get(this.context, this.resourceGroup, target.name)
    return toAppState(target, site)
  }

  /**
   * Turns the system-assigned identity on or off with one PATCH of `identity`, naming every
   * user-assigned identity so that none is dropped. Retries 409 Conflict (another operation on
   * the site is in progress), which the SDK pipeline does not.
   */
  async setSystemIdentity(app: AppState, enabled: boolean): Promise<AppState> {
    const type = withSystemAssigned(app.identityType, enabled)
    if (parseIdentityType(type).user && app.userAssignedIds.length === 0) {
      // A UserAssigned type with no identities listed is a body ARM rejects or misreads: refuse it.
      throw new Error(
        `'${app.target.key}' reports identity type '${app.identityType}' but no user-assigned identities; not changing it.`
      )
    }
    const patch: SitePatchResource = {
      identity: {
        type,
        ...(parseIdentityType(type).user
          ? { userAssignedIdentities: Object.fromEntries(app.userAssignedIds.map((id) => [id, {}])) }
          : {})
      }
    }
    const { name, slot } = app.target
    const site = await withRetry(
      () =>
        slot
          ? updateSlot(this.context, this.resourceGroup, name, slot, patch)
          : update(this.context, this.resourceGroup, name, patch),
      {
        retryable: isConflict,
        deadline: this.budget.deadline,
        baseDelayMs: 1000,
        maxDelayMs: 15000,
        onRetry: (_error, attempt, delay) =>
          core.warning(
            `${app.target.key}: another operation is in progress on the site (409 Conflict); retry ${attempt} in ${delay / 1000} s.`
          )
      }
    )
    return toAppState(app.target, site)
  }
}

function isConflict(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 409
}

export function toAppState(target: AppTarget, site: Site): AppState {
  const identity = site.identity
  const switches = parseIdentityType(identity?.type)
  return {
    target,
    id: site.id ?? '',
    kind: site.kind ?? 'app',
    identityType: identity?.type ?? 'None',
    systemAssigned: switches.system,
    userAssignedIds: switches.user ? Object.keys(identity?.userAssignedIdentities ?? {}) : [],
    principalId: switches.system ? identity?.principalId : undefined,
    tenantId: switches.system ? identity?.tenantId : undefined
  }
}
