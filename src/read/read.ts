// Reads what is there now: every app (or slot) and every vault at the same time (with App
// Service's view of each app's Key Vault references when the run concerns them), then, for vaults
// that use RBAC, the role assignments at the vault's scope or above, and the secrets that
// `app-settings` names.
import type { TokenCredential } from '@azure/core-auth'
import { RestError } from '@azure/core-rest-pipeline'
import type { AppConfigurationReferences } from '../model/app-configuration-references.js'
import { AppConfig } from '../azure/site-config.js'
import { UserAssignedIdentities, type UserIdentity } from '../azure/identities.js'
import type { RetryBudget } from '../azure/http/budget.js'
import type { RoleAssignment, RoleAssignments } from '../azure/role-assignments.js'
import { type AppState, Sites, webSites } from '../azure/sites.js'
import { Vaults, type VaultState } from '../azure/vaults.js'
import { during, type OperationContext } from '../diagnose/explain.js'
import { PENDING, type ReferenceState } from '../model/references.js'
import type { AppTarget, Settings } from '../inputs/inputs.js'

export interface Azure {
  sites: Sites
  appConfig: AppConfig
  /** The user-assigned identity client, made on first use: only runs with `identity` need it. */
  identities: () => UserAssignedIdentities
  vaults: (subscriptionId: string) => Vaults
  /** The RBAC client, loaded on first use: most runs never need it. */
  roles: () => Promise<RoleAssignments>
}

