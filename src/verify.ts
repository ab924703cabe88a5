// mode: verify — a read-only gate. The message lists exactly what is missing and the apply
// that would fix it, so a failed gate tells the reviewer what to run.
import type { Plan } from './plan.js'

export function verifyFailure(plan: Plan): string {
  const lines: string[] = []
  for (const change of plan.changes) {
    if (change.kind === 'enable-identity') lines.push(`  - ${change.app}: the system-assigned identity is off`)
  }
  for (const grant of plan.grants.filter((g) => g.delta)) {
    const what = grant.model === 'rbac' ? `role(s) ${grant.delta}` : grant.delta
    lines.push(`  - ${grant.app} on vault ${grant.vault} (${grant.model}): missing ${what}`)
  }
  return [
    `Verify failed: ${lines.length} thing(s) missing:`,
    ...lines,
    `Fix: run this action with 'mode: apply' (same inputs) from an identity allowed to grant access; 'mode: plan' previews the ${plan.changes.length} change(s) it would make.`
  ].join('\n')
}
