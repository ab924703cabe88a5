// With step debug logging on (ACTIONS_STEP_DEBUG / RUNNER_DEBUG), the Azure SDKs' own logs go to
// core.debug. Their logging policy redacts Authorization headers and unknown query values, and
// every token the run holds is registered with core.setSecret; but it prints a request's proxy
// agent as is, and a proxy URL may carry `user:password@`. Credentials in any URL are cut out of
// every line, and the proxy's password is masked for the whole run, however it is spelled.
import * as core from '@actions/core'
import { AzureLogger, setLogLevel } from '@azure/logger'
import { format } from 'node:util'

export function routeSdkLogsToDebug(): void {
  if (!core.isDebug()) return
  setLogLevel('info')
  AzureLogger.log = (...args: unknown[]) => core.debug(withoutUrlCredentials(format(...args)))
}

/** `scheme://user:password@host` → `scheme://***@host`, wherever it stands in the text. */
export function withoutUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'`]+@/gi, '$1***@')
}

/** Registers the password of every proxy variable with the runner's log masking. */
export function maskProxyCredentials(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy']) {
    const value = env[name]
    if (!value) continue
    let url: URL
    try {
      url = new URL(value)
    } catch {
      continue
    }
    const password = url.password
    if (!password) continue
    core.setSecret(password)
    const decoded = safeDecode(password)
    if (decoded !== password) core.setSecret(decoded)
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
