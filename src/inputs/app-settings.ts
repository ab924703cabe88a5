// Input `app-settings`: one `NAME=SECRET` per line, parsed into the Key Vault references to write.
// SECRET is a secret name in the first vault of `vault-name`, or a full secret URI of one of the
// vaults in `vault-name` (so the run grants the app access to it). No I/O. A value that is neither
// may be a secret typed in by mistake: it is refused without ever being quoted, and only a valid
// secret name goes on (to the vault's secrets URL and into the reference).
import { type Cloud, cloudOfVaultHost } from '../model/clouds.js'
import { referenceByName, referenceByUri, type WantedSetting } from '../model/references.js'

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
    // A line may hold a secret typed in by mistake: messages name the line and the setting, never
    // the text after '=' (nor a line without '=', nor a name that is not one).
    const where = `'app-settings' line ${index + 1}`
    const eq = line.indexOf('=')
    if (eq < 0) {
      problems.push(`${where} must be NAME=SECRET (a secret name or a secret URI), and has no '='.`)
      continue
    }
    const name = line.slice(0, eq).trim()
    const value = line.slice(eq + 1).trim()
    if (!SETTING_NAME.test(name)) {
      problems.push(
        `${where} has no valid setting name before '=': 1–128 letters, digits, '_', '.' or '-', starting with a letter or '_'.`
      )
      continue
    }
    const before = seen.get(name.toLowerCase())
    if (before !== undefined) {
      problems.push(`${where} sets '${name}' again (first on line ${before}); app setting names are case-insensitive.`)
      continue
    }
    seen.set(name.toLowerCase(), index + 1)
    const setting = `${where} sets '${name}'`
    const parsed = value.includes('/')
      ? fromUri(value, vaults, cloud, setting)
      : fromName(value, vaults, cloud, setting)
    if (typeof parsed === 'string') problems.push(parsed)
    else wanted.push({ name, ...parsed })
  }
  return wanted
}

type Parsed = Omit<WantedSetting, 'name'>

/** The rule, for a value that is neither: it may be the secret itself, so it is never quoted. */
function neither(setting: string, cloud: Cloud): string {
  return (
    `${setting} to a value that is neither a secret name (1–127 letters, digits and hyphens) nor a ${cloud.name} secret URI ` +
    `(https://<vault>.${cloud.keyVaultSuffix}/secrets/<name>[/<version>]); the value is not shown, as it may be a secret itself.\n` +
    `Fix: store the secret in Key Vault and give its name or URI here, never the secret itself.`
  )
}

function fromName(secret: string, vaults: readonly string[], cloud: Cloud, setting: string): Parsed | string {
  if (!SECRET_NAME.test(secret)) return neither(setting, cloud)
  if (vaults.length === 0) return `${setting} to secret '${secret}', but 'vault-name' names no vault.`
  return { vault: vaults[0], secret, value: referenceByName(vaults[0], secret) }
}

function fromUri(uri: string, vaults: readonly string[], cloud: Cloud, setting: string): Parsed | string {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return neither(setting, cloud)
  }
  const host = url.hostname.toLowerCase()
  const vault = host.endsWith(`.${cloud.keyVaultSuffix}`) ? host.slice(0, -cloud.keyVaultSuffix.length - 1) : ''
  const parts = url.pathname.split('/').slice(1)
  const plain =
    url.protocol === 'https:' &&
    !url.port &&
    !url.search &&
    !url.hash &&
    !url.username &&
    !url.password &&
    !/[?#]/.test(uri)
  // A vault of another cloud: a URI, not a secret, so naming its suffix reveals nothing.
  const other = vault ? undefined : cloudOfVaultHost(host)
  if (plain && other) {
    return (
      `${setting} to a secret URI of a ${other.name} vault (${other.keyVaultSuffix}), but 'environment' is ${cloud.name}: ` +
      `the ${cloud.name} Key Vault DNS suffix is ${cloud.keyVaultSuffix}.`
    )
  }
  if (!plain || !vault || vault.includes('.') || parts[0] !== 'secrets' || parts.length < 2 || parts.length > 3) {
    return neither(setting, cloud)
  }
  // `…/secrets/<name>/` (no version, trailing slash) was the documented example for years and
  // resolves (MicrosoftDocs/azure-docs#41917, #63017); a 2024 docs change says it does not
  // (MicrosoftDocs/azure-docs PR #124163). It is written as given: App Service's own status,
  // read after the write, says whether it resolved.
  const [, secret, version] = parts
  if (!SECRET_NAME.test(secret)) {
    return `${setting} to a secret URI whose secret name is not 1–127 letters, digits and hyphens.`
  }
  if (version && !VERSION.test(version)) {
    return `${setting} to a secret URI whose version is not a 32-character hexadecimal secret version.`
  }
  const known = vaults.find((v) => v.toLowerCase() === vault)
  if (!known) {
    return `${setting} to a secret URI of vault '${vault}', which is not in 'vault-name' (${vaults.join(', ') || 'empty'}): add it there, so the app is granted access to it.`
  }
  // Written verbatim: the user's spelling is the reference App Service will report back.
  return { vault: known, secret, version: version || undefined, value: referenceByUri(uri) }
}
