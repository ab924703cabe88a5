// Shared builders for unit tests: plain values shaped like what src/read/read.ts produces.
import type { AppState } from '../src/model/state.js'
import type { VaultState } from '../src/model/state.js'
import type { AccessPolicy } from '../src/model/state.js'
import type { RoleAssignment } from '../src/model/state.js'
import type { CurrentState } from '../src/model/state.js'
import { emptyPermissions, type Permissions } from '../src/model/permissions.js'
import type { Inputs } from '../src/inputs/inputs.js'
import type { AppTarget } from '../src/model/targets.js'

export const SUB = '11111111-1111-1111-1111-111111111111'
export const TENANT = '22222222-2222-2222-2222-222222222222'
export const OTHER_TENANT = '99999999-9999-9999-9999-999999999999'
export const CLIENT = '33333333-3333-3333-3333-333333333333'
export const PRINCIPAL = 'aaaaaaaa-0000-0000-0000-000000000001'
export const PRINCIPAL_2 = 'aaaaaaaa-0000-0000-0000-000000000002'

export function perms(partial: Partial<Permissions>): Permissions {
  return { ...emptyPermissions(), ...partial }
}

export function target(name: string, slot?: string): AppTarget {
  return { name, slot, key: slot ? `${name}/${slot}` : name }
}

export function app(name: string, over: Partial<AppState> = {}, slot?: string): AppState {
  const t = target(name, slot)
  return {
    target: t,
    id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/${name}${slot ? `/slots/${slot}` : ''}`,
    kind: 'app',
    identityType: 'SystemAssigned',
    systemAssigned: true,
    userAssignedIds: [],
    principalId: PRINCIPAL,
    tenantId: TENANT,
    ...over
  }
}

/** An app whose system identity is off (no principal yet). */
export function appWithoutIdentity(name: string, over: Partial<AppState> = {}): AppState {
  return app(name, {
    identityType: 'None',
    systemAssigned: false,
    principalId: undefined,
    tenantId: undefined,
    ...over
  })
}

export function vaultId(name: string, rg = 'vault-rg'): string {
  return `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`
}

export function vault(name: string, over: Partial<VaultState> = {}): VaultState {
  return {
    target: { name, resourceGroup: 'vault-rg', subscriptionId: SUB },
    id: vaultId(name),
    name,
    resourceGroup: 'vault-rg',
    subscriptionId: SUB,
    tenantId: TENANT,
    rbac: false,
    accessPolicies: [],
    ...over
  }
}

export function policy(
  objectId: string,
  permissions: Partial<Permissions>,
  over: Partial<AccessPolicy> = {}
): AccessPolicy {
  return { tenantId: TENANT, objectId, permissions, ...over }
}

export function assignment(scope: string, roleGuid: string, principalId = PRINCIPAL): RoleAssignment {
  return {
    id: `${scope}/providers/Microsoft.Authorization/roleAssignments/x`,
    name: 'x',
    scope,
    roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
    principalId,
    principalType: 'ServicePrincipal'
  }
}

export function state(
  apps: AppState[],
  vaults: VaultState[],
  assignments: Record<string, RoleAssignment[]> = {},
  more: Partial<Pick<CurrentState, 'references' | 'secrets'>> = {}
): CurrentState {
  return {
    apps,
    vaults,
    assignments: new Map(Object.entries(assignments).map(([k, v]) => [k.toLowerCase(), v])),
    references: more.references ?? new Map(),
    secrets: more.secrets ?? []
  }
}

export function inputs(over: Partial<Inputs> = {}): Inputs {
  return {
    mode: 'apply',
    disableIdentity: false,
    subscriptionId: SUB,
    resourceGroup: 'rg',
    apps: [target('shop-api')],
    vaults: [{ name: 'shop-kv', resourceGroup: 'vault-rg', subscriptionId: SUB }],
    permissions: perms({ secrets: ['get', 'list'] }),
    accessModel: 'auto',
    authType: 'oidc',
    identity: { kind: 'system' },
    clientId: CLIENT,
    tenantId: TENANT,
    audience: 'api://AzureADTokenExchange',
    cloud: {
      name: 'AzureCloud',
      armEndpoint: 'https://management.azure.com',
      authorityHost: 'https://login.microsoftonline.com',
      armScope: 'https://management.azure.com/.default',
      azCliArmScope: 'https://management.core.windows.net//.default',
      portal: 'https://portal.azure.com',
      keyVaultSuffix: 'vault.azure.net',
      disableInstanceDiscovery: false
    },
    retryTimeoutSeconds: 300,
    appSettings: [],
    prComment: 'auto',
    githubToken: '',
    ...over
  }
}
