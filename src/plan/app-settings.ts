// The app-settings part of the plan: which Key Vault references each app needs written, and which
// existing ones App Service must resolve again. Pure, like the rest of the plan.
import { sameIdentity } from '../model/identity-type.js'
import type { Change } from '../model/changes.js'
import { PlanError } from '../model/plan-error.js'
import { appsServed, type SettingsChange } from '../model/changes.js'
import {
  findReference,
  isConnectionString,
  isRefreshable,
  referenceLabel,
  sameReference,
  type WantedSetting
} from '../model/references.js'
import type { CurrentState } from '../model/state.js'

/**
 * A failure a refresh heals without this run changing anything: it names a cause the state
 * contradicts (the identity is there, the secret exists). Others (AccessToKeyVaultDenied while
 * access is held, say: a vault firewall) are refreshed only after this run changed the app's
 * identity or access, or every run would restart the app for nothing.
 */
const CONTRADICTED = new Set(['MSINotEnabled', 'VaultNotFound', 'SecretNotFound', 'SecretVersionNotFound'])

export function planSettings(
  wanted: readonly WantedSetting[],
  state: CurrentState,
  changes: readonly Change[]
): SettingsChange[] {
  if (wanted.length === 0) return []
  checkHosting(state)
  checkSecrets(wanted, state)
  checkReferenceIdentity(state)
  const result: SettingsChange[] = []
  // Container targets get Key Vault secrets instead (container-secrets.ts).
  for (const app of state.apps.filter((a) => !a.target.kind)) {
    const key = app.target.key
    const refs = state.references.get(key) ?? []
    // Attaching the user-assigned identity (after the grants) refetches every reference by itself.
    const refetched = changes.some((c) => c.kind === 'attach-identity' && c.app === key)
    const granted = refetched ? new Set<string>() : grantedVaults(changes, key)
    const changed = granted.size > 0 || changes.some((c) => c.kind === 'enable-identity' && c.app === key)
    const names: string[] = []
    const refresh: SettingsChange['refresh'] = []
    for (const setting of wanted) {
      const ref = findReference(refs, setting.name)
      if (!ref || !sameReference(ref.reference, setting.value) || ref.setting !== setting.name) names.push(setting.name)
      else if (
        isRefreshable(ref.status) &&
        !refetched &&
        (changed || (CONTRADICTED.has(ref.status) && versionKnown(setting, state)))
      ) {
        refresh.push({ setting: setting.name, status: ref.status })
      }
    }
    // References this run did not ask for heal too, when this run granted the app on their vault.
    // Connection strings' references too: the refresh resolves every reference of the app.
    for (const ref of refs) {
      if (!isConnectionString(ref) && wanted.some((w) => w.name.toLowerCase() === ref.setting.toLowerCase())) continue
      if (isRefreshable(ref.status) && granted.has((ref.vaultName ?? '').toLowerCase())) {
        refresh.push({ setting: referenceLabel(ref), status: ref.status })
      }
    }
    if (names.length > 0 || refresh.length > 0) result.push({ kind: 'set-app-settings', app: key, names, refresh })
  }
  return result
}

/** The vaults (by lower-case name, as references name them) this run grants `app` access on. */
function grantedVaults(changes: readonly Change[], app: string): Set<string> {
  const vaults = new Set<string>()
  for (const c of changes) {
    if (c.kind === 'add-access-policy' && c.entries.some((e) => appsServed(e).includes(app)))
      vaults.add(c.vault.toLowerCase())
    if (c.kind === 'assign-role' && appsServed(c).includes(app)) vaults.add(c.vault.toLowerCase())
  }
  return vaults
}

/** A pinned version the vault may not have is no contradiction: ARM knows only the current one. */
function versionKnown(setting: WantedSetting, state: CurrentState): boolean {
  if (!setting.version) return true
  const check = state.secrets.find((s) => sameSecret(s, setting))
  return check?.currentVersion?.toLowerCase() === setting.version.toLowerCase()
}

/**
 * With the system-assigned identity (the default), references resolve through it only while the
 * app's keyVaultReferenceIdentity says SystemAssigned; otherwise they resolve through an identity
 * this run does not grant, and would fail on every run.
 */
function checkReferenceIdentity(state: CurrentState): void {
  if (state.userIdentity) return
  const odd = state.apps.filter(
    (a) => a.keyVaultReferenceIdentity && !sameIdentity(a.keyVaultReferenceIdentity, 'SystemAssigned')
  )
  if (odd.length === 0) return
  throw new PlanError(
    `Key Vault references of ${odd.map((a) => `'${a.target.key}'`).join(', ')} resolve through keyVaultReferenceIdentity ` +
      `${odd[0].keyVaultReferenceIdentity} (a user-assigned identity), but 'identity' is system: this run would grant an identity the references do not use.\n` +
      `Fix: set 'identity' to that user-assigned identity, or reset the app's keyVaultReferenceIdentity ` +
      `(az webapp update --name ${odd[0].target.name} --resource-group <group> --set keyVaultReferenceIdentity=SystemAssigned).`
  )
}

/** Every named secret must exist and be enabled before anything is written. */
function checkSecrets(wanted: readonly WantedSetting[], state: CurrentState): void {
  const problems: string[] = []
  for (const check of state.secrets) {
    const settings = wanted
      .filter((w) => sameSecret(w, check))
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

/** Vault and secret names compare case-insensitively, as Key Vault does. */
function sameSecret(a: { vault: string; secret: string }, b: { vault: string; secret: string }): boolean {
  return a.vault.toLowerCase() === b.vault.toLowerCase() && a.secret.toLowerCase() === b.secret.toLowerCase()
}

/**
 * Functions hosted on Container Apps the older way (a Microsoft.Web site on a managed environment)
 * do not support Key Vault references in app settings (Azure/azure-functions-on-container-apps#90):
 * the reference would stay literal text. Refused before any write.
 */
function checkHosting(state: CurrentState): void {
  const hosted = state.apps.filter((a) => a.managedEnvironmentId)
  if (hosted.length === 0) return
  throw new PlanError(
    `'app-settings' cannot make Key Vault references on ${hosted.map((a) => a.target.key).join(', ')}: a function app hosted on Azure Container Apps as a Microsoft.Web site does not support Key Vault references in app settings (Azure/azure-functions-on-container-apps#90).\n` +
      `Fix: leave 'app-settings' out for it (the identity and the grants work), or move it to native Functions on Container Apps (a Microsoft.App container app of kind functionapp) and name it in 'container-app'.`
  )
}
