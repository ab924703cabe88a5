// Key Vaults (Microsoft.KeyVault/vaults). Reads are a GET, or one subscription listing when the
// vault's resource group is not given. The only write is `accessPolicies/add`, which the service
// merges per principal atomically: never GET-modify-PUT the vault, which would lose the policies
// a concurrent run adds.
import type { TokenCredential } from '@azure/core-auth'
import { createKeyVaultManagement, type KeyVaultManagementContext } from '@azure/arm-keyvault/api'
import { get as getSecret } from '@azure/arm-keyvault/api/secrets'
import { get, listBySubscription, updateAccessPolicy } from '@azure/arm-keyvault/api/vaults'
import type { Vault } from '@azure/arm-keyvault/models'
import type { Cloud } from '../model/clouds.js'
import type { Permissions } from '../model/permissions.js'
import type { VaultTarget } from '../model/targets.js'
import type { RetryBudget } from './http/budget.js'
import { armClientOptions } from './http/pipeline.js'
import { expectGuid, expectVaultId } from './returned.js'
import type { AccessPolicy, VaultState } from '../model/state.js'

export interface SecretInfo {
  name: string
  enabled: boolean
  currentVersion?: string
}

export class VaultNotFoundError extends Error {
  constructor(vaultName: string, subscriptionId: string) {
    super(
      `Key Vault '${vaultName}' was not found in subscription ${subscriptionId} (searched every vault ` +
        `the sign-in identity can read there, because 'vault-resource-group' is empty).\n` +
        `Fix: check the name; set 'vault-resource-group' to the vault's resource group, and ` +
        `'vault-subscription-id' if the vault lives in another subscription; make sure the sign-in ` +
        `identity can read the vault (Reader on it is enough).`
    )
    this.name = 'VaultNotFoundError'
  }
}

export class Vaults {
  private readonly context: KeyVaultManagementContext
  private readonly subscriptionId: string
  private listing: Promise<Vault[]> | undefined

  constructor(credential: TokenCredential, cloud: Cloud, budget: RetryBudget, subscriptionId: string) {
    this.context = createKeyVaultManagement(credential, subscriptionId, armClientOptions(cloud, budget))
    this.subscriptionId = subscriptionId
  }

  async read(target: VaultTarget): Promise<VaultState> {
    if (target.resourceGroup) {
      return toVaultState(target, await get(this.context, target.resourceGroup, target.name))
    }
    // Vault names are globally unique, so one listing of the subscription serves every lookup.
    this.listing ??= collect(listBySubscription(this.context))
    const wanted = target.name.toLowerCase()
    const vault = (await this.listing).find((v) => v.name?.toLowerCase() === wanted)
    if (!vault) throw new VaultNotFoundError(target.name, this.subscriptionId)
    return toVaultState(target, vault)
  }

  /**
   * A secret's metadata through ARM (Secrets_Get: the value is never returned), or undefined when
   * the vault has no such secret. Only the current version is known: ARM lists no secret versions.
   */
  async secret(vault: VaultState, name: string): Promise<SecretInfo | undefined> {
    try {
      const secret = await getSecret(this.context, vault.resourceGroup, vault.name, name)
      const current = secret.properties.secretUriWithVersion?.split('/').pop()
      return {
        name: secret.name ?? name,
        enabled: secret.properties.attributes?.enabled !== false,
        currentVersion: current
      }
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined
      throw error
    }
  }

  /** A fresh GET of a vault already read (never the cached listing): to confirm what a write did. */
  async reread(vault: VaultState): Promise<VaultState> {
    return toVaultState(
      { ...vault.target, resourceGroup: vault.resourceGroup },
      await get(this.context, vault.resourceGroup, vault.name)
    )
  }

  /**
   * One `accessPolicies/add` (or `remove`) carrying every principal's permissions to add (or take
   * away). The service merges per principal: other principals and other permissions stay.
   */
  async changeAccessPolicies(vault: VaultState, operation: 'add' | 'remove', entries: AccessPolicy[]): Promise<void> {
    await updateAccessPolicy(this.context, vault.resourceGroup, vault.name, operation, {
      properties: {
        accessPolicies: entries.map((entry) => ({
          tenantId: entry.tenantId,
          objectId: entry.objectId,
          permissions: withoutEmptyLists(entry.permissions)
        }))
      }
    })
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const item of items) all.push(item)
  return all
}

function withoutEmptyLists(permissions: Partial<Permissions>): Partial<Permissions> {
  return Object.fromEntries(Object.entries(permissions).filter(([, list]) => list && list.length > 0))
}

export function resourceGroupOf(id: string): string {
  const match = /\/resourceGroups\/([^/]+)/i.exec(id)
  return match ? match[1] : ''
}

export function toVaultState(target: VaultTarget, vault: Vault): VaultState {
  // Role assignments are made at this id and access policies written under it: it must be the
  // vault that was asked for.
  const id = expectVaultId(vault.id, target)
  return {
    target,
    id,
    name: id.split('/').pop()!,
    resourceGroup: target.resourceGroup ?? resourceGroupOf(id),
    subscriptionId: target.subscriptionId,
    tenantId: expectGuid(`the tenant of vault '${target.name}'`, vault.properties.tenantId) ?? '',
    // Older vaults do not carry the property at all: they use access policies.
    rbac: vault.properties.enableRbacAuthorization === true,
    accessPolicies: (vault.properties.accessPolicies ?? []).map((p) => ({
      tenantId: p.tenantId,
      objectId: p.objectId,
      applicationId: p.applicationId,
      permissions: {
        secrets: p.permissions.secrets ?? [],
        keys: p.permissions.keys ?? [],
        certificates: p.permissions.certificates ?? [],
        storage: p.permissions.storage ?? []
      }
    }))
  }
}
