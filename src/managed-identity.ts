// Sign-in without OIDC: the runner's own managed identity (self-hosted runners on Azure VMs, scale
// sets, containers), or the az session an earlier azure/login step left. Both through
// @azure/identity; what it leaves out is done here: a short probe of the identity endpoint (its
// ManagedIdentityCredential has no timeout on a host where IMDS silently drops packets) and
// keeping IMDS out of any proxy (link-local: a proxy cannot reach it).
import { request } from 'node:http'
import { AzureCliCredential, ManagedIdentityCredential } from '@azure/identity'
import type { TokenCredential } from '@azure/core-auth'
import type { RetryBudget } from './azure/budget.js'

const IMDS = 'http://169.254.169.254'
/** Identity endpoints other than IMDS, announced by environment variables (App Service, Arc, Cloud Shell…). */
const OTHER_SOURCES = ['IDENTITY_ENDPOINT', 'MSI_ENDPOINT']

export class NoManagedIdentityEndpointError extends Error {
  constructor(host: string, reason: string) {
    super(
      `No managed identity endpoint answered on this runner: ${host} (IMDS) ${reason}.\n` +
        `Fix: 'auth-type: managed-identity' works on self-hosted runners that run on Azure (a VM, a scale set, a container ` +
        `host) with a managed identity assigned; on GitHub-hosted runners use 'auth-type: oidc'. For pod identity set ` +
        `AZURE_POD_IDENTITY_AUTHORITY_HOST.`
    )
    this.name = 'NoManagedIdentityEndpointError'
  }
}

/** Where IMDS is for this runner, or undefined when another identity source is configured. */
export function imdsHost(env: NodeJS.ProcessEnv): string | undefined {
  if (OTHER_SOURCES.some((name) => env[name])) return undefined
  return (env.AZURE_POD_IDENTITY_AUTHORITY_HOST || IMDS).replace(/\/+$/, '')
}

/**
 * NO_PROXY gains the IMDS host before the first SDK pipeline reads it (the SDK reads it once per
 * process): a proxy would otherwise swallow the link-local request.
 */
export function keepImdsOffProxy(env: NodeJS.ProcessEnv): void {
  const host = imdsHost(env)
  if (!host) return
  const name = new URL(host).hostname
  const current = env.NO_PROXY ?? env.no_proxy ?? ''
  const list = current.split(',').map((s) => s.trim())
  if (!list.includes(name)) env.NO_PROXY = [...list.filter(Boolean), name].join(',')
}

/** One GET without the Metadata header, as the SDK's own probe: any answer means IMDS is there. */
export function probeImds(host: string, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${host}/metadata/identity/oauth2/token`,
      { method: 'GET', agent: false, timeout: timeoutMs },
      (res) => {
        res.resume()
        resolve()
      }
    )
    req.on('timeout', () =>
      req.destroy(new NoManagedIdentityEndpointError(host, `did not answer within ${timeoutMs / 1000} s`))
    )
    req.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error instanceof NoManagedIdentityEndpointError
          ? error
          : new NoManagedIdentityEndpointError(host, `could not be reached (${error.code ?? error.message})`)
      )
    })
    req.end()
  })
}

export function managedIdentityCredential(clientId: string, env: NodeJS.ProcessEnv): TokenCredential {
  keepImdsOffProxy(env)
  return new ManagedIdentityCredential(clientId ? { clientId } : {})
}

/** The az session: `az account get-access-token`, bounded by the run's budget. */
export function azureCliCredential(budget: RetryBudget): TokenCredential {
  return new AzureCliCredential({ processTimeoutInMs: Math.max(1000, Math.min(budget.remainingMs, 60_000)) })
}

/** The tenant of an access token (its `tid` claim), or '' when the token is not a readable JWT. */
export function tenantOfToken(token: string): string {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { tid?: unknown }
    return typeof claims.tid === 'string' ? claims.tid.toLowerCase() : ''
  } catch {
    return ''
  }
}
