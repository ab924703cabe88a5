// What the action was doing, and to what, when an Azure call failed: every call runs inside
// `during(...)`, so a bare ARM error code can later be explained as "the app 'x' was not found in
// resource group 'y'" (diagnose/explain.ts). Below every stage that calls Azure, so none of them
// has to import the diagnosis.
import type { Inputs } from '../inputs/inputs.js'
import type { AppTarget, VaultTarget } from '../model/targets.js'

export type OperationContext =
  | { action: string; kind: 'app' | 'slot'; target: AppTarget; inputs: Inputs }
  | { action: string; kind: 'vault'; vault: VaultTarget; inputs: Inputs }
  | {
      action: string
      kind: 'identity'
      identity: { name: string; resourceGroup: string; subscriptionId: string }
      inputs: Inputs
    }
export class AzureOperationError extends Error {
  readonly context: OperationContext
  constructor(context: OperationContext, cause: unknown) {
    super(`Could not ${context.action} ${describeTarget(context)}`, { cause })
    this.name = 'AzureOperationError'
    this.context = context
  }
}

export async function during<T>(context: OperationContext, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    throw error instanceof AzureOperationError ? error : new AzureOperationError(context, error)
  }
}
export function describeTarget(context: OperationContext): string {
  if (context.kind === 'identity') {
    const { identity } = context
    return `user-assigned identity '${identity.name}' (resource group '${identity.resourceGroup}', subscription ${identity.subscriptionId})`
  }
  if (context.kind === 'vault') {
    const { vault } = context
    const where = vault.resourceGroup ? `resource group '${vault.resourceGroup}', ` : ''
    return `Key Vault '${vault.name}' (${where}subscription ${vault.subscriptionId})`
  }
  const { target, inputs: inputs } = context
  const what =
    target.kind === 'containerapp'
      ? `container app '${target.name}'`
      : target.kind === 'job'
        ? `Container Apps job '${target.name}'`
        : target.slot
          ? `slot '${target.slot}' of app '${target.name}'`
          : `app '${target.name}'`
  return `${what} (resource group '${inputs.resourceGroup}', subscription ${inputs.subscriptionId})`
}
/** The operation context for errors about an app or slot. */

export function onTarget(inputs: Inputs, target: AppTarget, action: string): OperationContext {
  return { action, kind: target.slot ? 'slot' : 'app', target, inputs }
}
