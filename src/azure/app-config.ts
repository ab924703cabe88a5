// An app's (or slot's) settings and App Service's view of their Key Vault references. The settings
// collection has no PATCH: its PUT replaces every setting (WebApps_UpdateApplicationSettings,
// "Replaces the application settings of an app") and restarts the app, so a write is always the
// whole collection as read just before, changed only where it must be.
import type { WebSiteManagementContext } from '@azure/arm-appservice/api'
import {
  listApplicationSettings,
  listApplicationSettingsSlot,
  listAppSettingsKeyVaultReferences,
  listAppSettingsKeyVaultReferencesSlot,
  updateApplicationSettings,
  updateApplicationSettingsSlot
} from '@azure/arm-appservice/api/webApps'
import type { ApiKVReference } from '@azure/arm-appservice/models'
import type { ReferenceState } from '../references.js'
import type { AppTarget } from '../settings.js'

/** Shares the Microsoft.Web client (one pipeline) with Sites: see webSites(). */
export class AppConfig {
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

  /** App Service's resolution status of every Key Vault reference (a read: Reader is enough). */
  async listReferences(target: AppTarget): Promise<ReferenceState[]> {
    const { name, slot } = target
    const pages = slot
      ? listAppSettingsKeyVaultReferencesSlot(this.context, this.resourceGroup, name, slot)
      : listAppSettingsKeyVaultReferences(this.context, this.resourceGroup, name)
    const all: ReferenceState[] = []
    for await (const item of pages) all.push(toReferenceState(item))
    return all
  }
}

function toReferenceState(item: ApiKVReference): ReferenceState {
  // The setting's name is the last segment of the item's id (…/configreferences/appsettings/{name}).
  const setting = (item.id ?? item.name ?? '').split('/').pop() ?? ''
  return {
    setting,
    reference: item.reference ?? '',
    status: item.status ?? 'Initialized',
    vaultName: item.vaultName,
    secretName: item.secretName,
    secretVersion: item.secretVersion || undefined,
    details: item.details || undefined
  }
}
