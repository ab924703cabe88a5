// With step debug logging on (ACTIONS_STEP_DEBUG / RUNNER_DEBUG), the Azure SDKs' own logs go to
// core.debug. Their logging policy already redacts Authorization headers and unknown query
// values, and every token the run holds is registered with core.setSecret.
import * as core from '@actions/core'
import { AzureLogger, setLogLevel } from '@azure/logger'
import { format } from 'node:util'

export function routeSdkLogsToDebug(): void {
  if (!core.isDebug()) return
  setLogLevel('info')
  AzureLogger.log = (...args: unknown[]) => core.debug(format(...args))
}
