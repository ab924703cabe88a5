// Inputs → one typed, validated Inputs value. No I/O: every bad input is reported here, all at
// once, before any network call, naming the input, the bad value and the rule.
import { parseAppSettings } from './app-settings.js'
import { checkContainerSecretNames, parseContainerTargets } from './container-targets.js'
import { type Cloud, parseCloud } from '../model/clouds.js'
import {
  canonicalPermission,
  emptyPermissions,
  PERMISSION_INPUTS,
  PERMISSION_KINDS,
  type Permissions,
  suggestPermission,
  VALID_PERMISSIONS
} from '../model/permissions.js'
import { isGuid, validateAppName, validateResourceGroup, validateSlotName, validateVaultName } from './names.js'
import type { WantedSetting } from '../model/references.js'
import { type AppIdentity, type AuthType, parseIdentity, parseSignIn } from './identity.js'
import type { AppTarget, VaultTarget } from '../model/targets.js'
import { splitList } from './list.js'

export type AccessModelInput = 'auto' | 'access-policy' | 'rbac'
export const MODES = ['apply', 'plan', 'verify', 'revoke'] as const
export type Mode = (typeof MODES)[number]

export interface Inputs {
  mode: Mode
  /** revoke only: also turn the system-assigned identity off. */
  disableIdentity: boolean
  subscriptionId: string
  resourceGroup: string
  apps: AppTarget[]
  vaults: VaultTarget[]
  permissions: Permissions
  accessModel: AccessModelInput
  /** How the run signs in: GitHub OIDC, the runner's managed identity, or an az session. */
  authType: AuthType
  /** oidc: who signs in; managed-identity: the runner's user-assigned identity ('' = system-assigned). */
  clientId: string
  /** oidc: the tenant to sign in to; otherwise '' until the token tells. */
  tenantId: string
  audience: string
  /** The identity the apps get and that is granted access. */
  identity: AppIdentity
  cloud: Cloud
  /** Total time for retries of throttled, failed or conflicting requests. */
  retryTimeoutSeconds: number
  /** App settings to make Key Vault references (input `app-settings`); empty when unset. */
  appSettings: WantedSetting[]
  /** Whether to post the plan on the pull request: `auto` (plan and verify on pull_request events), `true`, `false`. */
  prComment: PrComment
  /** For the pull-request comment (input `github-token`, default the job's GITHUB_TOKEN). */
  githubToken: string
}

export type PrComment = 'auto' | 'true' | 'false'

export class InputError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(
      problems.length === 1
        ? `Invalid input: ${problems[0]}`
        : `Invalid inputs:\n${problems.map((p) => `  - ${p}`).join('\n')}`
    )
    this.name = 'InputError'
    this.problems = problems
  }
}

/** Reads one input, trimmed ('' when unset), as core.getInput does. */
export type InputReader = (name: string) => string

export function parseInputs(input: InputReader, env: NodeJS.ProcessEnv = process.env): Inputs {
  const problems: string[] = []
  const required = (name: string, fallbackEnv?: string): string => {
    const value = input(name) || (fallbackEnv ? (env[fallbackEnv] ?? '').trim() : '')
    if (!value) {
      const from = fallbackEnv ? ` (or set the ${fallbackEnv} environment variable)` : ''
      problems.push(`'${name}' is required${from}.`)
    }
    return value
  }
  const guid = (name: string, value: string): string => {
    if (value && !isGuid(value)) {
      problems.push(`'${name}' must be a GUID such as 00000000-0000-0000-0000-000000000000, got '${value}'.`)
    }
    return value.toLowerCase()
  }
  const check = (problem: string | undefined): void => {
    if (problem) problems.push(problem)
  }

  const subscriptionId = guid('subscription-id', required('subscription-id', 'AZURE_SUBSCRIPTION_ID'))
  const resourceGroup = required('resource-group')
  if (resourceGroup) check(validateResourceGroup('resource-group', resourceGroup))

  const slotInput = input('slot')
  if (slotInput) check(validateSlotName('slot', slotInput))
  const containers = parseContainerTargets(input, problems)
  const appNames = input('app-name')
  if (!appNames && containers.length === 0)
    problems.push(`'app-name' is required (or 'container-app' / 'container-app-job' for Azure Container Apps).`)
  const apps = [
    ...(appNames ? parseApps(nonEmptyList('app-name', appNames, problems), slotInput, problems) : []),
    ...containers
  ]

  const vaultRg = input('vault-resource-group')
  if (vaultRg) check(validateResourceGroup('vault-resource-group', vaultRg))
  const vaultSubscription = input('vault-subscription-id')
    ? guid('vault-subscription-id', input('vault-subscription-id'))
    : subscriptionId
  const vaults = splitList(nonEmptyList('vault-name', required('vault-name'), problems)).map((name) => {
    check(validateVaultName('vault-name', name))
    return { name, resourceGroup: vaultRg || undefined, subscriptionId: vaultSubscription }
  })

  const permissions = parsePermissions(input, problems)
  const accessModel = parseChoice(
    input('access-model') || 'auto',
    'access-model',
    ['auto', 'access-policy', 'rbac'],
    problems
  )
  const signIn = parseSignIn(input, env, problems)
  const identity = parseIdentity(input, { subscriptionId, resourceGroup }, problems)
  const cloud = parseCloud(input, problems)
  const mode = parseChoice(input('mode') || 'apply', 'mode', [...MODES], problems) as Mode
  const disableIdentity = parseBoolean(input('disable-identity') || 'false', 'disable-identity', problems)
  if (disableIdentity && mode !== 'revoke') {
    problems.push(`'disable-identity' is only used with 'mode: revoke', got mode '${mode}'.`)
  }
  const retryTimeoutSeconds = parseSeconds(input('retry-timeout') || '300', 'retry-timeout', problems)
  const prComment = parseChoice(
    input('pr-comment') || 'auto',
    'pr-comment',
    ['auto', 'true', 'false'],
    problems
  ) as PrComment
  const githubToken = input('github-token')
  const appSettings = parseAppSettings(
    input('app-settings'),
    vaults.map((v) => v.name),
    cloud,
    problems
  )

  checkContainerSecretNames(apps, appSettings, problems)
  if (problems.length > 0) throw new InputError(problems)
  return {
    mode,
    disableIdentity,
    subscriptionId,
    resourceGroup,
    apps,
    vaults: dedupe(vaults, (v) => v.name.toLowerCase()),
    permissions,
    accessModel: accessModel as AccessModelInput,
    ...signIn,
    identity,
    cloud,
    retryTimeoutSeconds,
    appSettings,
    prComment,
    githubToken
  }
}

