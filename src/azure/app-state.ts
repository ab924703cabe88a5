// An app or slot as the action sees it after a read: what the plan compares and the identity PATCH
// bodies are built from (identity-patch.ts). Its own module so that the pure body builders need
// nothing of the client that reads and writes sites (sites.ts).
import type { AppTarget } from '../inputs/inputs.js'

export interface AppState {
  target: AppTarget
  id: string
  kind: string
  identityType: string
  systemAssigned: boolean
  /** Resource ids of the user-assigned identities, exactly as ARM returned them. */
  userAssignedIds: string[]
  principalId?: string
  tenantId?: string
  /** The identity App Service resolves Key Vault references with: 'SystemAssigned' or a user-assigned identity's id. */
  keyVaultReferenceIdentity?: string
}
