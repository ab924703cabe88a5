// Inputs `container-app` and `container-app-job`: targets keyed by kind, names checked before any URL.
import { describe, expect, it } from '@jest/globals'
import { checkContainerSecretNames, parseContainerTargets } from '../../src/inputs/container-targets.js'

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

describe('checkContainerSecretNames', () => {
  const w = (name: string, vault: string, secret: string) => ({ name, vault, secret, value: `ref ${vault} ${secret}` })
  const api = [{ name: 'api', key: 'containerapp:api', kind: 'containerapp' as const }]

  it('two Key Vault secrets that would share a Container Apps secret name are an input error', () => {
    const problems: string[] = []
    checkContainerSecretNames(api, [w('A', 'kv1', 'db'), w('B', 'kv2', 'DB')], problems)
    expect(problems).toEqual([
      "'app-settings' sets 'A' and 'B' from different Key Vault secrets that would share the Container Apps secret name 'db' (the Key Vault secret name in lower case): use one Key Vault secret for both, or rename one."
    ])
  })

  it('the same Key Vault secret for two variables, or no container target, is fine', () => {
    const problems: string[] = []
    checkContainerSecretNames(api, [w('A', 'kv1', 'db'), w('B', 'kv1', 'db')], problems)
    checkContainerSecretNames([{ name: 'web', key: 'web' }], [w('A', 'kv1', 'db'), w('B', 'kv2', 'DB')], problems)
    expect(problems).toEqual([])
  })
})
