// Turning a system-assigned identity on (its principal joins the run's principals, for the grants)
// or off (after every grant of it is gone).
import { during } from '../errors.js'
import type { ApplyContext, Of } from './context.js'

export async function setIdentity(
  change: Of<'enable-identity' | 'disable-identity'>,
  ctx: ApplyContext
): Promise<void> {
  const app = ctx.app(change.app)
  const on = change.kind === 'enable-identity'
  const context = {
    action: `turn ${on ? 'on' : 'off'} the system-assigned identity of`,
    kind: app.target.slot ? ('slot' as const) : ('app' as const),
    target: app.target,
    settings: ctx.settings
  }
  const after = await during(context, () => ctx.azure.sites.setSystemIdentity(app, on))
  if (!on) {
    ctx.principals.delete(change.app)
    const kept = app.userAssignedIds.length > 0 ? ' (user-assigned identities kept)' : ''
    ctx.record(`Turned off the system-assigned identity of ${change.app}${kept}.`)
    return
  }
  ctx.principals.set(change.app, { principalId: after.principalId!, tenantId: after.tenantId ?? '' })
  ctx.record(`Turned on the system-assigned identity of ${change.app} (principal ${after.principalId}).`)
}
