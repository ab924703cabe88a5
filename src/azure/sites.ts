// Web apps, function apps and their slots (all Microsoft.Web/sites). Reads are GETs; the only
// write is a PATCH of `identity` and `keyVaultReferenceIdentity` alone: never a PUT, which would
// replace the whole site.
import type { TokenCredential } from '@azure/core-auth'
import type { PipelineResponse } from '@azure/core-rest-pipeline'
import { createWebSiteManagement, type WebSiteManagementContext } from '@azure/arm-appservice/api'
import { get, getSlot, update, updateSlot } from '@azure/arm-appservice/api/webApps'
import type { Site } from '@azure/arm-appservice/models'
import { RestError } from '@azure/core-rest-pipeline'
import type { Cloud } from '../model/clouds.js'
import { parseIdentityType } from '../model/identity-type.js'
import { info } from '../log/log.js'
import type { AppTarget } from '../model/targets.js'
import type { RetryBudget } from './http/budget.js'
import { armClientOptions } from './http/pipeline.js'
import { pollUntil } from './http/poll.js'
import { retryAfterMs } from './http/replay.js'
import { readFreshOrEarlier, writeFromFreshRead } from './write-step.js'
import type { AppState } from '../model/state.js'
import { type IdentityChange, identityPatch, showsChange } from './identity-patch.js'
import { expectGuid, expectUserAssignedIdentityId } from './returned.js'

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

/**
 * A user-assigned identity that was deleted is still listed on the app (App Service keeps it:
 * Azure/azure-sdk-for-java#33544), and every identity operation on the app then fails with 400
 * FailedIdentityOperation "… Resource '<identity id>' was not found." (Azure/aad-pod-identity#515,
 * Azure/azure-libraries-for-net#839). Naming it is no use: it must be removed from the app first.
 */
export class DeletedIdentityAttachedError extends Error {
  constructor(target: AppTarget, identityId: string, cause: unknown) {
    super(
      `The app still lists user-assigned identity ${identityId}, which no longer exists, and App Service refuses every identity change while it does (400 FailedIdentityOperation: "was not found").\n` +
        `Fix: remove it from the app (az webapp identity remove --name ${target.name} --resource-group <group>${target.slot ? ` --slot ${target.slot}` : ''} --identities ${identityId}), then re-run.`,
      { cause }
    )
    this.name = 'DeletedIdentityAttachedError'
  }
}

function deletedIdentityError(target: AppTarget, error: unknown): DeletedIdentityAttachedError | undefined {
  if (!(error instanceof RestError) || error.code !== 'FailedIdentityOperation') return undefined
  const id = /Resource '([^']*\/userAssignedIdentities\/[^']+)' was not found/i.exec(error.message)?.[1]
  return id ? new DeletedIdentityAttachedError(target, id, error) : undefined
}

/** What a change does, for the log and the errors: "attaching user-assigned identity … and setting …". */
function describeSiteChange({ system, userAssigned, referenceIdentity }: IdentityChange): string {
  const parts: string[] = []
  if (system !== undefined) parts.push(`turning ${system ? 'on' : 'off'} the system-assigned identity`)
  if (userAssigned)
    parts.push(`${userAssigned.attached ? 'attaching' : 'detaching'} user-assigned identity ${userAssigned.id}`)
  if (referenceIdentity !== undefined) parts.push(`setting keyVaultReferenceIdentity to ${referenceIdentity}`)
  return parts.join(' and ')
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

/** What an identity write did. */
export interface IdentityWrite {
  /** The site once the change shows. */
  after: AppState
  /** This run's PATCH was accepted; false when a fresh read showed the change already there. */
  written: boolean
  /** Not written now, but an earlier attempt whose outcome was unknown may be what made it. */
  maybeWritten: boolean
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

  /** Turns the system-assigned identity on or off; the user-assigned identities stay as they are. */
  async setSystemIdentity(app: AppState, enabled: boolean, onMaybeWritten?: () => void): Promise<IdentityWrite> {
    return this.changeIdentity(app, { system: enabled }, onMaybeWritten)
  }

  /**
   * One PATCH for the whole change (one restart of the app): a user-assigned identity attached
   * and made the reference identity together, say. The body names only the identity this run
   * changes (identity-patch.ts) and is built from the site as it is now: from the plan's read
   * when that is at most a few seconds old (a first run makes no extra request), from a new read
   * otherwise (after the grants, say). It is never sent again as it was: after a 409 "another
   * operation is in progress" (usually another writer), a 429 or an attempt whose outcome is
   * unknown, the site is read again and the body rebuilt from what another writer left (or no
   * write made when the change already shows): write-step.ts. The PATCH may answer 202 Accepted,
   * with or without a body (WebApps_Update lists 200 and 202): then the change is under way, and
   * the site is read until it shows it. `onMaybeWritten`: the step failed after an attempt whose
   * outcome is unknown.
   */
  async changeIdentity(app: AppState, wanted: IdentityChange, onMaybeWritten?: () => void): Promise<IdentityWrite> {
    const change = describeSiteChange(wanted)
    const shows = (s: AppState): boolean => showsChange(s, wanted)
    const { name, slot } = app.target
    let status = 0
    let retryAfter: string | undefined
    const options = {
      onResponse: (raw: PipelineResponse) => {
        status = raw.status
        retryAfter = raw.headers.get('retry-after')
      }
    }
    const outcome = await writeFromFreshRead(
      {
        what: `the identity of '${app.target.key}'`,
        read: readFreshOrEarlier<AppState>(app, app.readAt, () => this.read(app.target)),
        build: (current) => identityPatch(current, wanted),
        write: async (body) => {
          try {
            return slot
              ? await updateSlot(this.context, this.resourceGroup, name, slot, body, options)
              : await update(this.context, this.resourceGroup, name, body, options)
          } catch (error) {
            // A 202 without a body makes the SDK's deserializer throw; the change is under way all the same.
            if (status !== 202) throw deletedIdentityError(app.target, error) ?? error
            return undefined
          }
        },
        onMaybeWritten
      },
      this.budget
    )
    if (!outcome.wrote) return { after: outcome.current, written: false, maybeWritten: outcome.maybeWritten }
    const site = outcome.result
    // A 202's body (if any) is the site as it was, or a partial one: only a read shows the change.
    if (status !== 202 && site) {
      const after = toAppState(app.target, site)
      if (shows(after)) return { after, written: true, maybeWritten: false }
    }
    const after = await this.waitUntilShown(app.target, change, shows, retryAfter)
    return { after, written: true, maybeWritten: false }
  }

  /** Reads the site until the change shows, within the run's budget. */
  private async waitUntilShown(
    target: AppTarget,
    change: string,
    shows: (s: AppState) => boolean,
    retryAfter: string | undefined
  ): Promise<AppState> {
    info(`${target.key}: Azure accepted ${change}; waiting until the site shows it.`)
    const first = retryAfterMs(retryAfter)
    const { value, done } = await pollUntil({
      read: () => this.read(target),
      done: shows,
      budget: this.budget,
      firstDelayMs: first !== undefined && first > 0 ? Math.min(first, 30_000) : 2000,
      maxDelayMs: 10_000,
      waitFirst: true
    })
    if (!done) throw new ChangeNotVisibleError(target.key, change, this.budget.seconds)
    return value!
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
    keyVaultReferenceIdentity: site.keyVaultReferenceIdentity ?? undefined,
    ...(site.managedEnvironmentId ? { managedEnvironmentId: site.managedEnvironmentId } : {}),
    readAt: Date.now()
  }
}
