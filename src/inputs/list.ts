// Comma- or line-separated list inputs, as every list input of the action is written.

/** One per line or comma-separated. */

export function splitList(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}
