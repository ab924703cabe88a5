// One walk over an error and its causes, for every place that looks through wrappers: the Azure
// SDK, @azure/identity, MSAL and the action itself each wrap errors in their own, and what decides
// a diagnosis (a type, a system error code, an AADSTS code) may sit at any depth.

/** An error and its causes, outermost first (at most 8 deep: a chain of causes may loop). */
export function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = []
  for (let e = error; e !== undefined && e !== null && chain.length < 8; e = (e as { cause?: unknown }).cause) {
    chain.push(e)
  }
  return chain
}

/** The first error in `error`'s cause chain (itself included) that `test` accepts. */
export function findInChain(error: unknown, test: (e: Error) => boolean): Error | undefined {
  return causeChain(error).find((e): e is Error => e instanceof Error && test(e))
}
