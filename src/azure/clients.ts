// The ARM clients one run uses, made once from the credential, the cloud and the retry budget:
// the site and vault clients at once, the identity and RBAC clients on first use (most runs never
// need them; the RBAC client's SDK is a chunk of its own).
import type { TokenCredential } from '@azure/core-auth'
import type { Inputs } from '../inputs/inputs.js'
import type { RetryBudget } from './http/budget.js'
import { ContainerApps } from './container-apps.js'
import { UserAssignedIdentities } from './identities.js'
import type { RoleAssignments } from './role-assignments.js'
import { SiteConfig } from './site-config.js'
import { Sites, webSites } from './sites.js'
import { Vaults } from './vaults.js'

export interface Azure {
  sites: Sites
  siteConfig: SiteConfig
  /** The user-assigned identity client, made on first use: only runs with `identity` need it. */
  identities: () => UserAssignedIdentities
  vaults: (subscriptionId: string) => Vaults
  /** Azure Container Apps apps and jobs in the resource group, made on first use. */
  containerApps: () => ContainerApps
  /** The RBAC client, loaded on first use: most runs never need it. */
  roles: () => Promise<RoleAssignments>
}
export function connect(inputs: Inputs, credential: TokenCredential, budget: RetryBudget): Azure {
  const { cloud } = inputs
  const vaultClients = new Map<string, Vaults>()
  let roles: Promise<RoleAssignments> | undefined
  let identities: UserAssignedIdentities | undefined
  let containerApps: ContainerApps | undefined
  const web = webSites(credential, cloud, budget, inputs.subscriptionId)
  return {
    sites: new Sites(web, budget, inputs.resourceGroup),
    siteConfig: new SiteConfig(web, inputs.resourceGroup),
    identities: () => (identities ??= new UserAssignedIdentities(credential, cloud, budget)),
    containerApps: () =>
      (containerApps ??= new ContainerApps(credential, cloud, budget, inputs.subscriptionId, inputs.resourceGroup)),
    vaults: (subscriptionId) => {
      let client = vaultClients.get(subscriptionId)
      if (!client) vaultClients.set(subscriptionId, (client = new Vaults(credential, cloud, budget, subscriptionId)))
      return client
    },
    roles: () =>
      (roles ??= import('../azure/role-assignments.js').then(
        ({ RoleAssignments }) => new RoleAssignments(credential, cloud, budget)
      ))
  }
}
