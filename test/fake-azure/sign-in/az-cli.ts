// A stand-in for the Azure CLI signed in as the fake's application, for sign-in through an
// existing `az login` session (azure/login runs `az login`, whose session stays in ~/.azure for
// the steps after it). @azure/identity's
// AzureCliCredential finds `az` by walking PATH itself, needs the X_OK bit, and execFile()s it with
// cwd /bin and no shell (@azure/identity dist/esm/credentials/azureCliCredential.js:
// getSafeWorkingDir, execFileWithResult("az", …)): so a POSIX sh script, chmod 755, that names its own
// directory by absolute path and prints JSON prepared here.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mintAccessToken } from '../core/jwt.ts'
import type { State } from '../core/state.ts'

export interface AzCliOptions {
  /** Default true; false: every modelled command fails as az does before `az login`. */
  loggedIn?: boolean
  /**
   * Seconds since `az login --federated-token` (default 0). From 600 on (the GitHub assertion's
   * ~10 minutes), az still serves its default ARM resource from its refresh token but fails any
   * other resource with AADSTS700024: azure-cli#28708 ("by design"), Azure/login#180, #372.
   */
  loginAgeSeconds?: number
}

// azure-cli core/cloud.py AZURE_PUBLIC_CLOUD active_directory_resource_id: the resource _profile.py
// get_access_token uses when none is given, and the one the federated login holds a refresh token for.
const DEFAULT_RESOURCE = 'https://management.core.windows.net/'

// az prints expiresOn in local time, "2020-11-12 13:50:47.114324", and expires_on in epoch seconds
// since 2.54.0 (as @azure/identity's azureCliCredential.js parseRawResponse reads them).
function localTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000)
  const p = (n: number, w = 2): string => String(n).padStart(w, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`
}

// Not signed in: az's _AZ_LOGIN_MESSAGE on stderr, exit 1 (azure-cli
// src/azure-cli-core/azure/cli/core/_profile.py); a `logged-in` file marks
// the session, so a test may also sign out by deleting it.
const script = (dir: string): string => `#!/bin/sh
# Stand-in for the Azure CLI (test/fake-azure/sign-in/az-cli.ts). Every call appends its argv to calls.log.
DIR='${dir}'
printf '%s\\n' "$*" >> "$DIR/calls.log"
if [ "$1" = account ] && { [ "$2" = get-access-token ] || [ "$2" = show ]; }; then
  if [ ! -f "$DIR/logged-in" ]; then
    echo "ERROR: Please run 'az login' to setup account." >&2
    exit 1
  fi
  # Expired federated login: only az's default resource still works (see loginAgeSeconds).
  if [ "$2" = get-access-token ] && [ -f "$DIR/federated-expired" ]; then
    case " $* " in
      *" --resource ${DEFAULT_RESOURCE} "*) ;;
      *) echo "ERROR: AADSTS700024: Client assertion is not within its valid time range. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ." >&2
         exit 1 ;;
    esac
  fi
  if [ "$2" = show ]; then cat "$DIR/account.json"; else cat "$DIR/token.json"; fi
  exit 0
fi
echo "ERROR: the fake az does not model: az $*" >&2
exit 2
`

export function writeAzCli(state: State, options: AzCliOptions = {}): { dir: string; cleanup: () => void } {
  const app = state.applications.get(state.clientId.toLowerCase())!
  const grant = { tenantId: app.tenantId, clientId: app.clientId, spObjectId: app.spObjectId }
  const { token, exp } = mintAccessToken(state.tokens, grant, {})
  const sub = state.subscriptions.get(state.subscriptionId.toLowerCase())!
  const dir = mkdtempSync(join(tmpdir(), 'fake-az-'))
  const json = (name: string, v: unknown): void => writeFileSync(join(dir, name), `${JSON.stringify(v, null, 2)}\n`)
  // azure-cli profile/custom.py get_access_token: {accessToken, expiresOn, expires_on, subscription, tenant, tokenType}.
  json('token.json', {
    accessToken: token,
    expiresOn: localTime(exp),
    expires_on: exp,
    subscription: sub.subscriptionId,
    tenant: app.tenantId,
    tokenType: 'Bearer'
  })
  // azure-cli _profile.py's keys for a service principal login (_USER_ENTITY, _SUBSCRIPTION_*).
  json('account.json', {
    environmentName: 'AzureCloud',
    homeTenantId: sub.tenantId,
    id: sub.subscriptionId,
    isDefault: true,
    managedByTenants: [],
    name: sub.displayName,
    state: 'Enabled',
    tenantId: app.tenantId,
    user: { name: app.clientId, type: 'servicePrincipal' }
  })
  writeFileSync(join(dir, 'calls.log'), '')
  if (options.loggedIn ?? true) writeFileSync(join(dir, 'logged-in'), '')
  if ((options.loginAgeSeconds ?? 0) >= 600) writeFileSync(join(dir, 'federated-expired'), '')
  writeFileSync(join(dir, 'az'), script(dir))
  chmodSync(join(dir, 'az'), 0o755)
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
