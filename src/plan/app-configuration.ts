// App Configuration references (`@Microsoft.AppConfiguration(…)`) resolve through the same
// identity as Key Vault references: the site's keyVaultReferenceIdentity ("Although the property
// has keyVault in the name, the identity also applies to App Configuration references",
// app-service-configuration-references.md). A run that changes that identity, resets it, or takes
// the identity away therefore changes how they resolve, and App Service reports no status for them:
// the REST spec's reference `source` is "KeyVault" only, and neither article documents one. So the
// plan says so, and apply and revoke warn, naming them (names only: values are never printed). Pure.
import type { AppConfigurationReferences } from '../model/app-configuration-references.js'
import type { Plan } from '../model/changes.js'
import { referenceLabel } from '../model/references.js'

/** How the plan changes the identity an app's references resolve through, if it does. */
function identityChangeOf(plan: Plan, app: string): string | undefined {
  for (const c of plan.changes) {
    if (!('app' in c) || c.app !== app) continue
    if (c.kind === 'attach-identity' && c.setReference)
      return `keyVaultReferenceIdentity changes from ${c.referenceFrom} to ${c.identityName}: they will resolve through ${c.identityName}`
    if (c.kind === 'detach-identity' && c.resetReference)
      return `keyVaultReferenceIdentity is reset from ${c.identityName} to SystemAssigned: they will resolve through the system-assigned identity${c.detach ? ` (and ${c.identityName} is detached)` : ''}`
    if (c.kind === 'disable-identity') return 'the system-assigned identity is turned off: they will stop resolving'
  }
  return undefined
}
/**
 * One line per app whose App Configuration references the plan affects (or may affect, when
 * their names could not be read): what changes, which references, and what to grant.
 */

export function appConfigurationNotes(plan: Plan, found: AppConfigurationReferences | undefined): string[] {
  const notes: string[] = []
  for (const [app, refs] of found ?? []) {
    const change = identityChangeOf(plan, app)
    if (!change || refs?.length === 0) continue
    const what = refs
      ? `its App Configuration references (${refs.map(referenceLabel).join(', ')})`
      : `any App Configuration references it has (the action could not read its settings to check: that needs Microsoft.Web/sites/config/list/action)`
    notes.push(
      `${app}: keyVaultReferenceIdentity also selects the identity of ${what}; ${change}. ` +
        `Grant that identity 'App Configuration Data Reader' on their stores (and Key Vault access for Key Vault values they hold) before this change, ` +
        `or they stop resolving: App Service reports no status for App Configuration references, so neither this action nor verify can see them fail.`
    )
  }
  return notes
}
