// ARM's managed-identity `type` is one string for two switches. A PATCH whose type leaves out
// UserAssigned drops every user-assigned identity, so we always carry the user side over.

export type IdentityType = 'None' | 'SystemAssigned' | 'UserAssigned' | 'SystemAssigned, UserAssigned'

export interface IdentitySwitches {
  system: boolean
  user: boolean
}

/** Parses ARM's spelling leniently: case and spaces vary between API versions and tools. */
export function parseIdentityType(type: string | undefined): IdentitySwitches {
  const parts = (type ?? 'None')
    .toLowerCase()
    .split(',')
    .map((p) => p.trim())
  return { system: parts.includes('systemassigned'), user: parts.includes('userassigned') }
}

export function formatIdentityType({ system, user }: IdentitySwitches): IdentityType {
  if (system && user) return 'SystemAssigned, UserAssigned'
  if (system) return 'SystemAssigned'
  if (user) return 'UserAssigned'
  return 'None'
}

/** The type to PATCH so that the system identity is `system` and every user-assigned one stays. */
export function withSystemAssigned(current: string | undefined, system: boolean): IdentityType {
  return formatIdentityType({ ...parseIdentityType(current), system })
}

/** Is the user-assigned identity `id` among `userAssignedIds`? */
export function hasUserAssigned(userAssignedIds: readonly string[], id: string): boolean {
  return userAssignedIds.some((u) => sameIdentity(u, id))
}

/** Identity ids compare case-insensitively (ARM returns `resourcegroups`, sometimes all lower case). */
export function sameIdentity(a: string | undefined, b: string | undefined): boolean {
  return (a ?? 'SystemAssigned').toLowerCase() === (b ?? 'SystemAssigned').toLowerCase()
}