/**
 * A list input that is set but names nothing (`,` or `, ` — what `${{ vars.A }},${{ vars.B }}`
 * gives when both are unset) would pass as an empty list: verify would verify nothing and exit 0.
 */
function nonEmptyList(name: string, value: string, problems: string[]): string {
  if (value && splitList(value).length === 0) {
    problems.push(
      `'${name}' names nothing: ${JSON.stringify(value)} holds only separators (an unset variable in \`\${{ vars.A }},\${{ vars.B }}\` gives this). ` +
        `Give at least one name, one per line or comma-separated.`
    )
  }
  return value
}

function parseApps(value: string, defaultSlot: string, problems: string[]): AppTarget[] {
  const apps: AppTarget[] = []
  for (const entry of splitList(value)) {
    const parts = entry.split('/')
    if (parts.length > 2) {
      problems.push(`'app-name' entry '${entry}' must be 'name' or 'name/slot'.`)
      continue
    }
    const [name, ownSlot] = parts
    const before = problems.length
    const nameProblem = validateAppName('app-name', name)
    if (nameProblem) problems.push(nameProblem)
    if (ownSlot !== undefined) {
      const slotProblem = validateSlotName('app-name', ownSlot)
      if (slotProblem) problems.push(slotProblem)
    }
    if (problems.length > before) continue
    const slot = ownSlot ?? (defaultSlot || undefined)
    apps.push({ name, slot, key: slot ? `${name}/${slot}` : name })
  }
  return dedupe(apps, (a) => a.key.toLowerCase())
}

function parsePermissions(input: InputReader, problems: string[]): Permissions {
  const permissions = emptyPermissions()
  // `get,list` on secrets is the default only when no permission input is set at all, so that a
  // keys-only or certificates-only grant is possible.
  const noneGiven = PERMISSION_KINDS.every((kind) => input(PERMISSION_INPUTS[kind]) === '')
  for (const kind of PERMISSION_KINDS) {
    const name = PERMISSION_INPUTS[kind]
    const raw = kind === 'secrets' && noneGiven ? 'get,list' : input(name)
    for (const item of raw.split(/[\s,]+/).filter((s) => s.length > 0)) {
      const canonical = canonicalPermission(kind, item)
      if (canonical) {
        if (!permissions[kind].includes(canonical)) permissions[kind].push(canonical)
        continue
      }
      const hint = suggestPermission(kind, item)
      problems.push(
        `'${name}' has unknown permission '${item}'.${hint ? ` Did you mean '${hint}'?` : ''} ` +
          `Valid: ${VALID_PERMISSIONS[kind].join(', ')}.`
      )
    }
  }
  const none = PERMISSION_KINDS.every((kind) => permissions[kind].length === 0)
  const allParsed = !problems.some((p) => p.includes('unknown permission'))
  if (none && allParsed) {
    problems.push(`No permission requested: set at least one of ${Object.values(PERMISSION_INPUTS).join(', ')}.`)
  }
  return permissions
}

/** The YAML 1.2 core schema booleans, as core.getBooleanInput accepts them. */
function parseBoolean(value: string, name: string, problems: string[]): boolean {
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  problems.push(`'${name}' must be true or false, got '${value}'.`)
  return false
}

function parseSeconds(value: string, name: string, problems: string[]): number {
  const seconds = Number(value)
  if (!/^\d+$/.test(value) || seconds < 1 || seconds > 3600) {
    problems.push(`'${name}' must be a whole number of seconds from 1 to 3600, got '${value}'.`)
  }
  return seconds
}

function parseChoice(value: string, name: string, choices: string[], problems: string[]): string {
  const lower = value.toLowerCase()
  if (!choices.includes(lower)) {
    problems.push(`'${name}' must be one of ${choices.join(', ')}, got '${value}'.`)
  }
  return lower
}

function dedupe<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>()
  return items.filter((item) => {
    const k = key(item)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
