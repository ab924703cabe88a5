// `node test/fake-azure/cli.ts [--latency-ms N] [--write-env PATH]`: start the fake with a demo
// world and print the environment that points the action (or @github/local-action) at it, one
// KEY=value a line; with --write-env, also write those lines to PATH (npm's banner lines would
// otherwise end up in a redirected stdout). Ctrl-C stops it.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startFakeAzure } from './index.ts'

const { values } = parseArgs({
  options: { 'latency-ms': { type: 'string', default: '0' }, 'write-env': { type: 'string' } }
})
const latencyMs = Number(values['latency-ms'])
if (!Number.isFinite(latencyMs) || latencyMs < 0) {
  console.error(`--latency-ms must be a non-negative number, got '${values['latency-ms']}'`)
  process.exit(2)
}

const fake = await startFakeAzure({ latencyMs })
fake.addResourceGroup('demo-rg')
fake.addSite({
  resourceGroup: 'demo-rg',
  name: 'demo-app',
  tags: { team: 'demo', env: 'dev' },
  appSettings: { LOG_LEVEL: 'info', FEATURE_X: 'on' }
})
fake.addVault({
  resourceGroup: 'demo-rg',
  name: 'demo-kv',
  enableRbacAuthorization: false,
  accessPolicies: [
    {
      tenantId: fake.tenantId,
      objectId: '6a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
      permissions: { secrets: ['get', 'list'] }
    }
  ]
})
fake.addVault({ resourceGroup: 'demo-rg', name: 'demo-kv-rbac', enableRbacAuthorization: true })

const env = {
  ...fake.env(),
  'INPUT_APP-NAME': 'demo-app',
  'INPUT_RESOURCE-GROUP': 'demo-rg',
  'INPUT_VAULT-NAME': 'demo-kv'
}
const lines = Object.entries(env).map(([k, v]) => `${k}=${v}`)
for (const line of lines) console.log(line)
if (values['write-env']) writeFileSync(values['write-env'], `${lines.join('\n')}\n`)
console.error(
  `fake Azure is up (ARM ${fake.armEndpoint}, Entra ID ${fake.authorityHost}); vaults demo-kv (access policies) and demo-kv-rbac (RBAC). Ctrl-C to stop.`
)

let closing = false
const stop = (): void => {
  if (closing) return
  closing = true
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1)
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
