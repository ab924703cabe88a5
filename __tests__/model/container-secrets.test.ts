// app-settings for container targets: the wanted secrets and env, what differs, and the merged write.
import { describe, expect, it } from '@jest/globals'
import { wiringDiff, wiringOf, withWiring } from '../../src/model/container-secrets.js'

const wanted = [{ name: 'DB_PASSWORD', vault: 'shop-kv', secret: 'DB-Password', value: 'ref' }]
const wiring = wiringOf(wanted, 'system', 'vault.azure.net')
const wired = {
  name: 'db-password',
  keyVaultUrl: 'https://shop-kv.vault.azure.net/secrets/DB-Password',
  identity: 'system'
}

describe('container secrets', () => {
  it('a Key Vault secret becomes a Container Apps secret named in lower case, read with the identity', () => {
    expect(wiring).toEqual([{ env: 'DB_PASSWORD', secret: wired }])
    expect(wiringOf([{ ...wanted[0], version: 'abc' }], '/subscriptions/s/x', 'vault.azure.cn')[0].secret).toEqual({
      name: 'db-password',
      keyVaultUrl: 'https://shop-kv.vault.azure.cn/secrets/DB-Password/abc',
      identity: '/subscriptions/s/x'
    })
  })

  it('the write keeps every other secret (with its value) and env entry, sets ours in every container', () => {
    const config = {
      secrets: [{ name: 'registry', value: 'v' }],
      template: {
        containers: [
          {
            name: 'a',
            env: [
              { name: 'MODE', value: 'x' },
              { name: 'DB_PASSWORD', value: 'old' }
            ]
          },
          { name: 'b' }
        ]
      }
    }
    expect(wiringDiff(config, wiring)).toEqual({ secrets: ['db-password'], env: ['DB_PASSWORD'] })
    const next = withWiring(config, wiring)!
    expect(next.secrets).toEqual([{ name: 'registry', value: 'v' }, wired])
    expect(next.template).toEqual({
      containers: [
        {
          name: 'a',
          env: [
            { name: 'MODE', value: 'x' },
            { name: 'DB_PASSWORD', secretRef: 'db-password' }
          ]
        },
        { name: 'b', env: [{ name: 'DB_PASSWORD', secretRef: 'db-password' }] }
      ]
    })
  })

  it('nothing to write when everything is in place; only the secret when the env is right', () => {
    const done = {
      secrets: [wired],
      template: { containers: [{ env: [{ name: 'DB_PASSWORD', secretRef: 'db-password' }] }] }
    }
    expect(withWiring(done, wiring)).toBeUndefined()
    const otherIdentity = { ...done, secrets: [{ ...wired, identity: '/subscriptions/s/other' }] }
    expect(withWiring(otherIdentity, wiring)).toEqual({ secrets: [wired] })
  })
})
