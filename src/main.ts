// inputs (parsed once into one Inputs value) → credential → read → plan → apply → outputs and summary.
import * as core from '@actions/core'
import { type Applied, applyPlan, PartialApplyError, principalsBefore } from './apply/apply.js'
import { appConfigurationNotes } from './plan/app-configuration.js'
import { RetryBudget } from './azure/http/budget.js'
import { createCredential, signIn as signInToAzure } from './signin/credential.js'
import type { GitHubAssertion } from './signin/github-oidc.js'
import { maskProxyCredentials, routeSdkLogsToDebug } from './log/sdk-debug.js'
import { explain } from './diagnose/explain.js'
import { info } from './log/log.js'
import { makePlan } from './plan/plan.js'
import { describeChange } from './model/change-text.js'
import { type Plan } from './model/changes.js'
import { makeRevokePlan } from './plan/revoke.js'
import { readState } from './read/read.js'
import { settledReferences, unhealthyRevisions } from './read/references.js'
import { connect } from './azure/clients.js'
import { commentOnPullRequest } from './report/pr-comment.js'
import { buildReport, computeOutputs, setOutputs, writeSummary } from './report/report.js'
import { parseInputs, type Inputs } from './inputs/inputs.js'
import {
  unresolvedReferences,
  verifyFailure,
  warnAccessStillHeld,
  warnReferencesLosingAccess
} from './report/verify.js'

export async function run(): Promise<void> {
  let inputs: Inputs | undefined
  let assertion: GitHubAssertion | undefined
  let budget: RetryBudget | undefined
  let plan: Plan | undefined
  let tenantId: string | undefined
  let notes: string[] = []
  try {
    maskProxyCredentials()
    routeSdkLogsToDebug()
    inputs = parseInputs((name) => core.getInput(name))
    budget = new RetryBudget(inputs.retryTimeoutSeconds)
    const signIn = createCredential(inputs, budget)
    assertion = signIn.assertion
    const session = await core.group('Sign in', () => signInToAzure(signIn.credential, inputs!, budget!))
    tenantId = session.tenantId
    const azure = connect(inputs, signIn.credential, budget)

    const state = await core.group('Read apps and vaults', () => readState(inputs!, azure))
    // The gate judges final statuses: references App Service is still resolving are waited for.
    if (inputs.mode === 'verify') state.references = await settledReferences(inputs, azure, budget, state.references)
    plan = inputs.mode === 'revoke' ? makeRevokePlan(inputs, state, inputs.disableIdentity) : makePlan(inputs, state)
    info(
      plan.changes.length === 0
        ? 'Plan: nothing to change.'
        : `Plan: ${plan.changes.length} change(s):\n${plan.changes.map((c) => `  - ${describeChange(c)}`).join('\n')}`
    )
    // The identity change of the plan also moves the app's App Configuration references.
    notes = appConfigurationNotes(plan, state.appConfigReferences)
    for (const note of notes) {
      if (inputs.mode === 'apply' || inputs.mode === 'revoke') core.warning(note)
      else info(`Note: ${note}`)
    }

    if (inputs.mode === 'revoke') {
      warnReferencesLosingAccess(plan, state)
      warnAccessStillHeld(plan)
    }

    const readOnly = inputs.mode === 'plan' || inputs.mode === 'verify'
    // plan and verify write nothing: the principals and references are the ones already there.
    const applied = readOnly
      ? {
          principals: principalsBefore(state),
          references: state.references,
          writes: [],
          userIdentity: state.userIdentity
        }
      : await core.group('Apply', () => applyPlan(plan!.changes, state, azure, inputs!, budget!))

    await report(inputs, plan, applied, notes)
    const unresolved = unresolvedReferences(state.references)
    const unhealthy = inputs.mode === 'verify' ? await unhealthyRevisions(inputs, azure) : []
    if (inputs.mode === 'verify' && (plan.changes.length > 0 || unresolved.length > 0 || unhealthy.length > 0)) {
      core.setFailed(verifyFailure(plan, unresolved, unhealthy))
      return
    }
    info(doneMessage(inputs, plan, applied))
  } catch (error) {
    const context = {
      claims: assertion?.claims,
      clientId: inputs?.clientId,
      tenantId: tenantId || inputs?.tenantId,
      authType: inputs?.authType,
      authorityHost: inputs?.cloud.authorityHost,
      budget
    }
    let failure = error
    if (error instanceof PartialApplyError && inputs && plan) {
      // Report what was written before failing: outputs and summary from the writes that succeeded.
      await report(inputs, plan, error.applied, notes).catch(() => undefined)
      failure = error.failures[0]
      for (const other of error.failures.slice(1)) core.error(explain(other, context))
    }
    core.setFailed(explain(failure, context))
  }
}

/** Outputs, the job summary, and (when asked for) the same on the pull request. */
async function report(inputs: Inputs, plan: Plan, applied: Applied, notes: string[]): Promise<void> {
  const outputs = computeOutputs(inputs, plan, applied)
  setOutputs(outputs)
  const built = buildReport(inputs, plan, applied, outputs, notes)
  await writeSummary(built)
  await commentOnPullRequest(inputs, built)
}

function doneMessage(inputs: Inputs, plan: Plan, applied: Applied): string {
  switch (inputs.mode) {
    case 'plan':
      return plan.changes.length === 0
        ? 'Plan: apply would change nothing.'
        : `Plan: apply would make ${plan.changes.length} change(s); nothing was written.`
    case 'verify':
      return 'Verified: every app has its identity and every requested permission.'
    default:
      return applied.writes.length > 0 ? `Done: ${applied.writes.length} change(s).` : 'Done: nothing to change.'
  }
}
