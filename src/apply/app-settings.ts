// Key Vault references in an app's settings, after its identity and access are in place (App
// Service caches a failed resolution until the app's configuration changes, so the grant must come
// first; a cached failure the run's changes cured is resolved again with the documented refresh). The settings PUT replaces the whole collection and restarts the app: the collection is
// read right before, changed only where it must be, written once (from a fresh read again after a
// conflict: write-step.ts), recorded, and read back to confirm this run's settings are there. Then
// App Service's own status of each reference is awaited. The settings API has no ETag: a write by
// someone else between that read and the PUT (one round trip) cannot be detected.
import { done } from '../model/change-text.js'
import * as core from '@actions/core'
import type { AppState } from '../model/state.js'
import { during } from '../azure/operation.js'
import {
  failureLine,
  findReference,
  OTHER_VALUE,
  PENDING,
  type ReferenceState,
  RESOLVED,
  sameReference,
  type WantedSetting
} from '../model/references.js'
import { pollReferences } from '../read/references.js'
import { type ApplyContext, type Of, onApp } from './context.js'
import { writeFromFreshRead } from '../azure/write-step.js'

/** A failure reported right after a rewrite may be the old, cached one: it counts only after this. */
const SETTLE_MS = 15_000

export class ReferencesNotResolvedError extends Error {
  constructor(app: string, failed: ReferenceState[]) {
    super(
      `Key Vault references of '${app}' did not resolve (App Service's own status; the app gets the literal @Microsoft.KeyVault(...) text instead of the secret):\n` +
        failed.map(failureLine).join('\n')
    )
    this.name = 'ReferencesNotResolvedError'
  }
}

export class SettingsChangedError extends Error {
  constructor(app: string, names: string[]) {
    super(
      `The app settings of '${app}' read back after the write differ from what was written: ${names.join(', ')}.\n` +
        `Another writer changed them at the same time (the settings API replaces the whole collection).\n` +
        `Fix: check those settings of the app (portal: Environment variables), then re-run; run deployments of one app one at a time (a workflow 'concurrency:' group).`
    )
    this.name = 'SettingsChangedError'
  }
}

export async function setAppSettings(change: Of<'set-app-settings'>, ctx: ApplyContext): Promise<void> {
  const app = ctx.app(change.app)
  const key = app.target.key
  const wanted = ctx.inputs.appSettings
  const client = ctx.azure.siteConfig
  const refresh = change.refresh.map((r) => r.setting)
  let changed: string[] = []
  // The PUT replaces the whole collection: it is built from a read made right before it, and after
  // a 409 or a lost answer from a new read (write-step.ts), so that another writer's settings stay.
  const outcome = await writeFromFreshRead(
    {
      what: `the app settings of '${key}'`,
      read: () => during(onApp(ctx, app, 'read the app settings of'), () => client.listSettings(app.target)),
      build: (current) => {
        const merged = withReferences(current, wanted)
        changed = merged.changed
        return changed.length > 0 ? merged.next : undefined
      },
      write: async (next) => {
        await during(onApp(ctx, app, 'write the app settings of'), () => client.replaceSettings(app.target, next))
        return next
      },
      onMaybeWritten: () => ctx.record(done.settingsMayHaveSet(key, change.names))
    },
    ctx.budget
  )
  if (!outcome.wrote) {
    // Nothing to write and nothing planned but cached failures to heal: the documented refresh.
    if (change.names.length === 0 && !outcome.maybeWritten) return refreshThenSettle(ctx, app, wanted, refresh)
    if (outcome.maybeWritten) ctx.record(done.settingsPerhapsByThisRun(key))
    else
      core.info(
        `${key}: ${change.names.join(', ')} already held the Key Vault references asked for when read again (another writer); nothing written.`
      )
    // Someone wrote them just now (this run perhaps): statuses read before are stale, and App
    // Service's status is awaited as after a write.
    return settle(ctx, app, wanted, Date.now(), [])
  }
  // Azure accepted the write: it is recorded before anything that may fail afterwards.
  const writtenAt = Date.now()
  if (changed.length > 0) ctx.record(done.settingsSet(key, changed))
  if (refresh.length > 0) ctx.record(done.resolvedAgainWithWrite(key, refresh))
  // Confirm this run's settings only: another writer may change other settings after the PUT.
  const after = await during(onApp(ctx, app, 'read back the app settings of'), () => client.listSettings(app.target))
  const ours = new Set(wanted.map((w) => w.name))
  const differ = (names: string[]): string[] => names.filter((name) => after[name] !== outcome.result[name])
  const others = differ(
    [...new Set([...Object.keys(outcome.result), ...Object.keys(after)])].filter((n) => !ours.has(n))
  )
  if (others.length > 0)
    core.warning(
      `Other settings of ${key} changed after this run's write (another writer; not undone): ${others.join(', ')}.`
    )
  const lost = differ([...ours])
  if (lost.length > 0) throw new SettingsChangedError(key, lost)
  await settle(ctx, app, wanted, writtenAt, refresh)
}

