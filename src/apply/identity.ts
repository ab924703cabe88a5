// Turning a system-assigned identity on (its principal joins the run's principals, for the grants)
// or off (after every grant of it is gone).
import { ChangeNotVisibleError } from '../azure/sites.js'
import { during } from '../errors.js'
import { type ApplyContext, type Of, onApp } from './context.js'

export async function setIdentity(
  change: Of<'enable-identity' | 'disable-identity'>,
  ctx: ApplyContext
): Promise<void> {
  const app = ctx.app(change.app)
  const on = change.kind === 'enable-identity'
  const action = `turn ${on ? 'on' : 'off'} the system-assigned identity of`
  const after = await during(onApp(ctx, app, action), () =>
    recordIfAccepted(ctx, `Azure accepted: ${action} ${change.app}`, ctx.azure.sites.setSystemIdentity(app, on))
  )
  if (!on) {
    ctx.principals.delete(change.app)
    const kept = app.userAssignedIds.length > 0 ? ' (user-assigned identities kept)' : ''
    ctx.record(`Turned off the system-assigned identity of ${change.app}${kept}.`)
    return
  }
  ctx.principals.set(change.app, { principalId: after.principalId!, tenantId: after.tenantId ?? '' })
  ctx.record(`Turned on the system-assigned identity of ${change.app} (principal ${after.principalId}).`)
}

/** A user-assigned identity onto the app, then (once attached) made the identity references resolve with. */
export async function attachIdentity(change: Of<'attach-identity'>, ctx: ApplyContext): Promise<void> {
  let app = ctx.app(change.app)
  if (change.attach) {
    app = await during(onApp(ctx, app, `attach user-assigned identity '${change.identityName}' to`), () =>
      recordIfAccepted(
        ctx,
        `Azure accepted: attach user-assigned identity ${change.identityName} to ${change.app}`,
        ctx.azure.sites.setUserAssigned(app, change.identityId, true)
      )
    )
    ctx.record(`Attached user-assigned identity ${change.identityName} to ${change.app} (other identities kept).`)
  }
  if (change.setReference) {
    await during(onApp(ctx, app, 'set the Key Vault reference identity of'), () =>
      ctx.azure.sites.setReferenceIdentity(app, change.identityId)
    )
    ctx.record(
      `Set keyVaultReferenceIdentity of ${change.app} to ${change.identityName} (was ${change.referenceFrom}).`
    )
  }
}

/** The reverse, in the safe order: references back to SystemAssigned, then the identity detached (never deleted). */
export async function detachIdentity(change: Of<'detach-identity'>, ctx: ApplyContext): Promise<void> {
  let app = ctx.app(change.app)
  if (change.resetReference) {
    app = await during(onApp(ctx, app, 'reset the Key Vault reference identity of'), () =>
      ctx.azure.sites.setReferenceIdentity(app, 'SystemAssigned')
    )
    ctx.record(`Reset keyVaultReferenceIdentity of ${change.app} to SystemAssigned.`)
  }
  if (change.detach) {
    await during(onApp(ctx, app, `detach user-assigned identity '${change.identityName}' from`), () =>
      ctx.azure.sites.setUserAssigned(app, change.identityId, false)
    )
    ctx.principals.delete(change.app)
    ctx.record(
      `Detached user-assigned identity ${change.identityName} from ${change.app} (the identity itself is kept).`
    )
  }
}

/**
 * A change Azure accepted (202) that did not show within the budget still happened, or will: it is
 * recorded before the step fails, so the outputs and summary do not say nothing changed.
 */
async function recordIfAccepted<T>(ctx: ApplyContext, line: string, work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (error) {
    if (error instanceof ChangeNotVisibleError) ctx.record(`${line} (not yet visible on the site).`)
    throw error
  }
}
