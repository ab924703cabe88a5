// The app-settings part of the plan: which Key Vault references each app needs written, and which
// existing ones App Service must resolve again. Pure, like the rest of the plan.
import { PlanError } from './plan-error.js'
import { findReference, isRefreshable, type WantedSetting } from './references.js'
import type { CurrentState } from './read.js'

export interface SettingsChange {
  kind: 'set-app-settings'
  app: string
  /** Settings whose value is to be written (new, or another value). */
  names: string[]
  /** Settings already right whose resolution failed: written again so App Service resolves them anew. */
  refresh: { setting: string; status: string }[]
}

export function planSettings(wanted: readonly WantedSetting[], state: CurrentState): SettingsChange[] {
  if (wanted.length === 0) return []
  checkSecrets(wanted, state)
  const changes: SettingsChange[] = []
  for (const app of state.apps) {
    const refs = state.references.get(app.target.key) ?? []
    const names: string[] = []
    const refresh: SettingsChange['refresh'] = []
    for (const setting of wanted) {
      const ref = findReference(refs, setting.name)
      if (!ref || !sameValue(ref.reference, setting.value)) names.push(setting.name)
      else if (isRefreshable(ref.status) && mayHeal(ref.status, setting, state)) {
        refresh.push({ setting: setting.name, status: ref.status })
      }
    }
    if (names.length > 0 || refresh.length > 0)
      changes.push({ kind: 'set-app-settings', app: app.target.key, names, refresh })
  }
  return changes
}

/** App Service reports the setting's value as the reference; compared leniently, as identifiers are. */
function sameValue(reported: string, wanted: string): boolean {
  return reported.trim().toLowerCase() === wanted.trim().toLowerCase()
}

/**
 * A cached failure that a fresh resolution can heal: the run has just granted access or turned
 * the identity on, or the failure no longer holds (the secret exists, access is there). A pinned
 * version the vault may not have is left alone: rewriting would only restart the app again.
 */
function mayHeal(status: string, setting: WantedSetting, state: CurrentState): boolean {
  if (status !== 'SecretVersionNotFound' || !setting.version) return true
  const check = state.secrets.find(
    (s) =>
      s.vault.toLowerCase() === setting.vault.toLowerCase() && s.secret.toLowerCase() === setting.secret.toLowerCase()
  )
  return check?.currentVersion?.toLowerCase() === setting.version.toLowerCase()
}

/** Every named secret must exist and be enabled before anything is written. */
function checkSecrets(wanted: readonly WantedSetting[], state: CurrentState): void {
  const problems: string[] = []
  for (const check of state.secrets) {
    const settings = wanted
      .filter(
        (w) =>
          w.vault.toLowerCase() === check.vault.toLowerCase() && w.secret.toLowerCase() === check.secret.toLowerCase()
      )
      .map((w) => w.name)
      .join(', ')
    if (!check.exists) {
      problems.push(
        `secret '${check.secret}' (for ${settings}) was not found in Key Vault '${check.vault}'.\n` +
          `  Fix: create it (az keyvault secret set --vault-name ${check.vault} --name ${check.secret} --file <file>), or correct 'app-settings'.`
      )
    } else if (!check.enabled) {
      problems.push(
        `secret '${check.secret}' (for ${settings}) in Key Vault '${check.vault}' is disabled: App Service would report SecretNotFound.\n` +
          `  Fix: enable it (az keyvault secret set-attributes --vault-name ${check.vault} --name ${check.secret} --enabled true).`
      )
    }
  }
  if (problems.length > 0) {
    throw new PlanError(`Nothing was written: ${problems.length === 1 ? problems[0] : `\n- ${problems.join('\n- ')}`}`)
  }
}
