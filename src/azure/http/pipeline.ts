// What every HTTP request of the run shares — GitHub OIDC, Entra ID and ARM alike: the SDK's
// pipeline (proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY, retries of 429/5xx/408/dropped
// connections) plus the action's policies: one retry budget, one log line per attempt, Azure's
// error shapes normalised, 409 "operation in progress" and PrincipalNotFound waited out, and ARM's
// bearer token sent to the ARM origin only.
import type { ClientOptions } from '@azure-rest/core-client'
import {
  createPipelineFromOptions,
  type Pipeline,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineRetryOptions
} from '@azure/core-rest-pipeline'
import type { Cloud } from '../../model/clouds.js'
import { attemptPolicy } from './attempt-policy.js'
import type { RetryBudget } from './budget.js'
import { errorShapePolicy, transientErrorPolicy } from './error-policies.js'

/** Per call: every request and its retries end when the budget is spent, whatever signal it had. */
function budgetPolicy(budget: RetryBudget): PipelinePolicy {
  return {
    name: 'actionRetryBudget',
    sendRequest(request, next) {
      // @azure/identity gives MSAL's requests a signal of its own that nothing aborts: combine.
      request.abortSignal = request.abortSignal
        ? AbortSignal.any([asSignal(request.abortSignal), budget.signal])
        : budget.signal
      return next(request)
    }
  }
}

function asSignal(like: NonNullable<PipelineRequest['abortSignal']>): AbortSignal {
  if (like instanceof AbortSignal) return like
  const controller = new AbortController()
  if (like.aborted) controller.abort()
  else like.addEventListener('abort', () => controller.abort(), { once: true })
  return controller.signal
}

export class ForeignOriginError extends Error {
  constructor(url: string, allowed: string) {
    super(
      `Refusing to send a request to ${new URL(url).origin}: an answer from Azure pointed the action there (a page link), ` +
        `but the access token is only ever sent to ${allowed}.`
    )
    this.name = 'ForeignOriginError'
  }
}

/**
 * Per attempt, after the bearer token is added: a page link (`nextLink`) that leaves the ARM
 * origin is refused for every client and every paged list, before the token goes out. (The SDK's
 * redirect policy follows same-origin redirects only and hands others back as 3xx answers.)
 */
function originPolicy(origin: string): PipelinePolicy {
  return {
    name: 'actionArmOriginOnly',
    sendRequest(request, next) {
      if (new URL(request.url).origin !== origin) throw new ForeignOriginError(request.url, origin)
      return next(request)
    }
  }
}

const RETRY_OPTIONS: PipelineRetryOptions = { maxRetries: 100, retryDelayInMs: 500, maxRetryDelayInMs: 15_000 }

function policies(
  budget: RetryBudget,
  origin?: string
): { policy: PipelinePolicy; position: 'perCall' | 'perRetry' }[] {
  return [
    { policy: budgetPolicy(budget), position: 'perCall' },
    { policy: transientErrorPolicy(budget), position: 'perCall' },
    ...(origin ? [{ policy: originPolicy(origin), position: 'perRetry' as const }] : []),
    { policy: attemptPolicy(budget), position: 'perRetry' },
    // ARM only: Entra ID and GitHub answer in shapes of their own, which their clients read.
    ...(origin ? [{ policy: errorShapePolicy(), position: 'perRetry' as const }] : [])
  ]
}

/** Pipeline options for the SDK clients and the Entra ID token client alike. */
export function pipelineOptions(
  budget: RetryBudget,
  origin?: string
): Pick<ClientOptions, 'additionalPolicies' | 'retryOptions' | 'userAgentOptions'> {
  return {
    additionalPolicies: policies(budget, origin),
    // The budget bounds retries; the count only has to be out of its way.
    retryOptions: RETRY_OPTIONS,
    userAgentOptions: { userAgentPrefix: 'keyvault-app-identity-action' }
  }
}

export function armClientOptions(cloud: Cloud, budget: RetryBudget): ClientOptions {
  return {
    endpoint: cloud.armEndpoint,
    credentials: { scopes: [cloud.armScope] },
    ...pipelineOptions(budget, new URL(cloud.armEndpoint).origin)
  }
}

/** A bare pipeline with the same policies, for requests outside the SDK clients (GitHub OIDC). */
export function createPipeline(budget: RetryBudget): Pipeline {
  const { additionalPolicies = [], ...options } = pipelineOptions(budget)
  const pipeline = createPipelineFromOptions(options)
  // The same places core-client gives `additionalPolicies`: perCall before the retry policy,
  // perRetry after the Sign phase.
  for (const { policy, position } of additionalPolicies) {
    pipeline.addPolicy(policy, position === 'perRetry' ? { afterPhase: 'Sign' } : {})
  }
  return pipeline
}
