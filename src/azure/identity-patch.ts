// The body of a site identity PATCH, built from the site as just read and the change wanted. Pure,
// so that after a conflict it can be built again from a fresh read (write-step.ts).
//
// ARM checks linked access (Managed Identity Operator, `userAssignedIdentities/assign/action`) on
// every user-assigned identity named in a PUT or PATCH body, not only on the ones added
// (Azure/application-gateway-kubernetes-ingress#999, Azure/aad-pod-identity#339). An app may carry
// another team's identity: naming it would make the write fail with 403 for an identity this run
// does not touch. So a body names only the identity this run changes — `{}` to attach, `null` to
// detach — and leaves the map out when no user-assigned identity changes: a PATCH whose type keeps
// UserAssigned without the map keeps every attached identity, as Microsoft's Java SDK relies on
// (azure-sdk-for-java, azure-resourcemanager-appservice WebAppMsiHandler.handleExternalIdentities:
// "set identities to null so that it won't send over wire"). A type without UserAssigned drops
// them all, so the user side of the type is always carried over.
import type { SitePatchResource } from '@azure/arm-appservice/models'
import { formatIdentityType, hasUserAssigned, parseIdentityType, sameIdentity } from '../model/identity-type.js'
import type { AppState } from '../model/state.js'

/** A change of the site's identity block and reference identity; parts left undefined stay as they are. */
export interface IdentityChange {
  /** The system-assigned identity on or off. */
  system?: boolean
  /** One user-assigned identity attached (true) or detached (false). */
  userAssigned?: { id: string; attached: boolean }
  /** keyVaultReferenceIdentity: 'SystemAssigned' or a user-assigned identity's id. */
  referenceIdentity?: string
}

/** Does the site show the change? Then there is nothing left to write. */
export function showsChange(current: AppState, change: IdentityChange): boolean {
  const { system, userAssigned, referenceIdentity } = change
  if (system !== undefined && (system ? !current.systemAssigned || !current.principalId : current.systemAssigned))
    return false
  if (userAssigned && hasUserAssigned(current.userAssignedIds, userAssigned.id) !== userAssigned.attached) return false
  return referenceIdentity === undefined || sameIdentity(current.keyVaultReferenceIdentity, referenceIdentity)
}

/** The PATCH body for what of the change does not show yet; undefined when everything shows. */
export function identityPatch(current: AppState, change: IdentityChange): SitePatchResource | undefined {
  if (showsChange(current, change)) return undefined
  const body: SitePatchResource = {}
  const identity = identityBlock(current, change)
  if (identity) body.identity = identity as SitePatchResource['identity']
  const { referenceIdentity } = change
  if (referenceIdentity !== undefined && !sameIdentity(current.keyVaultReferenceIdentity, referenceIdentity))
    body.keyVaultReferenceIdentity = referenceIdentity
  return body
}

function identityBlock(
  current: AppState,
  { system, userAssigned }: IdentityChange
): { type: string; userAssignedIdentities?: Record<string, object | null> } | undefined {
  const systemChanges = system !== undefined && !showsChange(current, { system })
  const userChanges = userAssigned !== undefined && !showsChange(current, { userAssigned })
  if (!systemChanges && !userChanges) return undefined
  const user = parseIdentityType(current.identityType).user
  if (user && current.userAssignedIds.length === 0) {
    // A UserAssigned type with no identities listed: a body ARM rejects or misreads. Refuse it.
    throw new Error(
      `'${current.target.key}' reports identity type '${current.identityType}' but no user-assigned identities; not changing it.`
    )
  }
  const systemAfter = systemChanges ? system : current.systemAssigned
  if (!userChanges) return { type: formatIdentityType({ system: systemAfter, user }) }
  const { id, attached } = userAssigned
  // The key as the site holds it when it holds it (ARM compares ids case-insensitively).
  const held = current.userAssignedIds.find((u) => sameIdentity(u, id)) ?? id
  if (attached) {
    return { type: formatIdentityType({ system: systemAfter, user: true }), userAssignedIdentities: { [held]: {} } }
  }
  const othersRemain = current.userAssignedIds.some((u) => !sameIdentity(u, id))
  // Detaching the last one drops UserAssigned from the type (the Java SDK does the same); a map
  // naming it with null beside a type without UserAssigned would be contradictory.
  if (!othersRemain) return { type: formatIdentityType({ system: systemAfter, user: false }) }
  return { type: formatIdentityType({ system: systemAfter, user: true }), userAssignedIdentities: { [held]: null } }
}
