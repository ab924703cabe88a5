// Managed-identity semantics shared by App Service PATCH and PUT: the parts users get bitten by.
import { isObject, webError } from './common.ts'
import { checkLinked, deletedIdentity, type LinkCaller } from './user-assigned-identities.ts'
import type { FakeResponse } from '../core/server.ts'
import { newSystemPrincipal, userAssignedValue, type State } from '../core/state.ts'
import type { ManagedIdentity } from '../core/types.ts'

export interface IdentityFlags {
  system: boolean
  user: boolean
}

// 'SystemAssigned,UserAssigned', 'systemassigned, userassigned', 'None' ... like the service.
export function parseIdentityType(type: unknown): IdentityFlags | undefined {
  if (typeof type !== 'string') return undefined
  const parts = type
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean)
  if (parts.length === 1 && parts[0] === 'none') return { system: false, user: false }
  if (parts.length === 0 || parts.some((p) => p !== 'systemassigned' && p !== 'userassigned')) return undefined
  return { system: parts.includes('systemassigned'), user: parts.includes('userassigned') }
}

export function canonicalType(f: IdentityFlags): string {
  return f.system && f.user
    ? 'SystemAssigned, UserAssigned'
    : f.system
      ? 'SystemAssigned'
      : f.user
        ? 'UserAssigned'
        : 'None'
}

// keepUserAssigned: PATCH keeps existing user-assigned identities when the body omits them;
// PUT starts from nothing. A type without UserAssigned drops them either way.
export type IdentityResult = { identity: ManagedIdentity | undefined } | { error: FakeResponse }

export interface IdentityOptions {
  keepUserAssigned: boolean
  /** The tenant a newly turned-on system identity lands in (default: the fake's). */
  newTenantId?: string
  /** Who writes which resource: attaching a user-assigned identity is checked against it. */
  caller: LinkCaller
}

export function applyIdentity(
  state: State,
  prev: ManagedIdentity | undefined,
  wanted: unknown,
  { keepUserAssigned, newTenantId = state.tenantId, caller }: IdentityOptions
): IdentityResult {
  if (wanted === null || wanted === undefined) return { identity: undefined }
  const bad = (msg: string): IdentityResult => ({ error: webError(400, 'BadRequest', msg, '51021') })
  if (!isObject(wanted)) return bad("The parameter 'identity' has an invalid value.")
  const flags = parseIdentityType(wanted.type)
  if (!flags)
    return bad(
      `The identity type '${String(wanted.type)}' is not supported. Supported types are 'None', 'SystemAssigned', 'UserAssigned' and 'SystemAssigned, UserAssigned'.`
    )
  if (!flags.system && !flags.user) return { identity: undefined }
  const out: ManagedIdentity = { type: canonicalType(flags) }
  if (flags.system) {
    // Turning it on mints a new service principal; keeping it on keeps the old one.
    out.principalId = prev?.principalId ?? newSystemPrincipal(state)
    out.tenantId = prev?.tenantId ?? newTenantId
  }
  if (flags.user) {
    const uais = { ...(keepUserAssigned ? (prev?.userAssignedIdentities ?? {}) : {}) }
    const given = wanted.userAssignedIdentities
    if (given !== undefined && given !== null && !isObject(given)) {
      return bad("The parameter 'userAssignedIdentities' has an invalid value.")
    }
    const find = (m: object | undefined, id: string): string | undefined =>
      Object.keys(m ?? {}).find((k) => k.toLowerCase() === id.toLowerCase())
    const added: string[] = []
    // ARM checks linked access on every user-assigned identity the body names, not only on those
    // it adds (Azure/application-gateway-kubernetes-ingress#999, Azure/aad-pod-identity#339: a
    // VM/VMSS write listing an identity the caller may not assign fails with 403 for it). Whether
    // an identity named with null (removal) is checked too: no source found; checked (fails safe).
    const named = Object.keys(given ?? {})
    for (const [id, v] of Object.entries(given ?? {})) {
      const existing = find(uais, id)
      if (v === null) {
        if (existing) delete uais[existing]
      } else if (!existing) {
        if (
          !/^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/[^/]+$/i.test(
            id
          )
        ) {
          return bad(`Invalid user assigned identity resource id '${id}'.`)
        }
        // A PUT naming one the site holds keeps the key as the site stored it.
        const held = find(prev?.userAssignedIdentities, id)
        if (held) uais[held] = prev!.userAssignedIdentities![held]
        else added.push(id)
      }
    }
    const refused = checkLinked(state, caller, named)
    if (refused) return { error: refused }
    for (const id of added) uais[id] = userAssignedValue(state, id)
    const gone = deletedIdentity(state, caller, Object.keys(uais))
    if (gone) return { error: gone }
    if (Object.keys(uais).length === 0) {
      return bad(
        "The 'userAssignedIdentities' property must not be empty when the identity type includes 'UserAssigned'."
      )
    }
    out.userAssignedIdentities = uais
  }
  return { identity: out }
}
