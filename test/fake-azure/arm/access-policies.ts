// Key Vault access policies: validation and the add/replace/remove merge the service performs
// atomically per request (the reason the action must never GET-modify-PUT a vault).
//
// Spelling, as the real service does it: permission names are stored and returned exactly as the
// writer sent them (the portal and terraform write `Get`, az CLI and templates `get`; one vault
// can hold both — terraform-provider-azurerm#17137, azure-cli#15907, azure-rest-api-specs#34772).
// `add` matches names case-insensitively; `remove` matches them case-sensitively and answers 200
// when it removed nothing (azure-rest-api-specs#42963, api-version 2026-02-01). Whether `remove`
// with `all` clears a whole kind is not documented anywhere found; like any other name, it
// removes only a stored `all` spelled the same way here.
import { armError, isObject } from './common.ts'
import type { FakeResponse } from '../core/server.ts'
import type { AccessPolicyEntry, AccessPolicyPermissions } from '../core/types.ts'

export const MAX_ACCESS_POLICIES = 1024

// Written out here, not imported from src/model/permissions.ts: the fake stands for the service, so a
// wrong name in the action's list must be rejected here, not mirrored.
export const PERMISSIONS: Record<keyof AccessPolicyPermissions, string[]> = {
  secrets: ['all', 'get', 'list', 'set', 'delete', 'backup', 'restore', 'recover', 'purge'],
  keys: [
    'all',
    'encrypt',
    'decrypt',
    'wrapkey',
    'unwrapkey',
    'sign',
    'verify',
    'get',
    'list',
    'create',
    'update',
    'import',
    'delete',
    'backup',
    'restore',
    'recover',
    'purge',
    'release',
    'rotate',
    'getrotationpolicy',
    'setrotationpolicy'
  ],
  certificates: [
    'all',
    'get',
    'list',
    'delete',
    'create',
    'import',
    'update',
    'managecontacts',
    'getissuers',
    'listissuers',
    'setissuers',
    'deleteissuers',
    'manageissuers',
    'recover',
    'purge',
    'backup',
    'restore'
  ],
  storage: [
    'all',
    'get',
    'list',
    'delete',
    'set',
    'update',
    'regeneratekey',
    'recover',
    'purge',
    'backup',
    'restore',
    'setsas',
    'listsas',
    'getsas',
    'deletesas'
  ]
}
const CATEGORIES = Object.keys(PERMISSIONS) as (keyof AccessPolicyPermissions)[]

const invalid = (where: string, value: unknown): FakeResponse =>
  armError(
    400,
    'BadRequest',
    `Invalid value found at ${where}: ${typeof value === 'string' ? value : JSON.stringify(value)}`
  )

// Returns the entries as the service stores them, or the 400 naming the first bad value.
export function validatePolicies(list: unknown): AccessPolicyEntry[] | FakeResponse {
  if (!Array.isArray(list)) return armError(400, 'BadRequest', "An invalid value was provided for 'accessPolicies'.")
  const out: AccessPolicyEntry[] = []
  for (const [i, e] of list.entries()) {
    const at = `accessPolicies[${i}]`
    if (!isObject(e)) return invalid(at, e)
    if (typeof e.tenantId !== 'string' || !e.tenantId) return invalid(`${at}.TenantId`, e.tenantId ?? null)
    if (typeof e.objectId !== 'string' || !e.objectId) return invalid(`${at}.ObjectId`, e.objectId ?? null)
    if (!isObject(e.permissions)) return invalid(`${at}.permissions`, e.permissions ?? null)
    const permissions: AccessPolicyPermissions = {}
    for (const cat of CATEGORIES) {
      const given = e.permissions[cat]
      if (given === undefined || given === null) continue
      if (!Array.isArray(given)) return invalid(`${at}.permissions.${cat}`, given)
      for (const [j, p] of given.entries()) {
        if (typeof p !== 'string' || !PERMISSIONS[cat].includes(p.toLowerCase()))
          return invalid(`${at}.permissions.${cat}[${j}]`, p)
      }
      permissions[cat] = [...given] as string[]
    }
    const entry: AccessPolicyEntry = { tenantId: e.tenantId, objectId: e.objectId, permissions }
    if (typeof e.applicationId === 'string' && e.applicationId) entry.applicationId = e.applicationId
    out.push(entry)
  }
  return out
}

// An entry is keyed by tenant, object and applicationId: a compound entry (an application acting for
// a principal) is distinct from the principal's own. Source: AccessPolicyEntry.applicationId,
// "Application ID of the client making request on behalf of a principal" (Key Vault management
// REST spec, as generated in hashicorp/terraform-provider-azurerm
// internal/services/keyvault/sdk/2021-06-01-preview/vaults/model_accesspolicyentry.go); that an
// add/remove matches applicationId too is inferred from it, no capture found.
const samePrincipal = (a: AccessPolicyEntry, b: AccessPolicyEntry): boolean =>
  a.tenantId.toLowerCase() === b.tenantId.toLowerCase() &&
  a.objectId.toLowerCase() === b.objectId.toLowerCase() &&
  (a.applicationId ?? '').toLowerCase() === (b.applicationId ?? '').toLowerCase()

function union(a: string[] = [], b: string[] = []): string[] {
  const out = [...a]
  for (const p of b) if (!out.some((x) => x.toLowerCase() === p.toLowerCase())) out.push(p)
  return out
}

// Case-sensitive, as the service's remove is.
const minus = (a: string[] = [], b: string[] = []): string[] => a.filter((p) => !b.includes(p))
const isEmpty = (p: AccessPolicyPermissions): boolean => CATEGORIES.every((c) => !p[c]?.length)

export type PolicyOp = 'add' | 'replace' | 'remove'

// Pure: returns the vault's new list and the resulting entries for the principals named.
export function applyPolicies(
  current: AccessPolicyEntry[],
  op: PolicyOp,
  changes: AccessPolicyEntry[]
): { all: AccessPolicyEntry[]; touched: AccessPolicyEntry[] } {
  const all = structuredClone(current)
  for (const c of changes) {
    const i = all.findIndex((e) => samePrincipal(e, c))
    if (op === 'add') {
      if (i < 0) all.push(structuredClone(c))
      else
        for (const cat of CATEGORIES)
          if (c.permissions[cat]) all[i].permissions[cat] = union(all[i].permissions[cat], c.permissions[cat])
    } else if (op === 'replace') {
      if (i < 0) all.push(structuredClone(c))
      else all[i].permissions = structuredClone(c.permissions)
    } else if (i >= 0) {
      const p = all[i].permissions
      for (const cat of CATEGORIES) {
        if (!c.permissions[cat] || !p[cat]) continue
        p[cat] = minus(p[cat], c.permissions[cat])
        if (!p[cat].length) delete p[cat]
      }
      if (isEmpty(p)) all.splice(i, 1)
    }
  }
  const touched = all.filter((e) => changes.some((c) => samePrincipal(e, c)))
  return { all, touched }
}
