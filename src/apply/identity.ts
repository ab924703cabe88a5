// The app's identity writes. Each is one PATCH, and each restarts the app and makes App Service
// fetch every Key Vault reference again with the identity in force at that moment (azure-docs
// PR #89321; app-service-key-vault-references.md: "any configuration change to the app causes an
// app restart and an immediate refetch"): so a user-assigned identity is attached and made the
// reference identity in one write, after its grants. A system-assigned identity is turned on
// first (its principal exists only then, and the grants need it), off last (revoke needs it to
// the end).
import type { AppState } from '../model/state.js'
import { ChangeNotVisibleError, type IdentityWrite } from '../azure/sites.js'
import { info } from '../log/log.js'
import { during } from '../azure/operation.js'
import { describeIdentityChange, done } from '../model/change-text.js'
import { type ApplyContext, type Of, onApp } from './context.js'

export async function setIdentity(
  change: Of<'enable-identity' | 'disable-identity'>,
  ctx: ApplyContext
): Promise<void> {
  const app = ctx.app(change.app)
  const on = change.kind === 'enable-identity'
  const action = `turn ${on ? 'on' : 'off'} the system-assigned identity of`
  const what = `the system-assigned identity of ${change.app} turned ${on ? 'on' : 'off'}`
  const { after, written, maybeWritten } = await writeIdentity(ctx, app, action, what, (onMaybe) =>
    // Each kind of target through its own client (sites.ts, container-apps.ts).
    app.target.kind
      ? ctx.azure.containerApps().writeSystemIdentity(app, on, onMaybe)
      : ctx.azure.sites.setSystemIdentity(app, on, onMaybe)
  )
  if (on) ctx.principals.set(change.app, { principalId: after.principalId!, tenantId: after.tenantId ?? '' })
  else ctx.principals.delete(change.app)
  const principal = on ? after.principalId : undefined
  if (written)
    ctx.record(done.systemIdentity(change.app, on, principal, !on && app.userAssignedIds.length > 0, !change.noRestart))
  else if (maybeWritten) ctx.record(done.perhapsByThisRun(what, !change.noRestart))
  else alreadyDone(change.app, what)
}

/**
 * A user-assigned identity onto the app and made the identity references resolve with, in one
 * PATCH: one restart, and App Service's refetch then already sees an identity with access (this
 * runs after the grants: apply/apply.ts).
 */
export async function attachIdentity(change: Of<'attach-identity'>, ctx: ApplyContext): Promise<void> {
  const app = ctx.app(change.app)
  const { identityName: name } = change
  const action = change.attach
    ? `attach user-assigned identity '${name}' to`
    : 'set the Key Vault reference identity of'
  const what = describeIdentityChange(change)
  const { written, maybeWritten } = await writeIdentity(ctx, app, action, what, (onMaybe) =>
    app.target.kind
      ? ctx.azure.containerApps().writeUserAssigned(app, change.identityId, true, onMaybe)
      : ctx.azure.sites.changeIdentity(
          app,
          {
            userAssigned: change.attach ? { id: change.identityId, attached: true } : undefined,
            referenceIdentity: change.setReference ? change.identityId : undefined
          },
          onMaybe
        )
  )
  if (written) ctx.record(done.attached(change))
  else if (maybeWritten) ctx.record(done.perhapsByThisRun(what, !change.noRestart))
  else alreadyDone(change.app, what)
}

/** The reverse, in one PATCH: references back to SystemAssigned and the identity detached (never deleted). */
export async function detachIdentity(change: Of<'detach-identity'>, ctx: ApplyContext): Promise<void> {
  const app = ctx.app(change.app)
  const action = change.detach
    ? `detach user-assigned identity '${change.identityName}' from`
    : 'reset the Key Vault reference identity of'
  const what = describeIdentityChange(change)
  const { written, maybeWritten } = await writeIdentity(ctx, app, action, what, (onMaybe) =>
    app.target.kind
      ? ctx.azure.containerApps().writeUserAssigned(app, change.identityId, false, onMaybe)
      : ctx.azure.sites.changeIdentity(
          app,
          {
            userAssigned: change.detach ? { id: change.identityId, attached: false } : undefined,
            referenceIdentity: change.resetReference ? 'SystemAssigned' : undefined
          },
          onMaybe
        )
  )
  if (change.detach) ctx.principals.delete(change.app)
  if (written) ctx.record(done.detached(change))
  else if (maybeWritten) ctx.record(done.perhapsByThisRun(what, !change.noRestart))
  else alreadyDone(change.app, what)
}

/** A fresh read showed the change already made by someone else: nothing written, nothing claimed. */
function alreadyDone(app: string, what: string): void {
  info(`${app}: ${what} — already so when read again (another writer); nothing written.`)
}

/**
 * One identity write of an app. A write that may have happened is recorded before the step fails,
 * so the outputs and summary do not say nothing changed: a change Azure accepted (202) that did
 * not show within the budget, or an attempt whose outcome is unknown. Afterwards App Service
 * restarts the app and fetches every reference again: statuses read before then are stale
 * (apply/app-settings.ts reads them afresh).
 */
async function writeIdentity(
  ctx: ApplyContext,
  app: AppState,
  action: string,
  what: string,
  write: (onMaybeWritten: () => void) => Promise<IdentityWrite>
): Promise<IdentityWrite> {
  const result = await during(onApp(ctx, app, action), async () => {
    try {
      return await write(() => ctx.record(done.mayHaveMade(what)))
    } catch (error) {
      if (error instanceof ChangeNotVisibleError) ctx.record(done.acceptedNotVisible(what))
      throw error
    }
  })
  ctx.appChanged(result.after)
  if (result.written || result.maybeWritten) ctx.configChanged.set(app.target.key, Date.now())
  return result
}
