// What every executor of a change kind shares: the clients, the state read before the plan, the
// principals known so far (identities turned on by this run join them), and the run's ledger of
// writes made and failures met.
import type { RetryBudget } from '../azure/http/budget.js'
import type { AppState } from '../model/state.js'
import type { VaultState } from '../model/state.js'
import type { OperationContext } from '../azure/operation.js'
import type { ReferenceState } from '../model/references.js'
import { checkIdentityTenant } from '../plan/plan.js'
import { type Change } from '../model/changes.js'
import { type Azure } from '../azure/clients.js'
import { onTarget } from '../azure/operation.js'
import type { Inputs } from '../inputs/inputs.js'

export interface Principal {
  principalId: string
  tenantId: string
}

export interface ApplyContext {
  azure: Azure
  inputs: Inputs
  budget: RetryBudget
  /** Each app's system identity as it stands now, by app key. */
  principals: Map<string, Principal>
  /** App Service's Key Vault references of each app as last read, by app key. */
  references: Map<string, ReferenceState[]>
  /**
   * When this run last changed each app's identity (by app key): App Service restarted it and is
   * fetching every reference again, so statuses read before then are stale.
   */
  configChanged: Map<string, number>
  /** The app as this run last read or wrote it. */
  app(key: string): AppState
  /** The app as an identity write of this run left it. */
  appChanged(after: AppState): void
  vault(id: string): VaultState
  /** A write that was made: logged as a notice, listed in the summary, counted in `changed`. */
  record(line: string): void
  /**
   * One app's part of a change failed; the other apps of the change go on. With a vault, only
   * that app's later changes on that vault are left out; without, all its later changes.
   */
  fail(app: string, error: unknown, vaultId?: string): void
}

export type Of<K extends Change['kind']> = Extract<Change, { kind: K }>

/** The operation context for errors about an app or slot. */
export function onApp(ctx: ApplyContext, app: AppState, action: string): OperationContext {
  return onTarget(ctx.inputs, app.target, action)
}

/** The operation context for errors about a vault. */
export function onVault(ctx: ApplyContext, vault: VaultState, action: string): OperationContext {
  return { action, kind: 'vault', vault: vault.target, inputs: ctx.inputs }
}

/**
 * The principal to grant for `app` on `vault`: the one the plan knew, or the identity this run
 * turned on, whose tenant is known only now and must be the vault's.
 */
export function principalFor(ctx: ApplyContext, app: string, known: string | undefined, vault: VaultState): string {
  if (known) return known
  const principal = ctx.principals.get(app)
  if (!principal) throw new Error(`No principal id for '${app}': its identity was not turned on.`)
  checkIdentityTenant(app, principal.tenantId, vault)
  return principal.principalId
}
