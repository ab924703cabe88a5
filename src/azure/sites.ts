// Web apps, function apps and their slots (all Microsoft.Web/sites). Reads are GETs; the only
// write is a PATCH of `identity` alone: never a PUT, which would replace the whole site.
import type { TokenCredential } from '@azure/core-auth'
import type { PipelineResponse } from '@azure/core-rest-pipeline'
import { createWebSiteManagement, type WebSiteManagementContext } from '@azure/arm-appservice/api'
import { get, getSlot, update, updateSlot } from '@azure/arm-appservice/api/webApps'
import type { Site, SitePatchResource } from '@azure/arm-appservice/models'
import type { Cloud } from '../clouds.js'
import {
  formatIdentityType,
  hasUserAssigned,
  parseIdentityType,
  sameIdentity,
  withSystemAssigned
} from '../identity-type.js'
import { info } from '../log.js'
import type { AppTarget } from '../settings.js'
import type { RetryBudget } from './budget.js'
import { armClientOptions } from './pipeline.js'
import { writeFromFreshRead } from './write-step.js'
import { expectGuid, expectUserAssignedIdentityId } from './returned.js'

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
  /** The identity App Service resolves Key Vault references with: 'SystemAssigned' or a user-assigned identity's id. */
  keyVaultReferenceIdentity?: string
}

export class ChangeNotVisibleError extends Error {
  constructor(app: string, change: string, seconds: number) {
    super(
      `Azure accepted ${change} of '${app}' (202 Accepted), ` +
        `but the site did not show the change within 'retry-timeout' (${seconds} s).\n` +
        `Fix: re-run the job (it is safe to repeat: a change that has finished is not made again), or raise 'retry-timeout'.`
    )
    this.name = 'ChangeNotVisibleError'
  }
}

/** The Microsoft.Web client of a subscription: one pipeline for the sites and their configuration. */
export function webSites(
  credential: TokenCredential,
  cloud: Cloud,
  budget: RetryBudget,
  subscriptionId: string
): WebSiteManagementContext {
  return createWebSiteManagement(credential, subscriptionId, armClientOptions(cloud, budget))
}

export class Sites {
  private readonly context: WebSiteManagementContext
  private readonly budget: RetryBudget
  private readonly resourceGroup: string

  constructor(context: WebSiteManagementContext, budget: RetryBudget, resourceGroup: string) {
    this.context = context
    this.budget = budget
    this.resourceGroup = resourceGroup
  }

  async read(target: AppTarget): Promise<AppState> {
    const site = target.slot
      ? await getSlot(this.context, this.resourceGroup, target.name, target.slot)
      : await get(this.context, this.resourceGroup, target.name)
    return toAppState(target, site)
  }

  /**
   * Turns the system-assigned identity on or off with one PATCH of `identity`, naming every
   * user-assigned identity so that none is dropped.
   */
  async setSystemIdentity(app: AppState, enabled: boolean): Promise<AppState> {
    const change = `turning ${enabled ? 'on' : 'off'} the system-assigned identity`
    return this.patch(
      app,
      (current) => {
        const type = withSystemAssigned(current.identityType, enabled)
        if (parseIdentityType(type).user && current.userAssignedIds.length === 0) {
          // A UserAssigned type with no identities listed is a body ARM rejects or misreads: refuse it.
          throw new Error(
            `'${current.target.key}' reports identity type '${current.identityType}' but no user-assigned identities; not changing it.`
          )
        }
        const userAssigned = parseIdentityType(type).user
          ? Object.fromEntries(current.userAssignedIds.map((id) => [id, {}]))
          : undefined
        return { identity: { type, ...(userAssigned ? { userAssignedIdentities: userAssigned } : {}) } }
      },
      change,
      (s) => (enabled ? s.systemAssigned && s.principalId !== undefined : !s.systemAssigned)
    )
  }

  /**
   * Attaches or detaches one user-assigned identity, keeping the system-assigned identity as it is
   * and every other user-assigned one. Detaching names the identity with `null` (a PATCH that
   * leaves it out keeps it); detaching the last one drops UserAssigned from the type instead.
   */
  async setUserAssigned(app: AppState, identityId: string, attached: boolean): Promise<AppState> {
    const change = `${attached ? 'attaching' : 'detaching'} user-assigned identity ${identityId}`
    return this.patch(
      app,
      (current) => {
        const others = current.userAssignedIds.filter((id) => id.toLowerCase() !== identityId.toLowerCase())
        const existing =
          current.userAssignedIds.find((id) => id.toLowerCase() === identityId.toLowerCase()) ?? identityId
        const remaining = attached ? [...others, existing] : others
        const type = formatIdentityType({ system: current.systemAssigned, user: remaining.length > 0 })
        const userAssignedIdentities: Record<string, object | null> = Object.fromEntries(
          remaining.map((id) => [id, {}])
        )
        if (!attached && remaining.length > 0) userAssignedIdentities[existing] = null
        return {
          identity: { type, ...(remaining.length > 0 ? { userAssignedIdentities } : {}) }
        } as SitePatchResource
      },
      change,
      (s) => hasUserAssigned(s.userAssignedIds, identityId) === attached
    )
  }

