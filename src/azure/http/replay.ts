// Which requests the HTTP pipeline may send again as they are, and which it must not.
//
// Retrying a request means sending the same body again. That is harmless when the body does not
// depend on what the action read before, and wrong when it does: a site's identity block (type and
// user-assigned map) and an app's settings collection (a PUT replaces all of it) are built from a
// read; if another writer — a deployment, a slot swap, the portal, another workflow — changed the
// resource in between, the replayed body silently undoes that change. App Service's 409 "another
// operation is in progress" usually means exactly that someone else is writing right now.
//
// So for those writes the pipeline never sends the same body twice: every failed attempt goes back
// to the caller, which starts again from a fresh read (write-step.ts), typed by what is known of
// its outcome:
// - UnknownOutcomeError: Azure may have carried it out — a 5xx other than 501/505 (with Azure's
//   error kept), a 408, an answer lost on the way back (ECONNRESET, a timeout), an abort mid-write;
// - NotCarriedOutError: Azure did not — a 429 (after a Retry-After wait the body would be stale
//   too: the fresh read comes after the wait), or a request that never reached it (the host or
//   its proxy was unreachable);
// - a 409 Conflict "another operation is in progress" is not retried either (error-policies.ts).
// 501 and 505 are final answers, as for the SDK's retry policy (exponentialRetryStrategy).
//
// Everything else keeps the pipeline's retries:
// - reads (GET, and POST …/list of settings or secrets): no state changes;
// - PUT …/vaults/{v}/accessPolicies/add|remove: Key Vault merges or removes the named permissions
//   of the named principals atomically on the service side (DESIGN.md); other principals and
//   other permissions are never in the body, so a replay cannot undo anyone else's change;
// - PUT / DELETE …/roleAssignments/{name}: the name is derived from scope, role and principal and
//   the body names only those. A repeated PUT of the same name, scope, role and principal is an
//   update of the same assignment, not an error (Role Assignments - Create lists 200 and 201; the
//   fake answers 201), and a repeated DELETE of one already gone answers 204 No Content ("Role
//   assignment was already deleted or does not exist": Role Assignments - Delete,
//   learn.microsoft.com/rest/api/authorization/role-assignments): the same end state either way. Another name for the same scope, role and principal
//   is refused with 409 RoleAssignmentExists, which role-assignments.ts reads as "already held";
// - POST …/configreferences/…/refresh and …/restart: carry no body, repeat the same action;
// - 429 with Retry-After on any other request: the service refused it before doing anything.

/** Microsoft.Web writes whose body is built from an earlier read of the same resource. */
const BUILT_FROM_A_READ = [
  // PATCH of a site or slot: the identity block or keyVaultReferenceIdentity.
  { method: 'PATCH', path: /\/providers\/microsoft\.web\/sites\/[^/]+(\/slots\/[^/]+)?$/i },
  // PATCH of a container app or job (Microsoft.App): the identity type, or the whole secrets array.
  { method: 'PATCH', path: /\/providers\/microsoft\.app\/(containerapps|jobs)\/[^/]+$/i },
  // PUT of a whole settings or connection-strings collection.
  {
    method: 'PUT',
    path: /\/providers\/microsoft\.web\/sites\/[^/]+(\/slots\/[^/]+)?\/config\/(appsettings|connectionstrings)$/i
  }
]

/** Is this request a write built from an earlier read, which must never be sent again as it is? */
export function isBuiltFromRead(method: string, url: string): boolean {
  const path = new URL(url).pathname
  return BUILT_FROM_A_READ.some((w) => w.method === method.toUpperCase() && w.path.test(path))
}

/**
 * An attempt of a write built from a read that may or may not have happened (a 5xx or 408 answer,
 * or no answer): not retried by the pipeline; the caller reads again and decides.
 */
export class UnknownOutcomeError extends Error {
  readonly status: number | undefined
  constructor(label: string, reason: string, status?: number, cause?: unknown) {
    super(`${label}: ${reason}; whether Azure carried it out is unknown`, { cause })
    this.name = 'UnknownOutcomeError'
    this.status = status
  }
}

/**
 * An attempt of a write built from a read that Azure did not carry out: refused for now (429), or
 * never sent (the host or its proxy was unreachable). Not retried by the pipeline: the caller
 * waits at least `waitMs` and builds the write again from a fresh read.
 */
export class NotCarriedOutError extends Error {
  readonly status: number | undefined
  /** Azure asked to wait this long first (Retry-After), when it said. */
  readonly waitMs: number | undefined
  constructor(label: string, reason: string, options: { status?: number; waitMs?: number; cause?: unknown } = {}) {
    super(`${label}: ${reason}; Azure did not carry it out`, { cause: options.cause })
    this.name = 'NotCarriedOutError'
    this.status = options.status
    this.waitMs = options.waitMs
  }
}

/** Retry-After in milliseconds: seconds, or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined
  const at = Date.parse(header)
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined
}
