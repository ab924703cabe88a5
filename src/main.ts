// inputs → settings → credential → read → plan → apply → outputs and summary.
import * as core from '@actions/core'
import { applyPlan } from './apply.js'
import { RetryBudget } from './azure/pipeline.js'
import { createCredential, type GitHubAssertion } from './credential.js'
import { explain } from './errors.js'
import { describeChange, makePlan } from './plan.js'
import { connect, readState } from './read.js'
import { computeOutputs, setOutputs, writeSummary } from './report.js'
import { parseSettings, type Settings } from './settings.js'

export async function run(): Promise<void> {
  let settings: Settings | undefined
  let assertion: GitHubAssertion | undefined
  let budget: RetryBudget | undefined
  try {
    settings = parseSettings((name) => core.getInput(name))
    budget = new RetryBudget(settings.retryTimeoutSeconds)
    const signIn = createCredential(settings, budget)
    assertion = signIn.assertion
    const azure = connect(settings, signIn.credential, budget)

    const state = await core.group('Read apps and vaults', () => readState(settings!, azure))
    const plan = makePlan(settings, state)
    core.info(
      plan.changes.length === 0
        ? 'Plan: nothing to change.'
        : `Plan: ${plan.changes.length} change(s):\n${plan.changes.map((c) => `  - ${describeChange(c)}`).join('\n')}`
    )
    const applied = await core.group('Apply', () => applyPlan(plan.changes, state, azure, settings!, budget!.deadline))

    const outputs = computeOutputs(settings, plan, applied)
    setOutputs(outputs)
    await writeSummary(settings, plan, applied, outputs)
    core.info(outputs.changed === 'true' ? `Done: ${applied.writes.length} change(s).` : 'Done: nothing to change.')
  } catch (error) {
    core.setFailed(explain(error, { claims: assertion?.claims, clientId: settings?.clientId, tenantId: settings?.tenantId, budget }))
  }
}
