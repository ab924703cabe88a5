// mode: verify — a read-only gate. The message lists exactly what is missing and the apply that
// would fix it, so a failed gate tells the reviewer what to run. Also: every Key Vault reference
// of each app must resolve, as App Service itself reports it (the app otherwise gets the literal
// `@Microsoft.KeyVault(...)` text). And for revoke, which references will stop resolving.
import * as core from '@actions/core'
import { describeChange } from '../model/change-text.js'
import { type Plan } from '../model/changes.js'
import type { CurrentState } from '../model/state.js'
import { describeReference, failureLine, type ReferenceState, RESOLVED } from '../model/references.js'
import { holds } from '../model/permissions.js'
import { appsServed } from '../model/changes.js'
import { isSatisfied, ROLES } from '../model/roles.js'

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

export function verifyFailure(plan: Plan, unresolved: Unresolved[] = [], unhealthy: string[] = []): string {
  const lines: string[] = []
  for (const change of plan.changes) {
    if (change.kind === 'enable-identity') lines.push(`  - ${change.app}: the system-assigned identity is off`)
    if (change.kind === 'attach-identity') lines.push(`  - ${change.app}: apply would ${describeChange(change)}`)
    if (change.kind === 'set-container-secrets') lines.push(`  - ${change.app}: apply would ${describeChange(change)}`)
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
  lines.push(...unhealthy.map((u) => `  - ${u}`))
  const refLines = unresolved.map(({ app, ref }) => `${app}: ${failureLine(ref).trimStart().slice(2)}`)
  lines.push(...refLines.map((l) => `  - ${l}`))
  return [
    `Verify failed: ${lines.length} thing(s) missing${refLines.length > 0 ? ' or not resolving' : ''}:`,
    ...lines,
    `Fix: run this action with 'mode: apply' (same inputs) from an identity allowed to grant access; 'mode: plan' previews the ${plan.changes.length} change(s) it would make.` +
      (refLines.length > 0 ? ' For references to vaults not in these inputs, grant access to those vaults too.' : '')
  ].join('\n')
}

/**
 * Revoke takes only what this action granted and what was asked: one `::warning::` for each role
 * assignment or access-policy entry that still grants some of the revoked access, naming it, its
 * scope, why it stays and the fix — so a finished revoke never reads as "access gone" when it is not.
 */
export function warnAccessStillHeld(plan: Plan): void {
  for (const grant of plan.grants) {
    for (const held of grant.stillHeld ?? []) {
      core.warning(
        `${grant.app} still holds ${held.grants} on vault ${grant.vault} through ${held.through}: ${held.reason}`
      )
    }
  }
}

/**
 * Revoke leaves settings alone; it says which references will stop resolving, from what the plan
 * takes away: secret read access on a vault (get or all, or a secrets role), or the identity.
 */
export function warnReferencesLosingAccess(plan: Plan, state: CurrentState): void {
  const serves = (app: string, c: { app: string; sharedBy?: string[] }): boolean => appsServed(c).includes(app)
  // Secret reads go with `get` (or `all`) and with the secrets user role or any role that includes it.
  const readsSecrets = (names: string[]): boolean => holds('secrets', names, 'get')
  const losingAccess = (app: string): { identityGone: boolean; vaults: Set<string> } => {
    const identityGone = plan.changes.some(
      (c) => (c.kind === 'disable-identity' || (c.kind === 'detach-identity' && c.detach)) && c.app === app
    )
    const vaults = new Set<string>()
    for (const c of plan.changes) {
      if (
        c.kind === 'remove-access-policy' &&
        c.entries.some((e) => serves(app, e) && readsSecrets(e.permissions.secrets))
      ) {
        vaults.add(c.vault.toLowerCase())
      }
      if (c.kind === 'delete-role-assignment' && serves(app, c) && isSatisfied(ROLES.secretsUser, [c.role.guid]))
        vaults.add(c.vault.toLowerCase())
    }
    return { identityGone, vaults }
  }
  // Container targets: their Key Vault secrets (the vault is the first label of the URL's host).
  for (const [app, config] of state.containerConfigs ?? []) {
    const { identityGone, vaults } = losingAccess(app)
    const losing = config.secrets.filter(
      (s) => s.keyVaultUrl && (identityGone || vaults.has(new URL(s.keyVaultUrl).hostname.split('.')[0].toLowerCase()))
    )
    if (losing.length === 0) continue
    core.warning(
      `${app}: these Key Vault secrets will stop resolving once the ${identityGone ? 'identity is gone' : 'access is revoked'} (at the next revision or secret refresh; a running revision keeps the value it has): ${losing.map((s) => `${s.name} (${s.keyVaultUrl})`).join('; ')}.`
    )
  }
  for (const [app, refs] of state.references) {
    const { identityGone, vaults } = losingAccess(app)
    const losing = refs.filter((r) => identityGone || vaults.has((r.vaultName ?? '').toLowerCase()))
    if (losing.length === 0) continue
    core.warning(
      `${app}: these Key Vault references will stop resolving once the ${identityGone ? 'identity is gone' : 'access is revoked'} (App Service keeps a resolved value until the app's configuration changes or for up to 24 h): ${losing.map(describeReference).join('; ')}.`
    )
  }
  const removes = plan.changes.some((c) => c.kind === 'remove-access-policy' || c.kind === 'delete-role-assignment')
  if (state.userIdentity && removes) {
    core.warning(
      `The access revoked belongs to user-assigned identity ${state.userIdentity.name}, which every app it is attached to uses: apps outside 'app-name' that use it lose this access too.`
    )
  }
}
