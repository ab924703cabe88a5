// What Microsoft.App container apps and jobs look like to the action: targets, the app's identity,
// secrets and template as read, revisions, and the mapping from the wire (ContainerApps.json,
// ContainerAppsRevisions.json, api-version 2025-07-01). Values that come back from Azure and go
// into a later request body (user-assigned identity ids) are checked first, as for sites.
import type { Site } from '@azure/arm-appservice/models'
import { toAppState } from './sites.js'
import { hasUserAssigned } from '../model/identity-type.js'
import type { AppState } from '../model/state.js'
import type { AppTarget } from '../model/targets.js'

export type ContainerTargetKind = 'app' | 'job'

export interface ContainerTarget {
  kind: ContainerTargetKind
  name: string
  /** How outputs and messages name it: `containerapp:<name>` or `job:<name>` (issue 19). */
  key: string
}

export const containerTarget = (kind: ContainerTargetKind, name: string): ContainerTarget => ({
  kind,
  name,
  key: `${kind === 'app' ? 'containerapp' : 'job'}:${name}`
})

/** A secret as listSecrets answers it. `value` is a secret: never log it, print it or put it in an output. */
export interface ContainerSecret {
  name: string
  value?: string
  keyVaultUrl?: string
  identity?: string
}

export interface ContainerAppState {
  target: ContainerTarget
  id: string
  identityType: string
  systemAssigned: boolean
  /** Resource ids of the user-assigned identities, exactly as ARM returned them. */
  userAssignedIds: string[]
  principalId?: string
  tenantId?: string
  provisioningState?: string
  /** As GET lists them: names (and Key Vault URL and identity), never values. */
  secrets: ContainerSecret[]
  template: Record<string, unknown>
  latestRevisionName?: string
  latestReadyRevisionName?: string
}

export interface RevisionState {
  name: string
  active?: boolean
  provisioningState?: string
  runningState?: string
  healthState?: string
  provisioningError?: string
}

/** What a secrets write changes, built from the app as it is now (secrets with their values). */
export type SecretsChange = (current: {
  secrets: ContainerSecret[]
  template: Record<string, unknown>
}) => { secrets: ContainerSecret[]; template?: Record<string, unknown> } | undefined

export interface WireApp {
  id?: string
  identity?: {
    type?: string
    principalId?: string
    tenantId?: string
    userAssignedIdentities?: Record<string, unknown> | null
  }
  properties?: {
    provisioningState?: string
    latestRevisionName?: string
    latestReadyRevisionName?: string
    configuration?: { secrets?: ContainerSecret[] | null }
    template?: Record<string, unknown>
  }
}

export interface WireRevision {
  name?: string
  properties?: Omit<RevisionState, 'name'>
}

export function toRevision(wire: WireRevision): RevisionState {
  const p = wire.properties ?? {}
  return {
    name: wire.name ?? '',
    active: p.active,
    provisioningState: p.provisioningState,
    runningState: p.runningState,
    healthState: p.healthState,
    provisioningError: p.provisioningError ?? undefined
  }
}

// Microsoft.App spells the combined type without a space (ContainerApps_Get.json).
export function identityType(system: boolean, user: boolean): string {
  return system && user ? 'SystemAssigned,UserAssigned' : system ? 'SystemAssigned' : user ? 'UserAssigned' : 'None'
}

// A secret as a PATCH carries it: a value, or a Key Vault URL and identity (the service resolves it).
export function forWrite(s: ContainerSecret): ContainerSecret {
  return s.keyVaultUrl
    ? { name: s.name, keyVaultUrl: s.keyVaultUrl, identity: s.identity }
    : { name: s.name, value: s.value }
}

/** The identity is read as a site's is (sites.ts): the same ARM shape and the same checks. */
export function toState(target: ContainerTarget, wire: WireApp): ContainerAppState {
  const { identityType, systemAssigned, userAssignedIds, principalId, tenantId } = toAppState(
    { name: target.name, key: target.key },
    { id: wire.id, identity: wire.identity } as Site
  )
  const p = wire.properties ?? {}
  return {
    target,
    id: wire.id ?? '',
    identityType,
    systemAssigned,
    userAssignedIds,
    principalId,
    tenantId,
    provisioningState: p.provisioningState,
    secrets: (p.configuration?.secrets ?? []).map(({ name, keyVaultUrl, identity: id }) =>
      keyVaultUrl ? { name, keyVaultUrl, identity: id } : { name }
    ),
    template: p.template ?? {},
    latestRevisionName: p.latestRevisionName,
    latestReadyRevisionName: p.latestReadyRevisionName
  }
}
/** The system identity switched on or off: what shows it, and the merge-patch body that makes it. */
export function systemSwitch(enabled: boolean): {
  change: string
  shows: (s: ContainerAppState) => boolean
  build: (s: ContainerAppState) => Record<string, unknown>
} {
  return {
    change: `turning ${enabled ? 'on' : 'off'} the system-assigned identity`,
    shows: (s) => (enabled ? s.systemAssigned && s.principalId !== undefined : !s.systemAssigned),
    build: (s) => ({ identity: { type: identityType(enabled, s.userAssignedIds.length > 0) } })
  }
}
/** One user-assigned identity attached or detached, naming only that one (merge patch keeps the others). */
export function userSwitch(identityId: string, attached: boolean): ReturnType<typeof systemSwitch> {
  return {
    change: `${attached ? 'attaching' : 'detaching'} user-assigned identity ${identityId}`,
    shows: (s) => hasUserAssigned(s.userAssignedIds, identityId) === attached,
    build: (s) => {
      const held = s.userAssignedIds.find((u) => u.toLowerCase() === identityId.toLowerCase()) ?? identityId
      const others = s.userAssignedIds.filter((u) => u !== held)
      if (!attached && others.length === 0) return { identity: { type: identityType(s.systemAssigned, false) } }
      return {
        identity: {
          type: identityType(s.systemAssigned, true),
          userAssignedIdentities: { [held]: attached ? {} : null }
        }
      }
    }
  }
}
/** The identity part of a plan's state as the container client's own (secrets and template unread). */
export function asContainerState(app: AppState): ContainerAppState {
  return { ...app, target: containerTargetOf(app.target), secrets: [], template: {} }
}
/** The Microsoft.App resource of an action target of kind containerapp or job. */

export function containerTargetOf(target: AppTarget): ContainerTarget {
  return containerTarget(target.kind === 'job' ? 'job' : 'app', target.name)
}
/** A container app's identity in the shape the plan uses for every target. */
export function asAppState(target: AppTarget, s: ContainerAppState): AppState {
  return {
    target,
    id: s.id,
    kind: target.kind ?? 'containerapp',
    identityType: s.identityType,
    systemAssigned: s.systemAssigned,
    userAssignedIds: s.userAssignedIds,
    principalId: s.principalId,
    tenantId: s.tenantId,
    readAt: Date.now()
  }
}
