// Which requests the HTTP pipeline may send again as they are, and which it must not.
//
// Retrying a request means sending the same body again. That is harmless when the body does not
// depend on what the action read before, and wrong when it does: a site's identity block (type and
// user-assigned map) and an app's settings collection (a PUT replaces all of it) are built from a
// read; if another writer — a deployment, a slot swap, the portal, another workflow — changed the
// resource in between, the replayed body silently undoes that change. App Service's 409 "another
// operation is in progress" usually means exactly that someone else is writing right now.
//
// So for those writes the pipeline gives up at once on a 409 Conflict or on an attempt whose
// outcome is unknown (5xx, 408, an answer lost on the way back), and the caller starts again from a
// fresh read (write-step.ts). Everything else keeps the pipeline's retries:
// - reads (GET, and POST …/list of settings or secrets): no state changes;
// - PUT …/vaults/{v}/accessPolicies/add|remove: Key Vault merges or removes the named permissions
//   of the named principals atomically on the service side (DESIGN.md); other principals and
//   other permissions are never in the body, so a replay cannot undo anyone else's change;
// - PUT / DELETE …/roleAssignments/{name}: the name is derived from scope, role and principal, the
//   body names only those, and a repeat finds the same assignment (RoleAssignmentExists / 404);
// - POST …/configreferences/…/refresh and …/restart: carry no body, repeat the same action;
// - 429 with Retry-After on any request: the service refused it before doing anything.

/** Microsoft.Web writes whose body is built from an earlier read of the same resource. */
const BUILT_FROM_A_READ = [
  // PATCH of a site or slot: the identity block or keyVaultReferenceIdentity.
  { method: 'PATCH', path: /\/providers\/microsoft\.web\/sites\/[^/]+(\/slots\/[^/]+)?$/i },
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
