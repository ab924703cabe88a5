// Access-policy vaults: one `accessPolicies/add` or `remove` per vault carrying every app's
// permissions. `remove` matches permission names case-sensitively and answers 200 even when it
// removed nothing (Azure/azure-rest-api-specs#42963), so the plan names what the vault holds in
// the vault's own spelling, and what was removed is confirmed by reading the vault back.
import { done, grantee } from '../model/change-text.js'
import type { VaultState } from '../model/state.js'
import { pollUntil } from '../azure/http/poll.js'
import { during } from '../azure/operation.js'
import {
  describePermissions,
  emptyPermissions,
  isEmpty,
  PERMISSION_KINDS,
  type Permissions
} from '../model/permissions.js'
import { heldPermissions } from '../plan/plan.js'
import { type ApplyContext, type Of, onVault, principalFor } from './context.js'

export async function addAccessPolicies(change: Of<'add-access-policy'>, ctx: ApplyContext): Promise<void> {
  const vault = ctx.vault(change.vaultId)
  // An app whose new identity cannot be granted here (another tenant) fails alone.
  const entries = change.entries.flatMap((entry) => {
    try {
      return [{ ...entry, objectId: principalFor(ctx, entry.app, entry.principalId, vault) }]
    } catch (error) {
      ctx.fail(entry.app, error, vault.id)
      return []
    }
  })
  if (entries.length === 0) return
  await during(onVault(ctx, vault, 'add access policies to'), () =>
    ctx.azure.vaults(vault.subscriptionId).changeAccessPolicies(vault, 'add', entries)
  )
  for (const e of entries) {
    ctx.record(done.policyGranted(grantee(e), change.vault, e.permissions))
  }
}

export class AccessStillHeldError extends Error {
  constructor(app: string, principalId: string, vault: VaultState, still: Permissions) {
    super(
      `Key Vault '${vault.name}' still grants ${app} (${principalId}) ${describePermissions(still)} after accessPolicies/remove answered success.\n` +
        `Azure ignores names it does not match exactly (it compares permission names case-sensitively), and another writer may have added them back meanwhile.\n` +
        `Fix: check the vault's access policies (portal: vault → Access policies), remove what is left there or with ` +
        `'az keyvault delete-policy --name ${vault.name} --object-id ${principalId}' (removes the whole entry), then re-run revoke to confirm.`
    )
    this.name = 'AccessStillHeldError'
  }
}

export async function removeAccessPolicies(change: Of<'remove-access-policy'>, ctx: ApplyContext): Promise<void> {
  const vault = ctx.vault(change.vaultId)
  const client = ctx.azure.vaults(vault.subscriptionId)
  const entries = change.entries.map((e) => ({ ...e, objectId: e.principalId! }))
  await during(onVault(ctx, vault, 'remove access policies from'), () =>
    client.changeAccessPolicies(vault, 'remove', entries)
  )
  const readBack = async (): Promise<{ entry: (typeof entries)[number]; still: Permissions }[]> => {
    const after = await during(onVault(ctx, vault, 'read back the access policies of'), () =>
      client.reread(vault)
    ).catch((error: unknown) => {
      // Azure accepted the remove: it is recorded as that, unconfirmed, before the step fails.
      for (const entry of entries)
        ctx.record(done.policyRemovalUnconfirmed(grantee(entry), change.vault, entry.permissions))
      throw error
    })
    return entries.map((entry) => ({
      entry,
      still: stillHeld(heldPermissions(after.accessPolicies, entry.objectId), entry.permissions)
    }))
  }
  // The vault's read side may lag the write: read back at once, then 2 s and 4 s later while time
  // is left. The first read back always happens (and fails, naming the budget, if that is spent).
  const { value: left = [] } = await pollUntil({
    read: readBack,
    done: (found) => found.every(({ still }) => isEmpty(still)),
    budget: ctx.budget,
    firstDelayMs: 2000,
    maxDelayMs: 4000,
    maxReads: 3
  })
  for (const { entry, still } of left) {
    const gone = minus(entry.permissions, still)
    if (!isEmpty(gone)) {
      ctx.record(done.policyRevoked(grantee(entry), change.vault, gone))
    }
    if (!isEmpty(still)) ctx.fail(entry.app, new AccessStillHeldError(entry.app, entry.objectId, vault, still))
  }
}

/** What of `removed` is still held, compared without regard to case (any spelling still grants). */
function stillHeld(held: Partial<Permissions> | undefined, removed: Permissions): Permissions {
  const result = emptyPermissions()
  for (const kind of PERMISSION_KINDS) {
    const have = new Set((held?.[kind] ?? []).map((p) => p.toLowerCase()))
    result[kind] = removed[kind].filter((p) => have.has(p.toLowerCase()))
  }
  return result
}

function minus(all: Permissions, taken: Permissions): Permissions {
  const result = emptyPermissions()
  for (const kind of PERMISSION_KINDS) result[kind] = all[kind].filter((p) => !taken[kind].includes(p))
  return result
}
