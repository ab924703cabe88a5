// The container targets' part of the plan with `app-settings`: which Key Vault secrets and env
// variables each container app or job does not have yet as asked. Pure.
import type { ContainerSecretsChange } from '../model/changes.js'
import { wiringDiff, wiringOf } from '../model/container-secrets.js'
import type { WantedSetting } from '../model/references.js'
import type { CurrentState } from '../model/state.js'

export function planContainerSecrets(
  wanted: readonly WantedSetting[],
  state: CurrentState,
  keyVaultSuffix: string
): ContainerSecretsChange[] {
  if (wanted.length === 0) return []
  const identity = state.userIdentity?.id ?? 'system'
  const wiring = wiringOf(wanted, identity, keyVaultSuffix)
  return state.apps
    .filter((app) => app.target.kind)
    .flatMap((app) => {
      const config = state.containerConfigs?.get(app.target.key) ?? { secrets: [], template: {} }
      const { secrets, env } = wiringDiff(config, wiring)
      if (secrets.length === 0 && env.length === 0) return []
      return [{ kind: 'set-container-secrets' as const, app: app.target.key, secrets, env }]
    })
}
