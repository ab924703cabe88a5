// Inputs `container-app` and `container-app-job`: Azure Container Apps apps and jobs in
// `resource-group`, as targets beside the App Service apps of `app-name`. Names are checked
// before they reach a URL. Their identity (system or user-assigned) is turned on and granted like
// an App Service app's; `app-settings` (Key Vault secrets for them) is App Service-only for now,
// and refused here rather than half done.
import type { AppTarget, TargetKind } from '../model/targets.js'
import { splitList } from './list.js'

/**
 * Microsoft.App names (Azure's resource naming rules, Microsoft.App: containerApps and jobs):
 * 2–32 lowercase letters, digits and hyphens, starting with a letter, ending with a letter or
 * digit, no two hyphens in a row.
 */
const CONTAINER_NAME = /^[a-z](?!.*--)[a-z0-9-]{0,30}[a-z0-9]$/

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
      if (!CONTAINER_NAME.test(entry)) {
        problems.push(
          `'${name}' entry '${entry}' is not a valid ${what} name: 2–32 lowercase letters, digits and hyphens, starting with a letter, ending with a letter or digit, no '--'.`
        )
        continue
      }
      if (seen.has(entry)) continue
      seen.add(entry)
      targets.push({ name: entry, key: `${prefix}:${entry}`, kind })
    }
  }
  return targets
}

/** What container targets cannot do yet, each named with its input. */
export function checkContainerSupport(
  targets: readonly AppTarget[],
  options: { appSettings: boolean },
  problems: string[]
): void {
  if (!targets.some((t) => t.kind)) return
  if (options.appSettings)
    problems.push(
      `'app-settings' writes App Service settings; Key Vault secrets for 'container-app' / 'container-app-job' targets are not supported yet: put container targets in a step without 'app-settings'.`
    )
}
