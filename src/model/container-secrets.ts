// `app-settings` for Azure Container Apps targets: each `NAME=SECRET` line becomes a Container
// Apps secret that references the Key Vault secret through the app's identity
// (`configuration.secrets[]`: `{name, keyVaultUrl, identity}`) and an environment variable NAME of
// every container of the template that reads it (`env[]`: `{name, secretRef}`). ContainerApps.json
// 2025-07-01 (Secret, EnvironmentVar). Pure: what
// is wanted, what differs, and the merged write — every other secret and env entry kept as it is.
import type { WantedSetting } from './references.js'

/** A Container Apps secret as this run wants it. */
export interface WiredSecret {
  name: string
  keyVaultUrl: string
  /** `system`, or a user-assigned identity's resource id. */
  identity: string
}

export interface Wiring {
  /** The environment variable each container gets. */
  env: string
  secret: WiredSecret
}

/** What a container app or job holds now: secrets as GET lists them (no values), and the template. */
export interface ContainerConfig {
  secrets: { name: string; keyVaultUrl?: string; identity?: string; value?: string }[]
  template: Record<string, unknown>
}

/**
 * The Container Apps secret name for a Key Vault secret: its name in lower case (Key Vault names
 * are letters, digits and hyphens; Container Apps names lowercase letters, digits, '-' and '.').
 */
export function containerSecretName(secret: string): string {
  return secret.toLowerCase()
}

export function wiringOf(wanted: readonly WantedSetting[], identity: string, keyVaultSuffix: string): Wiring[] {
  return wanted.map((w) => ({
    env: w.name,
    secret: {
      name: containerSecretName(w.secret),
      keyVaultUrl: `https://${w.vault}.${keyVaultSuffix}/secrets/${w.secret}${w.version ? `/${w.version}` : ''}`,
      identity
    }
  }))
}

interface EnvVar {
  name: string
  value?: string
  secretRef?: string
}
interface Container {
  env?: EnvVar[]
  [key: string]: unknown
}

const lc = (s: string | undefined): string => (s ?? '').toLowerCase()

/** The secrets and env variables of `config` that are not yet as `wiring` wants them (names only). */
export function wiringDiff(config: ContainerConfig, wiring: readonly Wiring[]): { secrets: string[]; env: string[] } {
  const secrets = wiring
    .filter(({ secret }) => {
      const held = config.secrets.find((s) => s.name === secret.name)
      return !held || held.keyVaultUrl !== secret.keyVaultUrl || lc(held.identity) !== lc(secret.identity)
    })
    .map((w) => w.secret.name)
  const containers = (config.template.containers ?? []) as Container[]
  const env = wiring
    .filter(({ env, secret }) =>
      containers.some(
        (c) => !(c.env ?? []).some((e) => e.name === env && e.secretRef === secret.name && e.value === undefined)
      )
    )
    .map((w) => w.env)
  return { secrets: [...new Set(secrets)], env }
}

/**
 * The write: every secret the app has, with its value (from listSecrets) or its Key Vault URL, ours
 * set; every container's env with ours set; undefined when nothing differs.
 */
export function withWiring(
  config: ContainerConfig,
  wiring: readonly Wiring[]
): { secrets: ContainerConfig['secrets']; template?: Record<string, unknown> } | undefined {
  const diff = wiringDiff(config, wiring)
  if (diff.secrets.length === 0 && diff.env.length === 0) return undefined
  const ours = new Map(wiring.map((w) => [w.secret.name, w.secret]))
  const secrets = [...config.secrets.filter((s) => !ours.has(s.name)), ...[...ours.values()].map((s) => ({ ...s }))]
  if (diff.env.length === 0) return { secrets }
  const containers = ((config.template.containers ?? []) as Container[]).map((c) => {
    const env = (c.env ?? []).filter((e) => !wiring.some((w) => w.env === e.name))
    return { ...c, env: [...env, ...wiring.map((w) => ({ name: w.env, secretRef: w.secret.name }))] }
  })
  return { secrets, template: { ...config.template, containers } }
}
