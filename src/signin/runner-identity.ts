// Sign-in without OIDC: the runner's own managed identity (self-hosted runners on Azure VMs, scale
// sets, containers), or the az session an earlier azure/login step left. Both through
// @azure/identity; what it leaves out is done here: a short probe of the identity endpoint (its
// ManagedIdentityCredential has no timeout on a host where IMDS silently drops packets) and
// keeping the local identity endpoint out of any proxy (a proxy cannot reach it).
import { existsSync } from 'node:fs'
import { request } from 'node:http'
import { AzureCliCredential, ManagedIdentityCredential } from '@azure/identity'
import type { TokenCredential } from '@azure/core-auth'
import type { RetryBudget } from '../azure/http/budget.js'
import { jwtPayload } from './github-oidc.js'

const IMDS = 'http://169.254.169.254'
/** Azure Arc's agent; when its file exists MSAL uses the local endpoint below (msal-node AzureArc.mjs). */
const ARC_AGENT = {
  linux: '/opt/azcmagent/bin/himds',
  win32: `${process.env.ProgramFiles}\\AzureConnectedMachineAgent\\himds.exe`
}
const ARC_ENDPOINT = 'http://127.0.0.1:40342'

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

export interface IdentitySource {
  endpoint?: string
  /** Probe it first: IMDS can drop packets silently, and the SDK's own probe has no timeout. */
  probe: boolean
  /** IMDS or its pod-identity stand-in: reached directly, never through a proxy. */
  imds?: boolean
}

/**
 * Where the runner's managed identity tokens come from, in the order @azure/identity and MSAL
 * choose: workload identity (AKS: a federated token file), an endpoint announced by IDENTITY_ENDPOINT
 * or MSI_ENDPOINT (App Service, Service Fabric, Cloud Shell, Arc), Arc's agent, else IMDS. Only
 * IMDS is probed: it is the source that can hang silently.
 */
export function identitySource(
  env: NodeJS.ProcessEnv,
  clientId: string,
  fileExists: (path: string) => boolean = existsSync
): IdentitySource {
  if ((clientId || env.AZURE_CLIENT_ID) && env.AZURE_TENANT_ID && env.AZURE_FEDERATED_TOKEN_FILE)
    return { probe: false }
  const announced = env.IDENTITY_ENDPOINT || env.MSI_ENDPOINT
  if (announced) return { endpoint: announced, probe: false }
  const arc = ARC_AGENT[process.platform as keyof typeof ARC_AGENT]
  if (arc && fileExists(arc)) return { endpoint: ARC_ENDPOINT, probe: false }
  // Pod identity (aad-pod-identity's NMI) stands in for IMDS: @azure/identity assumes it is there
  // and does not probe it (imdsMsi.js isAvailable: "if the PodIdentityEndpoint environment variable
  // was set no need to probe the endpoint"); nor does the action.
  const pod = env.AZURE_POD_IDENTITY_AUTHORITY_HOST
  if (pod) return { endpoint: pod.replace(/\/+$/, ''), probe: false, imds: true }
  return { endpoint: IMDS, probe: true, imds: true }
}

/**
 * NO_PROXY gains the host of IMDS (or its pod-identity stand-in), or of another identity endpoint
 * that is local (loopback or link-local): no proxy can reach those. Done before the first SDK
 * pipeline reads NO_PROXY (once per process; NO_PROXY, else no_proxy: the list it would use is
 * the one extended).
 */
export function keepIdentityEndpointOffProxy(env: NodeJS.ProcessEnv, source: IdentitySource): void {
  if (!source.endpoint) return
  let name: string
  try {
    name = new URL(source.endpoint).hostname
  } catch {
    return // the SDK reports a malformed endpoint itself
  }
  if (!source.imds && !/^(localhost|127\.[\d.]+|169\.254\.[\d.]+|\[::1\])$/i.test(name)) return
  const list = (env.NO_PROXY || env.no_proxy || '').split(',').map((s) => s.trim())
  if (!list.includes(name)) env.NO_PROXY = [...list.filter(Boolean), name].join(',')
}

/**
 * One GET without the Metadata header, as the SDK's own probe: any answer means IMDS is there,
 * except a 403 whose body says the network is unreachable (Docker Desktop answers so), which
 * @azure/identity also treats as absent (node_modules/@azure/identity/dist/esm/credentials/
 * managedIdentityCredential/imdsMsi.js, the probe's 403 "unreachable" case).
 */
export function probeImds(host: string, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${host}/metadata/identity/oauth2/token`,
      { method: 'GET', agent: false, timeout: timeoutMs },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk.slice(0, 2000)))
        res.on('end', () => {
          if (res.statusCode === 403 && body.includes('unreachable')) {
            reject(
              new NoManagedIdentityEndpointError(host, 'answered 403: the network is unreachable (Docker Desktop)')
            )
          } else resolve()
        })
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
  keepIdentityEndpointOffProxy(env, identitySource(env, clientId))
  return new ManagedIdentityCredential(clientId ? { clientId } : {})
}

/** The az session: `az account get-access-token`, bounded by the run's budget. */
export function azureCliCredential(budget: RetryBudget): TokenCredential {
  return new AzureCliCredential({ processTimeoutInMs: Math.max(1000, Math.min(budget.remainingMs, 60_000)) })
}

/** The tenant of an access token (its `tid` claim), or '' when the token is not a readable JWT. */
export function tenantOfToken(token: string): string {
  const tid = jwtPayload(token)?.tid
  return typeof tid === 'string' ? tid.toLowerCase() : ''
}
