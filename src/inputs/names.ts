// Azure's naming rules for what the action puts into request URLs. Checking them up front gives a
// clear message instead of a confusing 404, and keeps `/`, `?`, `#` and `..` out of every path.

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isGuid(value: string): boolean {
  return GUID.test(value)
}

/** Web app and function app names: 2–60 letters, digits and hyphens, not starting or ending with a hyphen. */
export function validateAppName(input: string, value: string): string | undefined {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])$/.test(value)) {
    return `'${input}' has '${value}': an app name is 2–60 letters, digits and hyphens, starting and ending with a letter or digit.`
  }
  return undefined
}

export function validateSlotName(input: string, value: string): string | undefined {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])$/.test(value)) {
    return `'${input}' has slot '${value}': a slot name is 2–60 letters, digits and hyphens, starting and ending with a letter or digit.`
  }
  return undefined
}

/** Resource groups: 1–90 letters, digits, `.`, `_`, `-`, `(`, `)`; not ending in `.`. */
export function validateResourceGroup(input: string, value: string): string | undefined {
  if (!/^[\p{L}\p{N}._()-]{1,90}$/u.test(value) || value.endsWith('.')) {
    return `'${input}' has '${value}': a resource group name is 1–90 letters, digits, '.', '_', '-', '(' or ')', not ending in '.'.`
  }
  return undefined
}

/** Key Vault names: 3–24 letters, digits and hyphens; starts with a letter, ends with a letter or digit, no `--`. */
export function validateVaultName(input: string, value: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/.test(value) || value.includes('--')) {
    return `'${input}' has '${value}': a vault name is 3–24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, without '--'.`
  }
  return undefined
}

/**
 * Microsoft.App names: 2–32 lowercase letters, digits and hyphens, starting with a letter, ending
 * with a letter or digit, no two hyphens in a row (the portal's wording, as quoted in
 * hashicorp/terraform-provider-azurerm's container app name validation tests; for jobs no separate
 * source found: the same rule is assumed).
 */
export function validateContainerName(input: string, value: string, what: string): string | undefined {
  if (!/^[a-z](?!.*--)[a-z0-9-]{0,30}[a-z0-9]$/.test(value)) {
    return `'${input}' entry '${value}' is not a valid ${what} name: 2–32 lowercase letters, digits and hyphens, starting with a letter, ending with a letter or digit, no '--'.`
  }
  return undefined
}
