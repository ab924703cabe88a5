// mode: verify — a read-only gate. The message lists exactly what is missing and the apply that
// would fix it, so a failed gate tells the reviewer what to run. Also: every Key Vault reference
// of each app must resolve, as App Service itself reports it (the app otherwise gets the literal
// `@Microsoft.KeyVault(...)` text). And for revoke, which references will stop resolving.
import * as core from '@actions/core'
import type { Plan } from './plan.js'
import type { CurrentState } from './read.js'
import { describeReference, failureLine, type ReferenceState, RESOLVED } from './references.js'
import type { Settings } from './settings.js'

export interface Unresolved {
  app: string
  ref: ReferenceState
}

/** Every reference, of every app, whose status is not Resolved. */
export function unresolvedReferences(references: CurrentState['references']): Unresolved[] {
  return [...references].flatMap(([app, refs]) =>
    refs.filter((r) => r.status !== RESOLVED).map((ref) => ({ app, ref }))
  )
}

export function verifyFailure(plan: Plan, unresolved: Unresolved[] = []): string {
  const lines: string[] = []
  for (const change of plan.changes) {
    if (change.kind === 'enable-identity') lines.push(`  - ${change.app}: the system-assigned identity is off`)
    if (change.kind === 'set-app-settings') {
      if (change.names.length > 0)
        lines.push(`  - ${change.app}: app settings not yet Key Vault references: ${change.names.join(', ')}`)
      for (const r of change.refresh) lines.push(`  - ${change.app}: ${r.setting} failed to resolve (${r.status})`)
    }
  }
  for (const grant of plan.grants.filter((g) => g.delta)) {
    const what = grant.model === 'rbac' ? `role(s) ${grant.delta}` : grant.delta
    lines.push(`  - ${grant.app} on vault ${grant.vault} (${grant.model}): missing ${what}`)
  }
  const refLines = unresolved.map(({ app, ref }) => `${app}: ${failureLine(ref).trimStart().slice(2)}`)
  lines.push(...refLines.map((l) => `  - ${l}`))
  return [
    `Verify failed: ${lines.length} thing(s) missing${refLines.length > 0 ? ' or not resolving' : ''}:`,
    ...lines,
    `Fix: run this action with 'mode: apply' (same inputs) from an identity allowed to grant access; 'mode: plan' previews the ${plan.changes.length} change(s) it would make.` +
      (refLines.length > 0 ? ' For references to vaults not in these inputs, grant access to those vaults too.' : '')
  ].join('\n')
}

/** Revoke leaves settings alone; it says which references point at the vaults it takes access from. */
export function warnReferencesLosingAccess(settings: Settings, state: CurrentState): void {
  // Only a revoke of secret read access stops references from resolving.
  if (!settings.permissions.secrets.some((p) => ['get', 'all'].includes(p.toLowerCase()))) return
  const vaults = new Set(settings.vaults.map((v) => v.name.toLowerCase()))
  for (const [app, refs] of state.references) {
    const losing = refs.filter((r) => r.vaultName && vaults.has(r.vaultName.toLowerCase()))
    if (losing.length === 0) continue
    core.warning(
      `${app}: these Key Vault references will stop resolving once the access is revoked (App Service keeps a resolved value until the app's configuration changes or for up to 24 h): ${losing.map(describeReference).join('; ')}.`
    )
  }
}
