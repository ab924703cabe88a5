// An app's (or slot's) settings and App Service's view of their Key Vault references. The settings
// collection has no PATCH: its PUT replaces every setting (WebApps_UpdateApplicationSettings,
// "Replaces the application settings of an app") and restarts the app, so a write is always the
// whole collection as read just before, changed only where it must be.
//
// Reference statuses are read raw, not through the SDK's list functions: `identityType` is a
// ManagedServiceIdentity object in the spec but a plain string ("UserAssigned") in live answers,
// which the SDK's deserializer reduces to nothing. Both collections are read: app settings and
// connection strings (WebApps_GetKeyVaultReferencesForConnectionStrings) can each hold references.
import { createRestError } from '@azure-rest/core-client'
import type { WebSiteManagementContext } from '@azure/arm-appservice/api'
import {
  listApplicationSettings,
  listApplicationSettingsSlot,
  listConnectionStrings,
  listConnectionStringsSlot,
  updateApplicationSettings,
  updateApplicationSettingsSlot
} from '@azure/arm-appservice/api/webApps'
import type { AppConfigurationReference } from '../model/app-configuration-references.js'
import { isAppConfigurationReference, type ReferenceCollection, type ReferenceState } from '../model/references.js'
import type { AppTarget } from '../model/targets.js'

const API_VERSION = '2025-05-01'
const COLLECTIONS: readonly ReferenceCollection[] = ['appsettings', 'connectionstrings']

/** One item of …/configreferences/{collection} as it arrives. */
interface WireReference {
  id?: string
  name?: string
  properties?: {
    reference?: string
    status?: string
    vaultName?: string
    secretName?: string
    secretVersion?: string
    details?: string
    identityType?: string | { type?: string } | null
  }
}

/** Shares the Microsoft.Web client (one pipeline) with Sites: see webSites(). */
export class SiteConfig {
  private readonly context: WebSiteManagementContext
  private readonly resourceGroup: string

  constructor(context: WebSiteManagementContext, resourceGroup: string) {
    this.context = context
    this.resourceGroup = resourceGroup
  }

  /** Every setting, values included (Microsoft.Web/sites/config/list/action: not in Reader). */
  async listSettings(target: AppTarget): Promise<Record<string, string>> {
    const { name, slot } = target
    const dictionary = slot
      ? await listApplicationSettingsSlot(this.context, this.resourceGroup, name, slot)
      : await listApplicationSettings(this.context, this.resourceGroup, name)
    return { ...(dictionary.properties ?? {}) }
  }

  /** Replaces the whole collection with `settings`. */
  async replaceSettings(target: AppTarget, settings: Record<string, string>): Promise<void> {
    const { name, slot } = target
    const body = { properties: settings }
    if (slot) await updateApplicationSettingsSlot(this.context, this.resourceGroup, name, slot, body)
    else await updateApplicationSettings(this.context, this.resourceGroup, name, body)
  }

  /**
   * The names of the settings and connection strings that are App Configuration references. Their
   * values are read (config/list/action) and dropped here: only names leave this function.
   */
  async listAppConfigurationReferences(target: AppTarget): Promise<AppConfigurationReference[]> {
    const { name, slot } = target
    const [settings, strings] = await Promise.all([
      this.listSettings(target),
      slot
        ? listConnectionStringsSlot(this.context, this.resourceGroup, name, slot)
        : listConnectionStrings(this.context, this.resourceGroup, name)
    ])
    const named = (collection: ReferenceCollection, values: [string, string | undefined][]) =>
      values.filter(([, v]) => isAppConfigurationReference(v ?? '')).map(([setting]) => ({ setting, collection }))
    return [
      ...named('appsettings', Object.entries(settings)),
      ...named(
        'connectionstrings',
        Object.entries(strings.properties ?? {}).map(([n, c]) => [n, c.value] as [string, string | undefined])
      )
    ]
  }

  /** App Service's resolution status of every Key Vault reference, app settings then connection strings (Reader is enough). */
  async listReferences(target: AppTarget): Promise<ReferenceState[]> {
    const lists = await Promise.all(COLLECTIONS.map((collection) => this.listCollection(target, collection)))
    return lists.flat()
  }

  /**
   * POST …/config/configreferences/appsettings/refresh: "To force resolution of your app's Key Vault
   * references" (app-service-key-vault-references.md). The portal's "Fetch latest values" calls it,
   * and the app restarts (Azure/app-service-linux-docs#233). Its answer is undocumented: the
   * statuses are read again afterwards.
   */
  async refreshReferences(target: AppTarget): Promise<void> {
    const response = await this.context
      .pathUnchecked(`${this.sitePath(target)}/config/configreferences/appsettings/refresh`)
      .post({ queryParameters: { 'api-version': API_VERSION } })
    if (!response.status.startsWith('2')) throw createRestError(response)
  }

  private sitePath({ name, slot }: AppTarget): string {
    const site = `/subscriptions/${this.context.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.Web/sites/${name}`
    return slot ? `${site}/slots/${slot}` : site
  }

  /** Page links are followed as ARM gives them; the pipeline refuses one that leaves the ARM origin. */
  private async listCollection(target: AppTarget, collection: ReferenceCollection): Promise<ReferenceState[]> {
    const all: ReferenceState[] = []
    let next: string | undefined = `${this.sitePath(target)}/config/configreferences/${collection}`
    let query: Record<string, string> | undefined = { 'api-version': API_VERSION }
    while (next) {
      const response = await this.context.pathUnchecked(next).get({ queryParameters: query })
      if (response.status !== '200') throw createRestError(response)
      const body = response.body as { value?: WireReference[]; nextLink?: string | null }
      all.push(...(body.value ?? []).map((item) => toReferenceState(item, collection)))
      next = body.nextLink ?? undefined
      query = undefined // nextLink carries its own query
    }
    return all
  }
}

export function toReferenceState(item: WireReference, collection: ReferenceCollection): ReferenceState {
  const p = item.properties ?? {}
  // The name is the last segment of the item's id (…/configreferences/{collection}/{name}).
  const setting = (item.id ?? item.name ?? '').split('/').pop() ?? ''
  // A string in live answers, an object in the spec: both are accepted.
  const identity = typeof p.identityType === 'string' ? p.identityType : (p.identityType?.type ?? undefined)
  return {
    setting,
    ...(collection === 'connectionstrings' ? { collection } : {}),
    reference: p.reference ?? '',
    status: p.status ?? 'Initialized',
    vaultName: p.vaultName || undefined,
    secretName: p.secretName || undefined,
    secretVersion: p.secretVersion || undefined,
    details: p.details || undefined,
    identity: identity || undefined
  }
}
