// What every ARM client shares: the endpoint, the cloud's token scope, one log line per request
// (method, path, status, time; never headers or tokens) and the retry settings.
import * as core from '@actions/core'
import type { ClientOptions } from '@azure-rest/core-client'
import type { PipelinePolicy } from '@azure/core-rest-pipeline'
import type { Cloud } from '../clouds.js'

/** One line per request attempt, so a retried request shows every try. */
export const requestLogPolicy: PipelinePolicy = {
  name: 'actionRequestLog',
  async sendRequest(request, next) {
    const started = performance.now()
    const path = new URL(request.url).pathname
    try {
      const response = await next(request)
      core.info(`${request.method} ${path} → ${response.status} (${elapsed(started)} ms)`)
      return response
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error as Error).name
      core.info(`${request.method} ${path} → ${reason} (${elapsed(started)} ms)`)
      throw error
    }
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started)
}

export function armClientOptions(cloud: Cloud): ClientOptions {
  return {
    endpoint: cloud.armEndpoint,
    credentials: { scopes: [cloud.armScope] },
    additionalPolicies: [{ policy: requestLogPolicy, position: 'perRetry' }],
    retryOptions: { maxRetries: 4, retryDelayInMs: 500, maxRetryDelayInMs: 8000 },
    userAgentOptions: { userAgentPrefix: 'keyvault-app-identity-action' }
  }
}
