// What the inputs name: the apps (or slots) and the vaults the run is about.
export interface AppTarget {
  name: string
  slot?: string
  /** `name` or `name/slot`: how outputs and the summary name this app. */
  key: string
}
export interface VaultTarget {
  name: string
  /** Undefined: look the vault up by name in its subscription. */
  resourceGroup?: string
  subscriptionId: string
}
