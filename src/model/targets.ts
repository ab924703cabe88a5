// What the inputs name: the apps (or slots) and the vaults the run is about. An app is an App
// Service web or function app (or one of its slots), or an Azure Container Apps app or job: the
// plan and the vault side treat them alike; each kind has its own client and identity writer.

/** Absent: an App Service app or slot (Microsoft.Web/sites). */
export type TargetKind = 'containerapp' | 'job'

export interface AppTarget {
  name: string
  slot?: string
  /** `name` or `name/slot` (App Service), `containerapp:name` or `job:name`: how outputs and the summary name it. */
  key: string
  kind?: TargetKind
}
export interface VaultTarget {
  name: string
  /** Undefined: look the vault up by name in its subscription. */
  resourceGroup?: string
  subscriptionId: string
}
