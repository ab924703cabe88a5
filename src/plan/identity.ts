// The identity part of the plan with a user-assigned `identity`: attach it to each app (keeping
// the system-assigned identity and every other user-assigned one) and make it the identity Key
// Vault references resolve with; on revoke with disable-identity, the reverse. Pure.
import type { AppState } from '../model/state.js'
import type { AttachChange, DetachChange } from '../model/changes.js'
import { hasUserAssigned, sameIdentity } from '../model/identity-type.js'
import type { CurrentState } from '../model/state.js'

export function planAttach(state: CurrentState): AttachChange[] {
  const identity = state.userIdentity
  if (!identity) return []
  return state.apps.flatMap((app) => {
    const attach = !hasUserAssigned(app.userAssignedIds, identity.id)
    // Container targets have no keyVaultReferenceIdentity (their Key Vault secrets name the identity).
    const setReference = !app.target.kind && !sameIdentity(app.keyVaultReferenceIdentity, identity.id)
    if (!attach && !setReference) return []
    return [
      {
        kind: 'attach-identity' as const,
        app: app.target.key,
        identityId: identity.id,
        identityName: identity.name,
        attach,
        setReference,
        referenceFrom: app.keyVaultReferenceIdentity ?? 'SystemAssigned',
        ...(app.target.kind ? { noRestart: true as const } : {})
      }
    ]
  })
}

export function planDetach(state: CurrentState): DetachChange[] {
  const identity = state.userIdentity
  if (!identity) return []
  return state.apps.flatMap((app) => {
    const detach = hasUserAssigned(app.userAssignedIds, identity.id)
    const resetReference =
      !app.target.kind &&
      app.keyVaultReferenceIdentity !== undefined &&
      sameIdentity(app.keyVaultReferenceIdentity, identity.id)
    if (!detach && !resetReference) return []
    return [
      {
        kind: 'detach-identity' as const,
        app: app.target.key,
        identityId: identity.id,
        identityName: identity.name,
        detach,
        resetReference,
        ...(app.target.kind ? { noRestart: true as const } : {})
      }
    ]
  })
}

/**
 * The apps as the grants see them: with a user-assigned identity, each app's principal is that
 * identity's (known before anything is written); otherwise its own system-assigned one.
 */
export function grantees(state: CurrentState): AppState[] {
  const identity = state.userIdentity
  if (!identity) return state.apps
  return state.apps.map((app) => ({ ...app, principalId: identity.principalId, tenantId: identity.tenantId }))
}

/** With a user-assigned identity, every app uses its one principal: the apps that share a grant. */
export function sharedBy(state: CurrentState): string[] | undefined {
  return state.userIdentity ? state.apps.map((a) => a.target.key) : undefined
}