/**
 * POST …/configreferences/appsettings/refresh (app-service-key-vault-references.md: "To force
 * resolution …"): App Service fetches every reference again, connection strings' too. It is the
 * portal's "Fetch latest values", and like it restarts the app (Azure/app-service-linux-docs#233).
 * Rewriting unchanged settings instead may be no configuration change to App Service at all.
 */
async function refreshThenSettle(
  ctx: ApplyContext,
  app: AppState,
  wanted: readonly WantedSetting[],
  refresh: string[]
): Promise<void> {
  const key = app.target.key
  await during(onApp(ctx, app, 'ask App Service to resolve the Key Vault references of'), () =>
    ctx.azure.siteConfig.refreshReferences(app.target)
  )
  const refreshedAt = Date.now()
  ctx.record(done.refreshAsked(key, refresh))
  await settle(ctx, app, wanted, refreshedAt, refresh)
}

/** For apps whose settings needed no write: their requested references must resolve all the same. */
export async function checkReferences(ctx: ApplyContext, app: AppState): Promise<void> {
  if (ctx.inputs.appSettings.length === 0) return
  // After an identity write of this run App Service is fetching them again: statuses read before are stale.
  await settle(ctx, app, ctx.inputs.appSettings, ctx.configChanged.get(app.target.key), [])
}

/** The current settings with every wanted reference in place (names matched case-insensitively). */
export function withReferences(
  current: Record<string, string>,
  wanted: readonly WantedSetting[]
): { next: Record<string, string>; changed: string[] } {
  const next = { ...current }
  const changed: string[] = []
  for (const setting of wanted) {
    const existing = Object.keys(next).find((k) => k.toLowerCase() === setting.name.toLowerCase())
    if (existing !== undefined && next[existing] === setting.value && existing === setting.name) continue
    // App Service keeps one setting per name whatever its case: another spelling is renamed (say so).
    if (existing !== undefined) delete next[existing]
    next[setting.name] = setting.value
    changed.push(
      existing !== undefined && existing !== setting.name ? `${setting.name} (was ${existing})` : setting.name
    )
  }
  return { next, changed }
}

/** Waits for a final status of each wanted reference, records them, and fails on any not Resolved. */
async function settle(
  ctx: ApplyContext,
  app: AppState,
  wanted: readonly WantedSetting[],
  writtenAt: number | undefined,
  refreshed: string[]
): Promise<void> {
  const key = app.target.key
  const seenPending = new Set<string>()
  const pending = (list: ReferenceState[]): WantedSetting[] =>
    wanted.filter((w) => {
      const ref = findReference(list, w.name)
      if (!ref || !sameReference(ref.reference, w.value)) return writtenAt !== undefined
      if (ref.status === PENDING) {
        seenPending.add(w.name)
        return true
      }
      // Right after a write back, a failure may still be the cached one being replaced.
      const settling = writtenAt !== undefined && Date.now() - writtenAt < SETTLE_MS
      return ref.status !== RESOLVED && refreshed.includes(w.name) && !seenPending.has(w.name) && settling
    })
  const refs = await pollReferences(
    ctx.inputs,
    ctx.azure,
    ctx.budget,
    app.target,
    writtenAt === undefined ? ctx.references.get(key) : undefined,
    (list) => pending(list).length > 0
  )
  ctx.references.set(key, refs)
  // A reference that resolves but is not the one asked for (another writer set another value) is
  // no success of this run's.
  const failed = wanted
    .map((w) => {
      const ref = findReference(refs, w.name)
      if (!ref) return notReported(w)
      return sameReference(ref.reference, w.value) ? ref : { ...ref, status: OTHER_VALUE, details: undefined }
    })
    .filter((ref) => ref.status !== RESOLVED)
  if (failed.length > 0) throw new ReferencesNotResolvedError(key, failed)
}

function notReported(w: WantedSetting): ReferenceState {
  return {
    setting: w.name,
    reference: w.value,
    status: PENDING,
    vaultName: w.vault,
    secretName: w.secret,
    secretVersion: w.version,
    details: 'App Service did not report this reference yet'
  }
}
