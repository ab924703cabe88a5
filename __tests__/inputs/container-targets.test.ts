// Inputs `container-app` and `container-app-job`: targets keyed by kind, names checked before any URL.
import { describe, expect, it } from '@jest/globals'
import { checkContainerSupport, parseContainerTargets } from '../../src/inputs/container-targets.js'

const reader = (values: Record<string, string>) => (name: string) => values[name] ?? ''

describe('parseContainerTargets', () => {
  it('apps and jobs, one per line or comma-separated, keyed containerapp:<name> and job:<name>, once each', () => {
    const problems: string[] = []
    const targets = parseContainerTargets(
      reader({ 'container-app': 'api, web\napi', 'container-app-job': 'nightly' }),
      problems
    )
    expect(problems).toEqual([])
    expect(targets).toEqual([
      { name: 'api', key: 'containerapp:api', kind: 'containerapp' },
      { name: 'web', key: 'containerapp:web', kind: 'containerapp' },
      { name: 'nightly', key: 'job:nightly', kind: 'job' }
    ])
  })

  it.each(['Api', 'a', '1api', 'api-', 'a--b', 'x'.repeat(33), 'api?x=1'])(
    "'%s' is not a container app name, and never becomes a target",
    (name) => {
      const problems: string[] = []
      expect(parseContainerTargets(reader({ 'container-app': name }), problems)).toEqual([])
      expect(problems).toEqual([
        `'container-app' entry '${name}' is not a valid container app name: 2–32 lowercase letters, digits and hyphens, starting with a letter, ending with a letter or digit, no '--'.`
      ])
    }
  )
})

describe('container-app slots', () => {
  it("'name/slot' is refused: Container Apps have no slots", () => {
    const problems: string[] = []
    expect(parseContainerTargets(reader({ 'container-app': 'api/staging' }), problems)).toEqual([])
    expect(problems[0]).toContain(
      "'container-app' entry 'api/staging' names a slot: Container Apps have no deployment slots"
    )
  })
})

describe('checkContainerSupport', () => {
  it('refuses what container targets do not support yet, and says nothing without them', () => {
    const problems: string[] = []
    checkContainerSupport([{ name: 'web', key: 'web' }], { appSettings: true }, problems)
    expect(problems).toEqual([])
    checkContainerSupport(
      [{ name: 'api', key: 'containerapp:api', kind: 'containerapp' }],
      { appSettings: true },
      problems
    )
    expect(problems).toEqual([
      "'app-settings' writes App Service settings; Key Vault secrets for 'container-app' / 'container-app-job' targets are not supported yet: put container targets in a step without 'app-settings'."
    ])
  })
})
