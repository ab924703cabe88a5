// In-process use of the action's own Azure clients (src/azure/*) against the fake: the real SDKs,
// the real pipeline (retries, budget, error shapes), over HTTPS.
import type { TokenCredential } from '@azure/core-auth'
import { ClientAssertionCredential } from '@azure/identity'
import { afterEach, beforeEach } from '@jest/globals'
import type { Cloud } from '../../src/model/clouds.js'
import { SharedTokenCredential } from '../../src/signin/credential.js'
import type { FakeAzure } from '../fake-azure/index.ts'
import { getAssertion, trustFakeCa } from '../fake-azure/tests/helpers.ts'

export function cloudOf(fake: FakeAzure): Cloud {
  return {
    name: 'AzureCloud',
    armEndpoint: fake.armEndpoint,
    authorityHost: fake.authorityHost,
    armScope: 'https://management.azure.com/.default',
    azCliArmScope: 'https://management.core.windows.net//.default',
    portal: 'https://portal.azure.com',
    keyVaultSuffix: 'vault.azure.net',
    disableInstanceDiscovery: true
  }
}

export function credentialFor(fake: FakeAzure): TokenCredential {
  trustFakeCa(fake)
  return new SharedTokenCredential(
    new ClientAssertionCredential(fake.tenantId, fake.clientId, getAssertion(fake), {
      authorityHost: fake.authorityHost,
      disableInstanceDiscovery: true
    })
  )
}

/** The workflow commands the code under test printed (`::warning::…` lines), collected per test. */
export function captureCommands(): { lines: string[]; warnings: () => string[] } {
  const lines: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  let restore: (() => void) | undefined
  beforeEach(() => {
    lines.length = 0
    process.stdout.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined
      done?.()
      return true
    }
    restore = () => {
      process.stdout.write = write
    }
  })
  afterEach(() => restore?.())
  return {
    lines,
    warnings: () => lines.filter((l) => l.startsWith('::warning::')).map((l) => l.slice('::warning::'.length))
  }
}
