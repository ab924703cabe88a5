// Reads what is there now: every app (or slot) and every vault at the same time (with App
// Service's view of each app's Key Vault references when the run concerns them), then, for vaults
// that use RBAC, the role assignments at the vault's scope or above, and the secrets that
// `app-settings` names.
import { RestError } from '@azure/core-rest-pipeline'
import type { AppConfigurationReferences } from '../model/app-configuration-references.js'
import { type UserIdentity } from '../model/state.js'
import type { CurrentState, RoleAssignment, SecretCheck } from '../model/state.js'
import type { AppState } from '../model/state.js'
import { type VaultState } from '../model/state.js'
import { during, onTarget } from '../azure/operation.js'
import type { ContainerConfig } from '../model/container-secrets.js'
import type { AppTarget } from '../model/targets.js'
import type { Inputs } from '../inputs/inputs.js'
import type { Azure } from '../azure/clients.js'

/** References are read when settings are to be written, and for verify (the gate) and revoke (the warning). */
function concernsReferences(inputs: Inputs): boolean {
  return inputs.appSettings.length > 0 || inputs.mode === 'verify' || inputs.mode === 'revoke'
}

export async function readState(inputs: Inputs, azure: Azure): Promise<CurrentState> {
  // Each kind of target through its own client; the state the plan gets is the same shape.
  const containerConfigs = new Map<string, ContainerConfig>()
  const appReads = inputs.apps.map((target) =>
    during(onTarget(inputs, target, 'read'), async () => {
      if (!target.kind) return azure.sites.read(target)
      const { app, config } = await azure.containerApps().readTarget(target)
      containerConfigs.set(target.key, config)
      return app
    })
  )
  // Key Vault references and App Configuration references are App Service's.
  const sites = inputs.apps.filter((target) => !target.kind)
  const vaultReads = inputs.vaults.map((target) =>
    during({ action: 'read', kind: 'vault', vault: target, inputs: inputs }, () =>
      azure.vaults(target.subscriptionId).read(target)
    )
  )
  const referenceReads = concernsReferences(inputs)
    ? sites.map((target) =>
        during(
          onTarget(inputs, target, 'read the Key Vault references of'),
          async () => [target.key, await azure.siteConfig.listReferences(target)] as const
        )
      )
    : []
  const { identity } = inputs
  const identityRead =
    identity.kind === 'user'
      ? during({ action: 'read', kind: 'identity', identity, inputs: inputs }, () => azure.identities().get(identity))
      : Promise.resolve(undefined)
  const [apps, vaults, references, userIdentity, appConfigReferences] = await Promise.all([
    Promise.all(appReads),
    Promise.all(vaultReads),
    Promise.all(referenceReads),
    identityRead,
    readAppConfigurationReferences(inputs, azure, sites)
  ])
  const [assignments, secrets] = await Promise.all([
    readAssignments(inputs, azure, apps, vaults, userIdentity),
    readSecrets(inputs, azure, vaults)
  ])
  return {
    apps,
    vaults,
    assignments,
    references: new Map(references),
    secrets,
    userIdentity,
    appConfigReferences,
    ...(containerConfigs.size > 0 ? { containerConfigs } : {})
  }
}

/**
 * The names of App Configuration references, when the run may change the identity they resolve
 * through: a user-assigned `identity` (keyVaultReferenceIdentity is set or reset) or revoke with
 * disable-identity. Reading them needs config/list/action (and no ReadOnly lock); without it they
 * are unknown, not an error.
 */
async function readAppConfigurationReferences(
  inputs: Inputs,
  azure: Azure,
  sites: AppTarget[]
): Promise<AppConfigurationReferences | undefined> {
  const mayChange = inputs.identity.kind === 'user' || (inputs.mode === 'revoke' && inputs.disableIdentity)
  if (!mayChange) return undefined
  const entries = await Promise.all(
    sites.map((target) =>
      during(onTarget(inputs, target, 'read the settings (App Configuration references) of'), async () => {
        try {
          return [target.key, await azure.siteConfig.listAppConfigurationReferences(target)] as const
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
  inputs: Inputs,
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
      const list = await during(
        { action: 'list role assignments', kind: 'vault', vault: vault.target, inputs: inputs },
        () => roles.listAtOrAbove(vault.id)
      )
      assignments.set(vault.id.toLowerCase(), list)
    })
  )
  return assignments
}

/** Before any write, the secrets to reference must exist (their metadata only: no value is read). */
async function readSecrets(inputs: Inputs, azure: Azure, vaults: VaultState[]): Promise<SecretCheck[]> {
  if (inputs.mode !== 'apply' && inputs.mode !== 'plan') return []
  const pairs = new Map<string, { vault: VaultState; secret: string }>()
  for (const wanted of inputs.appSettings) {
    const vault = vaults.find((v) => v.name.toLowerCase() === wanted.vault.toLowerCase())
    if (vault) pairs.set(`${vault.id.toLowerCase()}/${wanted.secret.toLowerCase()}`, { vault, secret: wanted.secret })
  }
  return Promise.all(
    [...pairs.values()].map(async ({ vault, secret }) => {
      const info = await during(
        { action: `read secret '${secret}' of`, kind: 'vault', vault: vault.target, inputs: inputs },
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
