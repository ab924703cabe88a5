// Writes dist/licenses.txt: name, version, license and license text of every npm package whose code
// is in the bundle. ncc's own `--license` (license-webpack-plugin) lists only `open` for this bundle,
// so the package list comes from the webpack stats that `ncc build --stats-out` writes.
// Usage: node scripts/licenses.mjs <stats.json> <out.txt>
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'

const RULE = '='.repeat(80)
const LICENSE_FILE = /^(licen[cs]e|copying)([.-].*)?$/i
// Apache-2.0 requires passing NOTICE files on, so they are included next to the license text.
const NOTICE_FILE = /^notice([.-].*)?$/i

// Files of the modules that ended up in an output chunk. Modules that webpack concatenated into
// another one are listed inside it (`modules`); orphans with no chunk were tree-shaken away.
// Each with its size in bytes, to weigh code bundled twice.
function bundledFiles(stats) {
  if (!Array.isArray(stats.modules)) throw new Error('stats have no module list: write them with ncc --stats-out')
  const files = new Map()
  for (const module of stats.modules) {
    if (!module.chunks?.length) continue
    const parts = module.modules ?? [module]
    for (const m of parts) if (m.nameForCondition) files.set(m.nameForCondition, m.size ?? 0)
  }
  return files
}

/** Code bundled twice (one name@version from two node_modules folders) is tolerated up to this. */
const MAX_TWICE_BYTES = 100 * 1024

// The package directory is the path up to the last node_modules/<name> or node_modules/@scope/<name>.
// Not "nearest package.json with a name": @azure/identity ships dist/esm/package.json with its name.
function packageRoot(file) {
  const parts = file.split(/[\\/]/)
  const at = parts.lastIndexOf('node_modules')
  if (at < 0) return undefined
  return parts.slice(0, at + (parts[at + 1]?.startsWith('@') ? 3 : 2)).join(sep)
}

function declaredLicense(pkg) {
  const one = (l) => (typeof l === 'string' ? l : l?.type)
  if (pkg.license) return one(pkg.license)
  if (Array.isArray(pkg.licenses)) return pkg.licenses.map(one).filter(Boolean).join(' OR ') || undefined
  return undefined
}

// CRLF, a BOM or trailing blank lines must not make the output differ between machines.
const readText = (path) =>
  readFileSync(path, 'utf8')
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .trimEnd()

function describe(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  if (!pkg.name) throw new Error(`no package name in ${join(dir, 'package.json')}`)
  // Files only: a LICENSES/ directory (REUSE layout) is not a license text to copy.
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => d.name)
    .sort()
  const licenseFiles = names.filter((n) => LICENSE_FILE.test(n))
  const noticeFiles = names.filter((n) => NOTICE_FILE.test(n))
  return {
    name: pkg.name,
    version: pkg.version ?? '(no version)',
    license: declaredLicense(pkg),
    files: [...licenseFiles, ...noticeFiles].map((file) => ({ file, text: readText(join(dir, file)) }))
  }
}

// Plain code-unit order, not localeCompare: the order must not depend on the machine's locale.
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

// Throws, naming the packages, when a bundled package states no license at all.
export function collectLicenses(stats, projectRoot = process.cwd()) {
  const roots = new Map()
  for (const [file, size] of bundledFiles(stats)) {
    const root = packageRoot(file)
    if (root) roots.set(root, (roots.get(root) ?? 0) + size)
    // Code from outside node_modules and outside the project (a linked package) has no owner we can name.
    else if (!resolve(file).startsWith(resolve(projectRoot) + sep)) throw new Error(`cannot attribute ${file}`)
  }
  const byKey = new Map()
  const twice = []
  for (const root of [...roots.keys()].sort()) {
    const entry = describe(root)
    // The same name@version bundled from two folders is the same code twice in the bundle: a few
    // small ones are the price of npm's hoisting (dev tools pin older versions), a big one is a bug.
    const key = `${entry.name}\0${entry.version}`
    if (byKey.has(key)) twice.push({ name: `${entry.name}@${entry.version}`, bytes: roots.get(root) })
    else byKey.set(key, entry)
  }
  const twiceBytes = twice.reduce((sum, t) => sum + t.bytes, 0)
  if (twiceBytes > MAX_TWICE_BYTES) {
    const list = twice.map((t) => `${t.name} (${Math.round(t.bytes / 1024)} KiB)`).join(', ')
    throw new Error(
      `bundled twice from two node_modules folders: ${list}. Run \`npm dedupe\` and commit the lock file.`
    )
  }
  const entries = [...byKey.values()].sort((a, b) => cmp(a.name, b.name) || cmp(a.version, b.version))
  const unlicensed = entries.filter((e) => !e.license && !e.files.some((f) => LICENSE_FILE.test(f.file)))
  if (unlicensed.length > 0) {
    const list = unlicensed.map((e) => `${e.name}@${e.version}`).join(', ')
    throw new Error(`bundled packages with no license field and no license file: ${list}`)
  }
  return entries
}

export function renderLicenses(entries) {
  const out = [
    'Third-party npm packages whose code is bundled into this directory, with their licenses.',
    'Generated by scripts/licenses.mjs from the ncc build stats (npm run package); do not edit.',
    '',
    `${entries.length} packages: ${entries.map((e) => e.name).join(', ')}`
  ]
  for (const e of entries) {
    out.push('', RULE, `${e.name} ${e.version}`, `License: ${e.license ?? 'not declared in package.json, see below'}`)
    if (!e.files.some((f) => LICENSE_FILE.test(f.file)))
      out.push(`The package ships no license file; the license above is from its package.json.`)
    for (const { file, text } of e.files) out.push('', `--- ${file} ---`, '', text)
  }
  return out.join('\n') + '\n'
}

export function writeLicenses(statsFile, outFile) {
  const entries = collectLicenses(JSON.parse(readFileSync(statsFile, 'utf8')))
  writeFileSync(outFile, renderLicenses(entries))
  return entries
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [statsFile, outFile] = process.argv.slice(2)
  if (!statsFile || !outFile) {
    console.error('Usage: node scripts/licenses.mjs <stats.json> <out.txt>')
    process.exit(2)
  }
  try {
    console.log(`${outFile}: ${writeLicenses(statsFile, outFile).length} packages`)
  } catch (error) {
    console.error(`licenses: ${error.message}`)
    process.exit(1)
  }
}
