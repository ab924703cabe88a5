// One walk over an error's cause chain (wrappers such as AzureOperationError keep Azure's error as
// their `cause`), bounded so that a cyclic chain cannot hang the run.

/** The first error in `error`'s cause chain (itself included) that `test` accepts. */
export function findInChain(error: unknown, test: (e: Error) => boolean): Error | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (test(e)) return e
  }
  return undefined
}
