// Fails when the committed dist/ is not what `npm run package` builds from the current source:
// dist/ is what the runner executes, so a stale bundle ships old code. The build is the same as
// `npm run package`'s: ncc, then scripts/licenses.mjs turns ncc's stats into licenses.txt.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeLicenses } from './licenses.mjs'

// "name version" of each package a licenses.txt lists, to say which ones a stale file misses.
const listed = (file) =>
  existsSync(file) ? [...readFileSync(file, 'utf8').matchAll(/^={80}\n(.+)$/gm)].map((m) => m[1]) : []

// Returns why dist/ is not up to date, or undefined when it is.
function check(out, stats) {
  execFileSync(
    process.execPath,
    ['node_modules/@vercel/ncc/dist/ncc/cli.js', 'build', 'src/index.ts', '-o', out, '--stats-out', stats, '--quiet'],
    { stdio: 'inherit' }
  )
  try {
    writeLicenses(stats, join(out, 'licenses.txt'))
  } catch (error) {
    return `Cannot write dist/licenses.txt: ${error.message}.\nFix: find the package's license upstream or stop bundling it, then run \`npm run package\`.`
  }
  const built = readdirSync(out).sort()
  const committed = readdirSync('dist').sort()
  const names = [...new Set([...built, ...committed])]
  const stale = names.filter((name) => {
    if (!built.includes(name) || !committed.includes(name)) return true
    return !readFileSync(join(out, name)).equals(readFileSync(join('dist', name)))
  })
  if (stale.length === 0) {
    console.log(`dist/ is up to date (${built.length} files match a fresh build).`)
    return undefined
  }
  let detail = ''
  if (stale.includes('licenses.txt')) {
    const fresh = listed(join(out, 'licenses.txt'))
    const old = listed(join('dist', 'licenses.txt'))
    const added = fresh.filter((p) => !old.includes(p))
    const removed = old.filter((p) => !fresh.includes(p))
    if (added.length) detail += `\nlicenses.txt misses: ${added.join(', ')}`
    if (removed.length) detail += `\nlicenses.txt lists packages no longer bundled: ${removed.join(', ')}`
  }
  return `dist/ is stale: ${stale.join(', ')} differ from a fresh build.${detail}\nFix: run \`npm run package\` and commit dist/ with the source change.`
}

// Build into a temp dir; the stats go next to it, not into it, so they are not compared as a dist file.
const tmp = mkdtempSync(join(tmpdir(), 'check-dist-'))
let problem
try {
  problem = check(join(tmp, 'dist'), join(tmp, 'stats.json'))
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
if (problem) {
  console.error(problem)
  process.exit(1)
}
