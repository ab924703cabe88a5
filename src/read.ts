// Reads what is there now: every app (or slot) and every vault at the same time, then, for vaults
// that use RBAC, the role assignments at the vault's scope or above.
import type { TokenCredential } from '@azure/core-auth'
import { type AppState, Sites } from './azure/sites.js'
import type { RoleAssignment, RoleAssignments } from './azure/roles.js'
import { Vaults, type VaultState } from './azure/vaults.js'
import type { RetryBudget } from './azure/budget.js'
import { during } from './errors.js'
import type { Settings } from './settings.js'

export interface Azure {
  sites: Sites
  vaults: (subscriptionId: string) => Vaults
  /** The RBAC client, loaded on first use: most runs never need it. */
  roles: () => Promise<RoleAssignments>
}

export function connect(settings: Settings, credential: TokenCredential, budget: RetryBudget): Azure {
  const { cloud } = settings
  const vaultClients = new Map<string, Vaults>()
  let roles: Promise<RoleAssignments> | undefined
  return {
    sites: new Sites(credential, cloud, budget, settings.subscriptionId, settings.resourceGroup),
    vaults: (subscriptionId) => {
      let client = vaultClients.get(subscriptionId)
      if (!client) vaultClients.set(subscriptionId, (client = new Vaults(credential, cloud, budget, subscriptionId)))
      return client
    },
    roles: () =>
      (roles ??= import('./azure/roles.js').then(
        ({ RoleAssignments }) => new RoleAssignments(credential, cloud, budget)
      ))
  }
}

export interface CurrentState {
  apps: AppState[]
  vaults: VaultState[]
  /** Role assignments at or above each RBAC vault's scope, by vault id (lower case). */
  assignments: Map<string, RoleAssignment[]>
}

export async function readState(settings: Settings, azure: Azure): Promise<CurrentState> {
  const appReads = settings.apps.map((target) =>
    during({ action: 'read', kind: target.slot ? 'slot' : 'app', target, settings }, () => azure.sites.read(target))
  )
  const vaultReads = settings.vaults.map((target) =>
    during({ action: 'read', kind: 'vault', vault: target, settings }, () =>
      azure.vaults(target.subscriptionId).read(target)
    )
  )
  const [apps, vaults] = await Promise.all([Promise.all(appReads), Promise.all(vaultReads)])

  // A principal that does not exist yet holds nothing: list assignments only for known ones.
  const assignments = new Map<string, RoleAssignment[]>()
  const anyPrincipal = apps.some((app) => app.principalId)
  const rbacVaults = vaults.filter((vault) => vault.rbac)
  if (anyPrincipal && rbacVaults.length > 0) {
    const roles = await azure.roles()
    await Promise.all(
      rbacVaults.map(async (vault) => {
        const list = await during(
          { action: 'list role assignments', kind: 'vault', vault: vault.target, settings },
          () => roles.listAtOrAbove(vault.id)
        )
        assignments.set(vault.id.toLowerCase(), list)
      })
    )
  }
  return { apps, vaults, assignments }
}
