// What a change is called, side by side: `describeChange` when it is planned (the plan, the
// summary of plan and verify, the PR comment), `done` once made (the log's notices, the summary,
// `changed`). One place for both, so that what a run says it will do and what it says it did
// cannot drift apart. Pure.
import type { AttachChange, Change, DetachChange } from './changes.js'
import { describePermissions, type Permissions } from './permissions.js'

/** One line per change; each is one write, which restarts the app (the plan and summary say so). */

export function describeIdentityChange(change: AttachChange | DetachChange): string {
  const parts: string[] = []
  if (change.kind === 'attach-identity') {
    if (change.attach)
      parts.push(`attach user-assigned identity ${change.identityName} to ${change.app} (keeping its other identities)`)
    if (change.setReference)
      parts.push(
        `set keyVaultReferenceIdentity of ${change.app} to ${change.identityName} (was ${change.referenceFrom})`
      )
    return `${parts.join(' and ')}${parts.length > 1 ? ', in one write' : ''} after the grants${restarts(change)}`
  }
  if (change.resetReference) parts.push(`reset keyVaultReferenceIdentity of ${change.app} to SystemAssigned`)
  if (change.detach)
    parts.push(`detach user-assigned identity ${change.identityName} from ${change.app} (the identity itself is kept)`)
  return `${parts.join(' and ')}${parts.length > 1 ? ', in one write' : ''}${restarts(change)}`
}

/** What an identity change costs the app: App Service restarts it; Container Apps makes no revision. */
function restarts(change: { noRestart?: true }): string {
  return change.noRestart ? ' (no new revision)' : ' (the app restarts)'
}
/** One line per change, for the log and the summary. */

export function describeChange(change: Change): string {
  switch (change.kind) {
    case 'enable-identity':
    case 'disable-identity':
      return `turn ${change.kind === 'enable-identity' ? 'on' : 'off'} the system-assigned identity of ${change.app} (identity type ${change.from} → ${change.to}${change.keepsUserAssigned > 0 ? `, keeping ${change.keepsUserAssigned} user-assigned` : ''}${change.noRestart ? '' : '; the app restarts'})`
    case 'add-access-policy':
    case 'remove-access-policy':
      return `${change.kind === 'add-access-policy' ? 'add to' : 'remove from'} the access policies of vault ${change.vault}: ${change.entries
        .map((e) => `${e.app} (${e.principalId ?? 'new identity'}) ${describePermissions(e.permissions)}`)
        .join('; ')}`
    case 'assign-role':
      return `assign '${change.role.name}' on vault ${change.vault} to ${change.app} (${change.principalId ?? 'new identity'})`
    case 'delete-role-assignment':
      return `delete the '${change.role.name}' assignment ${change.assignmentName} on vault ${change.vault} of ${change.app} (${change.principalId})`
    case 'attach-identity':
    case 'detach-identity':
      return describeIdentityChange(change)
    case 'set-container-secrets': {
      const parts: string[] = []
      if (change.secrets.length > 0)
        parts.push(`set secret(s) ${change.secrets.join(', ')} to Key Vault references read with its identity`)
      if (change.env.length > 0)
        parts.push(`point ${change.env.join(', ')} of every container at them (a new revision)`)
      return `Key Vault secrets of ${change.app}: ${parts.join('; ')} (every other secret kept)`
    }
    case 'set-app-settings': {
      const again = change.refresh.map((r) => `${r.setting} (${r.status})`).join(', ')
      // Without a settings write, the documented refresh call heals cached failures (apply/app-settings.ts).
      if (change.names.length === 0)
        return `Key Vault references of ${change.app}: have App Service resolve ${again} again (the refresh call; the app restarts)`
      const parts = [`set ${change.names.join(', ')} to Key Vault references`]
      if (again) parts.push(`App Service resolves ${again} again with that write`)
      return `app settings of ${change.app}: ${parts.join('; ')} (the whole collection is written back, other settings kept; the app restarts)`
    }
  }
}

/** Who a grant is for: the app, or the user-assigned identity the apps share. */
export function grantee(entry: { app: string; sharedBy?: string[] }): string {
  return entry.sharedBy ? `the user-assigned identity of ${entry.sharedBy.join(', ')}` : entry.app
}