export function connect(settings: Settings, credential: TokenCredential, budget: RetryBudget): Azure {
  const { cloud } = settings
  const vaultClients = new Map<string, Vaults>()
  let roles: Promise<RoleAssignments> | undefined
  let identities: UserAssignedIdentities | undefined
  const web = webSites(credential, cloud, budget, settings.subscriptionId)
  return {
    sites: new Sites(web, budget, settings.resourceGroup),
    appConfig: new AppConfig(web, settings.resourceGroup),
    identities: () => (identities ??= new UserAssignedIdentities(credential, cloud, budget)),
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

/** A secret `app-settings` names, as the vault's control plane knows it. */
export interface SecretCheck {
  vault: string
  secret: string
  exists: boolean
  enabled: boolean
  currentVersion?: string
}

export interface CurrentState {
  apps: AppState[]
  vaults: VaultState[]
  /** Role assignments at or above each RBAC vault's scope, by vault id (lower case). */
  assignments: Map<string, RoleAssignment[]>
  /** App Service's Key Vault references of each app, by app key; only when the run concerns them. */
  references: Map<string, ReferenceState[]>
  /** The secrets `app-settings` names (apply and plan). */
  secrets: SecretCheck[]
  /** With a user-assigned `identity`: that identity, whose principal is granted. */
  userIdentity?: UserIdentity
  /** Settings and connection strings that are App Configuration references, when the run may change their identity. */
  appConfigReferences?: AppConfigurationReferences
}

/** The operation context for errors about an app or slot. */
export function onTarget(settings: Settings, target: AppTarget, action: string): OperationContext {
  return { action, kind: target.slot ? 'slot' : 'app', target, settings }
}

/**
 * An app's references, read again (backing off from 1 s to 5 s) while `pending` holds and the
 * budget lasts; `first` is the last read already made, if any. Returns the last read.
 */
export async function pollReferences(
  settings: Settings,
  azure: Azure,
  budget: RetryBudget,
  target: AppTarget,
  first: ReferenceState[] | undefined,
  pending: (refs: ReferenceState[]) => boolean
): Promise<ReferenceState[]> {
  const read = (): Promise<ReferenceState[]> =>
    during(onTarget(settings, target, 'read the Key Vault references of'), () => azure.appConfig.listReferences(target))
  let refs = first ?? (await read())
  let delay = 1000
  while (pending(refs)) {
    await budget.wait(delay)
    if (budget.expired) break
    delay = Math.min(delay * 2, 5000)
    refs = await read()
  }
  return refs
}

/**
 * Reads an app's references again until none is `Initialized` (App Service is resolving them
 * after a configuration change), or the budget is spent: a gate judges final statuses only.
 */
export async function settledReferences(
  settings: Settings,
  azure: Azure,
  budget: RetryBudget,
  references: Map<string, ReferenceState[]>
): Promise<Map<string, ReferenceState[]>> {
  const settled = new Map(references)
  await Promise.all(
    settings.apps.map(async (target) => {
      const first = settled.get(target.key) ?? []
      const refs = await pollReferences(settings, azure, budget, target, first, (list) =>
        list.some((r) => r.status === PENDING)
      )
      if (refs !== first) settled.set(target.key, refs)
    })
  )
  return settled
}

/** References are read when settings are to be written, and for verify (the gate) and revoke (the warning). */
function concernsReferences(settings: Settings): boolean {
  return settings.appSettings.length > 0 || settings.mode === 'verify' || settings.mode === 'revoke'
}

export async function readState(settings: Settings, azure: Azure): Promise<CurrentState> {
  const appReads = settings.apps.map((target) =>
    during(onTarget(settings, target, 'read'), () => azure.sites.read(target))
  )
  const vaultReads = settings.vaults.map((target) =>
    during({ action: 'read', kind: 'vault', vault: target, settings }, () =>
      azure.vaults(target.subscriptionId).read(target)
    )
  )
  const referenceReads = concernsReferences(settings)
    ? settings.apps.map((target) =>
        during(
          onTarget(settings, target, 'read the Key Vault references of'),
          async () => [target.key, await azure.appConfig.listReferences(target)] as const
        )
      )
    : []
  const { identity } = settings
  const identityRead =
    identity.kind === 'user'
      ? during({ action: 'read', kind: 'identity', identity, settings }, () => azure.identities().get(identity))
      : Promise.resolve(undefined)
  const [apps, vaults, references, userIdentity, appConfigReferences] = await Promise.all([
    Promise.all(appReads),
    Promise.all(vaultReads),
    Promise.all(referenceReads),
    identityRead,
    readAppConfigurationReferences(settings, azure)
  ])
  const [assignments, secrets] = await Promise.all([
    readAssignments(settings, azure, apps, vaults, userIdentity),
    readSecrets(settings, azure, vaults)
  ])
  return { apps, vaults, assignments, references: new Map(references), secrets, userIdentity, appConfigReferences }
}

/**
 * The names of App Configuration references, when the run may change the identity they resolve
 * through: a user-assigned `identity` (keyVaultReferenceIdentity is set or reset) or revoke with
 * disable-identity. Reading them needs config/list/action (and no ReadOnly lock); without it they
 * are unknown, not an error.
 */
async function readAppConfigurationReferences(
  settings: Settings,
  azure: Azure
): Promise<AppConfigurationReferences | undefined> {
  const mayChange = settings.identity.kind === 'user' || (settings.mode === 'revoke' && settings.disableIdentity)
  if (!mayChange) return undefined
  const entries = await Promise.all(
    settings.apps.map((target) =>
      during(onTarget(settings, target, 'read the settings (App Configuration references) of'), async () => {
        try {
          return [target.key, await azure.appConfig.listAppConfigurationReferences(target)] as const
        } catch (error) {
          // 403: no config/list/action; 409: a ReadOnly lock refuses the POST …/list too. Advisory: unknown.
          if (error instanceof RestError && (error.statusCode === 403 || error.statusCode === 409))
            return [target.key, undefined] as const
          throw error
        }
      })
    )
  )
  return new Map(entries)
}

/** A principal that does not exist yet holds nothing: assignments are listed only for known ones. */
async function readAssignments(
  settings: Settings,
  azure: Azure,
  apps: AppState[],
  vaults: VaultState[],
  userIdentity: UserIdentity | undefined
): Promise<Map<string, RoleAssignment[]>> {
  const assignments = new Map<string, RoleAssignment[]>()
  const rbacVaults = vaults.filter((vault) => vault.rbac)
  if (!(userIdentity || apps.some((app) => app.principalId)) || rbacVaults.length === 0) return assignments
  const roles = await azure.roles()
  await Promise.all(
    rbacVaults.map(async (vault) => {
      const list = await during({ action: 'list role assignments', kind: 'vault', vault: vault.target, settings }, () =>
        roles.listAtOrAbove(vault.id)
      )
      assignments.set(vault.id.toLowerCase(), list)
    })
  )
  return assignments
}

/** Before any write, the secrets to reference must exist (their metadata only: no value is read). */
async function readSecrets(settings: Settings, azure: Azure, vaults: VaultState[]): Promise<SecretCheck[]> {
  if (settings.mode !== 'apply' && settings.mode !== 'plan') return []
  const pairs = new Map<string, { vault: VaultState; secret: string }>()
  for (const wanted of settings.appSettings) {
    const vault = vaults.find((v) => v.name.toLowerCase() === wanted.vault.toLowerCase())
    if (vault) pairs.set(`${vault.id.toLowerCase()}/${wanted.secret.toLowerCase()}`, { vault, secret: wanted.secret })
  }
  return Promise.all(
    [...pairs.values()].map(async ({ vault, secret }) => {
      const info = await during(
        { action: `read secret '${secret}' of`, kind: 'vault', vault: vault.target, settings },
        () => azure.vaults(vault.subscriptionId).secret(vault, secret)
      )
      return {
        vault: vault.name,
        secret,
        exists: info !== undefined,
        enabled: info?.enabled ?? false,
        currentVersion: info?.currentVersion
      }
    })
  )
}
