// Microsoft.KeyVault/vaults/secrets on the control plane: GET one and list, metadata only.
//
// Shape from @azure/arm-keyvault 5.0.0 (api-version 2026-02-01) and the spec example
// specification/keyvault/resource-manager/Microsoft.KeyVault/KeyVault/examples/2026-02-01/getSecret.json:
// {id, name, type, location, properties: {attributes: {enabled, created, updated} (unix seconds),
// secretUri, secretUriWithVersion}}. `value` is never returned ("'value' will never be returned
// from the service", the model's doc), so the fake has no values at all. There is no
// control-plane API for secret versions: only the latest shows, in secretUriWithVersion.
import { randomBytes } from 'node:crypto'
import { armError, authorize, clone, findResourceGroup, ok, page, resourceNotFound, type ArmContext } from './common.ts'
import type { FakeResponse } from '../core/server.ts'
import { rgId, type State } from '../core/state.ts'
import type { SecretRecord, VaultRecord } from '../core/types.ts'

const TYPE = 'Microsoft.KeyVault/vaults/secrets'
const VERSION = /^[0-9a-f]{32}$/i

export interface SecretSeed {
  /** 32-hex version ids, oldest first (default: one random). */
  versions?: string[]
  /** Default true. A disabled secret keeps its metadata but cannot be read. */
  enabled?: boolean
}

const newVersion = (): string => randomBytes(16).toString('hex')
const now = (): number => Math.floor(Date.now() / 1000)

/**
 * Creates the secret, or on an existing name adds the versions given (one new random version when
 * none are given: a rotation) and applies `enabled` when given.
 */
export function seedSecret(state: State, vault: VaultRecord, name: string, seed: SecretSeed = {}): SecretRecord {
  for (const v of seed.versions ?? []) {
    if (!VERSION.test(v)) throw new Error(`addSecret: version '${v}' is not 32 hex digits`)
  }
  const key = vault.id.toLowerCase()
  const all = state.secrets.get(key) ?? new Map<string, SecretRecord>()
  state.secrets.set(key, all)
  const versions = seed.versions?.length ? seed.versions : [newVersion()]
  const existing = all.get(name.toLowerCase())
  const t = now()
  if (existing) {
    existing.versions.push(
      ...versions.filter((v) => !existing.versions.some((e) => e.toLowerCase() === v.toLowerCase()))
    )
    if (seed.enabled !== undefined) existing.enabled = seed.enabled
    existing.updated = t
    return clone(existing)
  }
  const rec: SecretRecord = { name, versions: [...versions], enabled: seed.enabled ?? true, created: t, updated: t }
  all.set(name.toLowerCase(), rec)
  return clone(rec)
}

// Secret names compare case-insensitively, as Key Vault identifiers do.
export function findSecret(state: State, vault: VaultRecord, name: string): SecretRecord | undefined {
  return state.secrets.get(vault.id.toLowerCase())?.get(name.toLowerCase())
}

// Vault names are globally unique (they are DNS names), so a reference names exactly one vault.
export function findVaultByName(state: State, name: string): VaultRecord | undefined {
  return [...state.vaults.values()].find((v) => v.name.toLowerCase() === name.toLowerCase())
}

function secretBody(vault: VaultRecord, s: SecretRecord): Record<string, unknown> {
  const uri = `${vault.properties.vaultUri.replace(/\/$/, '')}/secrets/${s.name}`
  return {
    id: `${vault.id}/secrets/${s.name}`,
    name: s.name,
    type: TYPE,
    location: vault.location,
    properties: {
      attributes: { enabled: s.enabled, created: s.created, updated: s.updated },
      secretUri: uri,
      secretUriWithVersion: `${uri}/${s.versions[s.versions.length - 1]}`
    }
  }
}

// GET {vault}/secrets[/{name}]
export function handleSecrets(
  ctx: ArmContext,
  sub: string,
  rg: string,
  vaultName: string,
  name?: string
): FakeResponse {
  const { state, req } = ctx
  if (req.method !== 'GET') return armError(405, 'MethodNotAllowed', `The fake supports only GET on ${TYPE}.`)
  const vaultPath = `${rgId(sub, rg)}/providers/Microsoft.KeyVault/vaults/${vaultName}`
  const denied = authorize(ctx, `${TYPE}/read`, `${vaultPath}/secrets${name === undefined ? '' : `/${name}`}`)
  if (denied) return denied
  const noRg = findResourceGroup(ctx, sub, rg)
  if (noRg) return noRg
  const vault = state.vaults.get(vaultPath.toLowerCase())
  if (!vault) return resourceNotFound('Microsoft.KeyVault/vaults', vaultName, rg)
  if (name === undefined) {
    const all = [...(state.secrets.get(vault.id.toLowerCase())?.values() ?? [])]
    return ok(
      page(
        ctx,
        all.map((s) => secretBody(vault, s))
      )
    )
  }
  const secret = findSecret(state, vault, name)
  // The control plane's code for a missing secret: no source found; this is the data
  // plane's code and text (Azure/azure-sdk-for-js#25489). Callers should key off the 404.
  if (!secret)
    return armError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`
    )
  return ok(secretBody(vault, secret))
}
