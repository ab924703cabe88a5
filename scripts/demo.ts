// `npm run demo`: the action end to end with no Azure account. Starts the fake Azure, seeds a web
// app and a vault, runs dist/index.js the way the runner does, shows outputs, job summary and the
// requests made, then runs it again to show the idempotent re-run.
import { startFakeAzure } from '../test/fake-azure/index.ts'
import { runAction, type ActionRun } from '../test/e2e/run-action.ts'

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)

const fake = await startFakeAzure()
try {
  fake.addResourceGroup('shop-rg')
  fake.addSite({
    resourceGroup: 'shop-rg',
    name: 'shop-api',
    tags: { team: 'shop' },
    appSettings: { LOG_LEVEL: 'info' }
  })
  fake.addVault({ resourceGroup: 'shop-rg', name: 'shop-kv' })
  const inputs = {
    'app-name': 'shop-api',
    'resource-group': 'shop-rg',
    'vault-name': 'shop-kv',
    'secret-permissions': 'get,list'
  }

  console.log(bold('Seeded a fake Azure: web app shop-api (no identity yet) and vault shop-kv (access policies).'))
  console.log(`Inputs: ${JSON.stringify(inputs)}\n`)

  const first = await show('First run', () => runAction(fake, inputs))
  const second = await show('Second run (same inputs)', () => runAction(fake, inputs))

  const ok = first.exitCode === 0 && second.exitCode === 0 && second.outputs.changed === 'false'
  console.log(bold(ok ? 'Demo finished: the first run granted access, the re-run wrote nothing.' : 'Demo FAILED.'))
  process.exitCode = ok ? 0 : 1
} finally {
  await fake.close()
}

async function show(title: string, run: () => Promise<ActionRun>): Promise<ActionRun> {
  fake.clearLog()
  const result = await run()
  console.log(bold(`── ${title}: exit ${result.exitCode}, ${Math.round(result.durationMs)} ms ──`))
  if (result.exitCode !== 0) console.log(result.error || result.stdout)
  console.log(bold('Outputs:'))
  for (const [name, value] of Object.entries(result.outputs)) console.log(`  ${name} = ${value}`)
  console.log(bold('Job summary:'))
  console.log(indent(stripTags(result.summary)))
  console.log(bold('Requests (method, path, status, time):'))
  for (const r of fake.requests) {
    console.log(
      `  ${r.server.padEnd(6)}${r.method.padEnd(7)}${r.path}  → ${r.status}  ${Math.round(r.end - r.start)} ms`
    )
  }
  const writes = fake.requests.filter((r) => r.server === 'arm' && r.method !== 'GET').length
  console.log(`  ${fake.requests.length} requests, ${writes} ARM write(s)\n`)
  return result
}

function stripTags(html: string): string {
  return html
    .replace(/<\/(h\d|p|tr|li)>/g, '\n')
    .replace(/<\/t[dh]>/g, ' | ')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n')
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')
}
