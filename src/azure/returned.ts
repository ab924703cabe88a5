// Values that come back from Azure are data, not trusted input: before one goes into a request URL
// or body, it must be what the action asked for. A mismatch stops the run with what was expected.
import { isGuid } from '../inputs/names.js'

export class UnexpectedAzureDataError extends Error {
  constructor(what: string, value: unknown, expected: string) {
    super(
      `Azure returned ${what} '${String(value).slice(0, 200)}', which is not ${expected}; not using it.\n` +
        `Fix: re-run; if it persists, check that 'arm-endpoint' (or 'environment') points at Azure Resource Manager.`
    )
    this.name = 'UnexpectedAzureDataError'
  }
}

const SEGMENT = '[^/?#\\s]+'

export function expectGuid(what: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  if (!isGuid(value)) throw new UnexpectedAzureDataError(what, value, 'a GUID')
  return value
}

/** `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}` */
export function expectUserAssignedIdentityId(id: string): string {
  const pattern = new RegExp(
    `^/subscriptions/${SEGMENT}/resourceGroups/${SEGMENT}/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/${SEGMENT}$`,
    'i'
  )
  if (!pattern.test(id)) throw new UnexpectedAzureDataError('a user-assigned identity id', id, 'such an id')
  return id
}

/** A Key Vault resource id: subscription, resource group and name captured. */
const VAULT_ID = new RegExp(
  `^/subscriptions/(${SEGMENT})/resourceGroups/(${SEGMENT})/providers/Microsoft\\.KeyVault/vaults/(${SEGMENT})$`,
  'i'
)

/**
 * The id of the vault that was asked for: a Key Vault resource id in the requested subscription
 * (and resource group, when given) with the requested name. Role assignments are made at this
 * scope, so it must never be empty, `/`, a subscription or another resource.
 */
export function expectVaultId(
  id: string | undefined,
  wanted: { name: string; subscriptionId: string; resourceGroup?: string }
): string {
  const match = VAULT_ID.exec(id ?? '')
  const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()
  if (
    !match ||
    !same(match[1], wanted.subscriptionId) ||
    (wanted.resourceGroup !== undefined && !same(match[2], wanted.resourceGroup)) ||
    !same(match[3], wanted.name)
  ) {
    const where = wanted.resourceGroup ? `resource group '${wanted.resourceGroup}', ` : ''
    throw new UnexpectedAzureDataError(
      `the vault id`,
      id ?? '(none)',
      `the id of Key Vault '${wanted.name}' (${where}subscription ${wanted.subscriptionId})`
    )
  }
  return id!
}

/** A scope for a role assignment this action makes or deletes: a Key Vault resource id, nothing wider. */
export function isVaultScope(scope: string): boolean {
  return VAULT_ID.test(scope)
}
