// Input `app-settings`: one `NAME=SECRET` per line, parsed into the Key Vault references to write.
// SECRET is a secret name in the first vault of `vault-name`, or a full secret URI of one of the
// vaults in `vault-name` (so the run grants the app access to it). No I/O.
import type { Cloud } from './clouds.js'
import { referenceByName, referenceByUri, type WantedSetting } from './references.js'

/** Letters, digits, `_`, `.` and `-`; App Service on Linux turns `.` and `-` into `_` in the environment. */
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/
/** Key Vault object names: 1–127 letters, digits and hyphens. */
const SECRET_NAME = /^[A-Za-z0-9-]{1,127}$/
const VERSION = /^[0-9a-f]{32}$/i

export function parseAppSettings(
  raw: string,
  vaults: readonly string[],
  cloud: Cloud,
  problems: string[]
): WantedSetting[] {
  const wanted: WantedSetting[] = []
  const seen = new Map<string, number>()
  const lines = raw.split(/\r?\n/)
  for (const [index, text] of lines.entries()) {
    const line = text.trim()
    if (!line || line.startsWith('#')) continue
    const where = `'app-settings' line ${index + 1}`
    const eq = line.indexOf('=')
    if (eq < 0) {
      problems.push(`${where} must be NAME=SECRET (a secret name or a secret URI), got '${line}'.`)
      continue
    }
    const name = line.slice(0, eq).trim()
    const value = line.slice(eq + 1).trim()
    if (!SETTING_NAME.test(name)) {
      problems.push(
        `${where} has setting name '${name}': 1–128 letters, digits, '_', '.' or '-', starting with a letter or '_'.`
      )
      continue
    }
    const before = seen.get(name.toLowerCase())
    if (before !== undefined) {
      problems.push(`${where} sets '${name}' again (first on line ${before}); app setting names are case-insensitive.`)
      continue
    }
    seen.set(name.toLowerCase(), index + 1)
    const parsed = value.includes('/') ? fromUri(value, vaults, cloud, where) : fromName(value, vaults, where)
    if (typeof parsed === 'string') problems.push(parsed)
    else wanted.push({ name, ...parsed })
  }
  return wanted
}

type Parsed = Omit<WantedSetting, 'name'>

function fromName(secret: string, vaults: readonly string[], where: string): Parsed | string {
  if (!SECRET_NAME.test(secret)) {
    return `${where} has secret '${secret}': a secret name is 1–127 letters, digits and hyphens, or give a full secret URI.`
  }
  if (vaults.length === 0) return `${where} names secret '${secret}', but 'vault-name' names no vault.`
  return { vault: vaults[0], secret, value: referenceByName(vaults[0], secret) }
}

function fromUri(uri: string, vaults: readonly string[], cloud: Cloud, where: string): Parsed | string {
  const shape = `https://<vault>.${cloud.keyVaultSuffix}/secrets/<name>[/<version>]`
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return `${where} has '${uri}': a secret URI is ${shape}.`
  }
  const host = url.hostname.toLowerCase()
  const vault = host.endsWith(`.${cloud.keyVaultSuffix}`) ? host.slice(0, -cloud.keyVaultSuffix.length - 1) : ''
  const parts = url.pathname.split('/').slice(1)
  const plain = url.protocol === 'https:' && !url.port && !url.search && !url.hash && !url.username && !/[?#]/.test(uri)
  if (!plain || !vault || vault.includes('.') || parts[0] !== 'secrets' || parts.length < 2 || parts.length > 3) {
    return `${where} has '${uri}': a secret URI is ${shape} (the ${cloud.name} Key Vault DNS suffix is ${cloud.keyVaultSuffix}).`
  }
  const [, secret, version] = parts
  if (version === '') {
    return `${where} has '${uri}': remove the trailing slash (App Service does not resolve a versionless secret URI that ends in '/').`
  }
  if (!SECRET_NAME.test(secret))
    return `${where} has '${uri}': the secret name '${secret}' is not 1–127 letters, digits and hyphens.`
  if (version !== undefined && !VERSION.test(version)) {
    return `${where} has '${uri}': the version '${version}' is not a 32-character hexadecimal secret version.`
  }
  const known = vaults.find((v) => v.toLowerCase() === vault)
  if (!known) {
    return `${where} refers to vault '${vault}', which is not in 'vault-name' (${vaults.join(', ') || 'empty'}): add it there, so the app is granted access to it.`
  }
  // Written verbatim: the user's spelling is the reference App Service will report back.
  return { vault: known, secret, version, value: referenceByUri(uri) }
}
