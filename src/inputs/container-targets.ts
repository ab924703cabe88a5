// Inputs `container-app` and `container-app-job`: Azure Container Apps apps and jobs in
// `resource-group`, as targets beside the App Service apps of `app-name`. Names are checked
// before they reach a URL. Their identity (system or user-assigned) is turned on and granted like
// an App Service app's; `app-settings` lines become Key Vault secrets of theirs.
import type { AppTarget, TargetKind } from '../model/targets.js'
import { containerSecretName } from '../model/container-secrets.js'
import type { WantedSetting } from '../model/references.js'
import { splitList } from './list.js'
import { validateContainerName } from './names.js'

const INPUTS: { input: string; kind: TargetKind; prefix: string; what: string }[] = [
  { input: 'container-app', kind: 'containerapp', prefix: 'containerapp', what: 'container app' },
  { input: 'container-app-job', kind: 'job', prefix: 'job', what: 'Container Apps job' }
]

export function parseContainerTargets(input: (name: string) => string, problems: string[]): AppTarget[] {
  const targets: AppTarget[] = []
  for (const { input: name, kind, prefix, what } of INPUTS) {
    const seen = new Set<string>()
    for (const entry of splitList(input(name))) {
      if (entry.includes('/')) {
        problems.push(
          `'${name}' entry '${entry}' names a slot: Container Apps have no deployment slots (use revisions or another app). Give the name alone.`
        )
        continue
      }
      const problem = validateContainerName(name, entry, what)
      if (problem) {
        problems.push(problem)
        continue
      }
      if (seen.has(entry)) continue
      seen.add(entry)
      targets.push({ name: entry, key: `${prefix}:${entry}`, kind })
    }
  }
  return targets
}

/**
 * With container targets, each `app-settings` line becomes a Container Apps secret named after the
 * Key Vault secret in lower case (model/container-secrets.ts): two different Key Vault secrets that
 * would share a name are an input error.
 */
export function checkContainerSecretNames(
  targets: readonly AppTarget[],
  wanted: readonly WantedSetting[],
  problems: string[]
): void {
  if (!targets.some((t) => t.kind)) return
  const seen = new Map<string, WantedSetting>()
  for (const w of wanted) {
    const name = containerSecretName(w.secret)
    const first = seen.get(name)
    if (
      first &&
      `${first.vault}/${first.secret}/${first.version ?? ''}` !== `${w.vault}/${w.secret}/${w.version ?? ''}`
    )
      problems.push(
        `'app-settings' sets '${first.name}' and '${w.name}' from different Key Vault secrets that would share the Container Apps secret name '${name}' (the Key Vault secret name in lower case): use one Key Vault secret for both, or rename one.`
      )
    else if (!first) seen.set(name, w)
  }
}
