// Azure's error answers, normalised once in the HTTP pipeline, and the two error answers worth
// waiting out that the SDK's retry policy does not retry.
import * as core from '@actions/core'
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline'
import type { RetryBudget } from './budget.js'
import { backoffDelay } from './poll.js'
import { isBuiltFromRead } from './replay.js'

export interface AzureError {
  code?: string
  message?: string
  target?: string
  details?: unknown
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined)

/**
 * ARM answers `{"error":{"code","message"}}`; Microsoft.Web answers `{"Code","Message","Target",
 * "Details","Innererror"}` at the top level (recorded in azure-cli's appservice cassettes), which
 * the SDK's error factory does not read ("Unexpected status code: 409"). Rewrite the second shape
 * into the first, so every client and diagnose/explain.ts see Azure's own code and words.
 */
export function errorShapePolicy(): PipelinePolicy {
  return {
    name: 'actionErrorShape',
    async sendRequest(request, next) {
      const response = await next(request)
      if (response.status < 400 || !response.bodyAsText) return response
      const parsed = parseJson(response.bodyAsText)
      const webShape = isObject(parsed) && !('error' in parsed) && ('Code' in parsed || 'Message' in parsed)
      if (webShape) response.bodyAsText = JSON.stringify({ error: azureErrorOf(parsed) })
      return response
    }
  }
}

function parseJson(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? '') as unknown
  } catch {
    return undefined
  }
}

/** The error of an error answer in either shape; undefined when the body is neither. */
export function readAzureError(body: string | undefined): AzureError | undefined {
  return azureErrorOf(parseJson(body))
}

function azureErrorOf(parsed: unknown): AzureError | undefined {
  if (!isObject(parsed)) return undefined
  const e = isObject(parsed.error) ? parsed.error : parsed
  const code = text(e.code) ?? text(e.Code)
  let message = text(e.message) ?? text(e.Message)
  const details = e.details ?? e.Details
  // Microsoft.Web sometimes leaves Message empty and says it in Details[].Message.
  if (!message && Array.isArray(details))
    message = details.map((d) => (isObject(d) ? text(d.Message) : undefined)).find(Boolean)
  if (!code && !message) return undefined
  return { code, message, target: text(e.target) ?? text(e.Target), details }
}

interface Rule {
  /** The warning's words: what Azure said and why waiting helps. */
  why: string
  baseDelayMs: number
  maxDelayMs: number
  /** How long this kind of answer may be waited out, at most (the run's budget bounds it too). */
  limitMs?: number
}

/**
 * 409 `Conflict` is "another operation is in progress" (Microsoft.Web: "Cannot modify this site
 * because another operation is in progress"; ARM: AnotherOperationInProgress): it clears when the
 * other operation ends. Other 409s are permanent: ScopeLocked (a resource lock),
 * RoleAssignmentExists, RoleAssignmentUpdateNotPermitted. 400 PrincipalNotFound on a role
 * assignment is directory replication of a just-created identity (ARM says so in the message).
 */
export function retryRule(request: PipelineRequest, response: PipelineResponse): Rule | undefined {
  if (response.status !== 409 && response.status !== 400) return undefined
  const error = readAzureError(response.bodyAsText ?? undefined)
  const code = error?.code?.toLowerCase()
  // A write built from a read is not sent again after a 409: its caller reads afresh (replay.ts).
  if (isOperationInProgress(response.status, code) && !isBuiltFromRead(request.method, request.url)) {
    return { why: 'another operation is in progress on it (409 Conflict)', baseDelayMs: 1000, maxDelayMs: 15_000 }
  }
  if (code === 'principalnotfound' && request.method === 'PUT' && /\/roleAssignments\//i.test(request.url)) {
    return {
      why: 'the new identity has not reached the directory yet (PrincipalNotFound)',
      baseDelayMs: 2000,
      maxDelayMs: 30_000,
      limitMs: 150_000
    }
  }
  return undefined
}

/** 409 Conflict / AnotherOperationInProgress: another operation on the resource has not ended yet. */
export function isOperationInProgress(status: number | undefined, code: string | undefined): boolean {
  const c = code?.toLowerCase()
  // Container Apps: 409 ContainerAppLockConflict "… because another modification is in progress"
  // (microsoft/azure-container-apps#175).
  return status === 409 && (c === 'conflict' || c === 'anotheroperationinprogress' || c === 'containerapplockconflict')
}

/** Per call, outside the SDK's retry policy: waits out the answers `retryRule` names, within the budget. */
export function transientErrorPolicy(budget: RetryBudget): PipelinePolicy {
  return {
    name: 'actionTransientErrors',
    async sendRequest(request, next) {
      const started = Date.now()
      for (let attempt = 1; ; attempt++) {
        const response = await next(request)
        const rule = retryRule(request, response)
        if (!rule) return response
        const delay = backoffDelay(attempt, rule.baseDelayMs, rule.maxDelayMs)
        const limit = Math.min(budget.deadline, started + (rule.limitMs ?? Infinity))
        if (Date.now() + delay > limit) return response
        const label = `${request.method} ${new URL(request.url).pathname}`
        budget.lastFailure = `${label}: ${rule.why}`
        core.warning(`${label}: ${rule.why}; retry ${attempt} in ${delay / 1000} s.`)
        await budget.wait(delay)
        if (budget.expired) return response
      }
    }
  }
}
