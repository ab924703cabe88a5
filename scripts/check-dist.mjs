// Fails when the committed dist/ is not what `npm run package` builds from the current source:
// dist/ is what the runner executes, so a stale bundle ships old code.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const out = mkdtempSync(join(tmpdir(), 'check-dist-'))
try {
  execFileSync(
    process.execPath,
    [
      'node_modules/@vercel/ncc/dist/ncc/cli.js',
      'build',
      'src/index.ts',
      '-o',
      out,
      '--license',
      'licenses.txt',
      '--quiet'
    ],
    { stdio: 'inherit' }
  )
  const built = readdirSync(out).sort()
  const committed = readdirSync('dist').sort()
  const names = [...new Set([...built, ...committed])]
  const stale = names.filter((name) => {
    if (!built.includes(name) || !committed.includes(name)) return true
    return !readFileSync(join(out, name)).equals(readFileSync(join('dist', name)))
  })
  if (stale.length > 0) {
    console.error(
      `dist/ is stale: ${stale.join(', ')} differ from a fresh build.\nFix: run \`npm run package\` and commit dist/ with the source change.`
    )
    process.exit(1)
  }
  console.log(`dist/ is up to date (${built.length} files match a fresh build).`)
} finally {
  rmSync(out, { recursive: true, force: true })
}
