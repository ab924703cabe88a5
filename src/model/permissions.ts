// Key Vault access-policy permission names, as the service accepts them. Input is
// case-insensitive; we keep the service's spelling so plans and summaries read like the portal.

export const PERMISSION_KINDS = ['secrets', 'keys', 'certificates', 'storage'] as const
export type PermissionKind = (typeof PERMISSION_KINDS)[number]
export type Permissions = Record<PermissionKind, string[]>

export const VALID_PERMISSIONS: Record<PermissionKind, readonly string[]> = {
  secrets: ['all', 'get', 'list', 'set', 'delete', 'backup', 'restore', 'recover', 'purge'],
  keys: [
    'all',
    'encrypt',
    'decrypt',
    'wrapKey',
    'unwrapKey',
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

/** The input that carries each kind; error messages name it. */
export const PERMISSION_INPUTS: Record<PermissionKind, string> = {
  secrets: 'secret-permissions',
  keys: 'key-permissions',
  certificates: 'certificate-permissions',
  storage: 'storage-permissions'
}

export function emptyPermissions(): Permissions {
  return { secrets: [], keys: [], certificates: [], storage: [] }
}

export function canonicalPermission(kind: PermissionKind, name: string): string | undefined {
  const lower = name.toLowerCase()
  return VALID_PERMISSIONS[kind].find((valid) => valid.toLowerCase() === lower)
}

/** Does a principal holding `held` already have `wanted`? `all` covers every name of its kind. */
export function holds(kind: PermissionKind, held: readonly string[], wanted: string): boolean {
  const heldLower = new Set(held.map((p) => p.toLowerCase()))
  if (heldLower.has('all') || heldLower.has(wanted.toLowerCase())) return true
  if (wanted.toLowerCase() !== 'all') return false
  return VALID_PERMISSIONS[kind].every((p) => p === 'all' || heldLower.has(p.toLowerCase()))
}

/** What of `wanted` is not held yet, kind by kind. */
export function missingPermissions(held: Partial<Permissions> | undefined, wanted: Permissions): Permissions {
  const missing = emptyPermissions()
  for (const kind of PERMISSION_KINDS) {
    const have = held?.[kind] ?? []
    missing[kind] = wanted[kind].filter((p) => !holds(kind, have, p))
  }
  return missing
}

/** Every name of a kind, without `all` itself: what `all` stands for. */
export function everyPermission(kind: PermissionKind): string[] {
  return VALID_PERMISSIONS[kind].filter((p) => p !== 'all')
}

/**
 * `granted` split by `asked`, kind by kind: the names `asked` covers (`all` covers every name of
 * its kind) and the rest. Revoke uses it to tell a role it may take from one that grants more.
 */
export function splitBy(granted: Permissions, asked: Permissions): { covered: Permissions; rest: Permissions } {
  const covered = emptyPermissions()
  const rest = emptyPermissions()
  for (const kind of PERMISSION_KINDS) {
    const names = asked[kind].map((p) => p.toLowerCase())
    for (const name of granted[kind]) {
      if (names.includes('all') || names.includes(name.toLowerCase())) covered[kind].push(name)
      else rest[kind].push(name)
    }
  }
  return { covered, rest }
}

export function isEmpty(permissions: Permissions): boolean {
  return PERMISSION_KINDS.every((kind) => permissions[kind].length === 0)
}

/** "secrets: get, list; keys: sign" — for logs, plans and the summary. */
export function describePermissions(permissions: Permissions): string {
  const parts = PERMISSION_KINDS.filter((k) => permissions[k].length > 0).map(
    (k) => `${k}: ${permissions[k].join(', ')}`
  )
  return parts.length > 0 ? parts.join('; ') : 'nothing'
}

/** As describePermissions, but a kind that has every one of its names reads `all`. */
export function describeWithAll(permissions: Permissions): string {
  const compact = emptyPermissions()
  for (const kind of PERMISSION_KINDS) {
    const have = new Set(permissions[kind].map((p) => p.toLowerCase()))
    const every = everyPermission(kind).every((p) => have.has(p.toLowerCase()))
    compact[kind] = every ? ['all'] : permissions[kind]
  }
  return describePermissions(compact)
}

/** Closest valid name by edit distance, for "did you mean" hints. */
export function suggestPermission(kind: PermissionKind, name: string): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const valid of VALID_PERMISSIONS[kind]) {
    const d = editDistance(name.toLowerCase(), valid.toLowerCase())
    if (d < bestDistance) {
      best = valid
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
    }
    previous = current
  }
  return previous[b.length]
}