  /** Which identity App Service uses for Key Vault references: a user-assigned identity's id, or 'SystemAssigned'. */
  async setReferenceIdentity(app: AppState, value: string): Promise<AppState> {
    return this.patch(
      app,
      () => ({ keyVaultReferenceIdentity: value }),
      `setting keyVaultReferenceIdentity to ${value}`,
      (s) => sameIdentity(s.keyVaultReferenceIdentity, value)
    )
  }

  /**
   * One PATCH whose body is built from the site as it is now. It is never sent again as it was:
   * after a 409 "another operation is in progress" (usually another writer) or an attempt whose
   * outcome is unknown, the site is read again and the body rebuilt from what another writer left
   * (or no write made when the change already shows): write-step.ts. The PATCH may answer
   * 202 Accepted, with or without a body (WebApps_Update lists 200 and 202): then the change is
   * under way, and the site is read until it shows it.
   */
  private async patch(
    app: AppState,
    build: (current: AppState) => SitePatchResource,
    change: string,
    shows: (s: AppState) => boolean
  ): Promise<AppState> {
    const { name, slot } = app.target
    let status = 0
    let retryAfter: string | undefined
    const options = {
      onResponse: (raw: PipelineResponse) => {
        status = raw.status
        retryAfter = raw.headers.get('retry-after')
      }
    }
    let first = true
    const outcome = await writeFromFreshRead(
      {
        what: `the identity of '${app.target.key}'`,
        // The first attempt builds on the read the plan was made from; later ones read afresh.
        read: async () => (first ? ((first = false), app) : this.read(app.target)),
        build: (current) => (shows(current) ? undefined : build(current)),
        write: async (body) => {
          try {
            return slot
              ? await updateSlot(this.context, this.resourceGroup, name, slot, body, options)
              : await update(this.context, this.resourceGroup, name, body, options)
          } catch (error) {
            // A 202 without a body makes the SDK's deserializer throw; the change is under way all the same.
            if (status !== 202) throw error
            return undefined
          }
        }
      },
      this.budget
    )
    if (!outcome.wrote) return outcome.current
    const site = outcome.result
    // A 202's body (if any) is the site as it was, or a partial one: only a read shows the change.
    if (status !== 202 && site) {
      const after = toAppState(app.target, site)
      if (shows(after)) return after
    }
    return this.waitUntilShown(app.target, change, shows, retryAfter)
  }

  /** Reads the site until the change shows, within the run's budget. */
  private async waitUntilShown(
    target: AppTarget,
    change: string,
    shows: (s: AppState) => boolean,
    retryAfter: string | undefined
  ): Promise<AppState> {
    info(`${target.key}: Azure accepted ${change}; waiting until the site shows it.`)
    const first = Number(retryAfter)
    let delay = Number.isFinite(first) && first > 0 ? Math.min(first * 1000, 30_000) : 2000
    for (;;) {
      await this.budget.wait(delay)
      if (this.budget.expired) throw new ChangeNotVisibleError(target.key, change, this.budget.seconds)
      const state = await this.read(target)
      if (shows(state)) return state
      delay = Math.min(delay * 2, 10_000)
    }
  }
}

export function toAppState(target: AppTarget, site: Site): AppState {
  const identity = site.identity
  const switches = parseIdentityType(identity?.type)
  const key = target.key
  return {
    target,
    id: site.id ?? '',
    kind: site.kind ?? 'app',
    identityType: identity?.type ?? 'None',
    systemAssigned: switches.system,
    // These ids go back into the PATCH body: only well-formed ones.
    userAssignedIds: switches.user
      ? Object.keys(identity?.userAssignedIdentities ?? {}).map(expectUserAssignedIdentityId)
      : [],
    principalId: switches.system ? expectGuid(`the principal id of '${key}'`, identity?.principalId) : undefined,
    tenantId: switches.system ? expectGuid(`the identity tenant of '${key}'`, identity?.tenantId) : undefined,
    keyVaultReferenceIdentity: site.keyVaultReferenceIdentity ?? undefined
  }
}