/** What each change is called once made (or, where an attempt's outcome was unclear, may have been). */
export const done = {
  systemIdentity: (
    app: string,
    on: boolean,
    principal: string | undefined,
    keptUserAssigned: boolean,
    restart = true
  ): string =>
    `Turned ${on ? 'on' : 'off'} the system-assigned identity of ${app}${principal ? ` (principal ${principal})` : ''}${keptUserAssigned ? ' (user-assigned identities kept)' : ''}${restart ? '; the app restarts' : ''}.`,
  attached: (change: AttachChange): string => {
    const reference = `keyVaultReferenceIdentity (was ${change.referenceFrom})`
    return change.attach
      ? `Attached user-assigned identity ${change.identityName} to ${change.app} (other identities kept)${change.setReference ? ` and made it the ${reference}` : ''}; one write${change.noRestart ? '' : ', the app restarts'}.`
      : `Set the ${reference} of ${change.app} to ${change.identityName}; the app restarts.`
  },
  detached: (change: DetachChange): string => {
    const reset = change.resetReference ? `keyVaultReferenceIdentity reset to SystemAssigned` : ''
    return change.detach
      ? `Detached user-assigned identity ${change.identityName} from ${change.app} (the identity itself is kept)${reset ? `, ${reset}` : ''}; one write${change.noRestart ? '' : ', the app restarts'}.`
      : `Reset keyVaultReferenceIdentity of ${change.app} to SystemAssigned; the app restarts.`
  },
  /** An attempt got no clear answer, and a fresh read shows the change in place. */
  perhapsByThisRun: (what: string, restart = true): string =>
    `Done, perhaps by this run: ${what} (an attempt of this run got no clear answer${restart ? '; the app restarts on such a write' : ''}).`,
  /** The step failed after an attempt whose outcome is unknown. */
  mayHaveMade: (what: string): string => `Azure may have made this change: ${what} (an attempt got no clear answer).`,
  /** A 202 whose change did not show within the budget. */
  acceptedNotVisible: (what: string): string => `Azure accepted: ${what} (not yet visible on the site).`,
  policyGranted: (who: string, vault: string, permissions: Permissions): string =>
    `Granted ${who} on vault ${vault}: ${describePermissions(permissions)} (access policy).`,
  policyRevoked: (who: string, vault: string, permissions: Permissions): string =>
    `Revoked ${who} on vault ${vault}: ${describePermissions(permissions)} (access policy).`,
  policyRemovalUnconfirmed: (who: string, vault: string, permissions: Permissions): string =>
    `Azure accepted the removal of ${describePermissions(permissions)} of ${who} on vault ${vault} (access policy); reading the vault back failed, so it is not confirmed.`,
  roleGranted: (who: string, vault: string, role: string): string =>
    `Granted ${who} on vault ${vault}: role '${role}'.`,
  roleRevoked: (who: string, vault: string, role: string): string =>
    `Revoked ${who} on vault ${vault}: role '${role}'.`,
  settingsSet: (app: string, names: string[]): string =>
    `Set ${names.join(', ')} of ${app} to Key Vault references (app settings; the app restarts).`,
  settingsMayHaveSet: (app: string, names: string[]): string =>
    `Azure may have set ${names.join(', ')} of ${app} to Key Vault references (app settings): a write got no clear answer (the app restarts on a write).`,
  settingsPerhapsByThisRun: (app: string): string =>
    `The app settings of ${app} hold the Key Vault references asked for; an earlier write of them got no clear answer, so this run may have written them (the app restarts on a write).`,
  resolvedAgainWithWrite: (app: string, names: string[]): string =>
    `App Service resolves ${names.join(', ')} of ${app} again with that write (they had failed).`,
  containerSecretsSet: (app: string, secrets: string[], env: string[]): string =>
    `Set ${[secrets.length > 0 ? `secret(s) ${secrets.join(', ')} to Key Vault references` : '', env.length > 0 ? `${env.join(', ')} of every container to read them (a new revision)` : ''].filter(Boolean).join(' and ')} on ${app}; every other secret kept.`,
  containerSecretsMayHave: (app: string, secrets: string[]): string =>
    `Azure may have set secret(s) ${secrets.join(', ')} of ${app} to Key Vault references: a write got no clear answer.`,
  refreshAsked: (app: string, names: string[]): string =>
    `Asked App Service to resolve ${names.join(', ')} of ${app} again (they had failed; the refresh call restarts the app).`
}
