// Every failure becomes one actionable message: what failed, why, and the fix. Azure calls run
// inside `during(...)`, which records what the action was doing and to what, so a bare ARM error
// code can be turned into "the app 'x' was not found in resource group 'y'".
import { AccessStillHeldError } from '../apply/access-policies.js'
import { NetworkError } from '../azure/http/attempt-policy.js'
import { ForeignOriginError } from '../azure/http/pipeline.js'
import { UnexpectedAzureDataError } from '../azure/returned.js'
import { ChangeNotVisibleError } from '../azure/sites.js'
import { VaultNotFoundError } from '../azure/vaults.js'
import { causeChain } from '../model/error-chain.js'
import { budgetMessage, entraMessage, type ExplainContext, isSignInFailure, runnerSignInMessage } from './signin.js'
import { MissingOidcPermissionError, OidcRequestError } from '../signin/github-oidc.js'
import { AzureOperationError, type OperationContext } from '../azure/operation.js'

/** The built-in role that grants an ARM action the sign-in identity was refused. */
const ROLE_FOR_ACTION: [RegExp, string][] = [
  [/^microsoft\.web\/sites\/(slots\/)?config\/list\/action/i, 'Website Contributor (or Contributor) on the app'],
  [/^microsoft\.web\/sites\/(slots\/)?config\/write/i, 'Website Contributor (or Contributor) on the app'],
  [/^microsoft\.web\/sites\/(slots\/)?config\/.*read/i, 'Reader (or Website Contributor) on the app'],
  [/^microsoft\.keyvault\/vaults\/secrets\/read/i, 'Reader (or Key Vault Contributor) on the vault'],
  [/^microsoft\.web\/sites\/slots\/write/i, 'Website Contributor (or Contributor) on the app'],
  [/^microsoft\.web\/sites\/slots\/read/i, 'Reader (or Website Contributor) on the app'],
  [/^microsoft\.web\/sites\/write/i, 'Website Contributor (or Contributor) on the app'],
  [/^microsoft\.web\/sites\/read/i, 'Reader (or Website Contributor) on the app'],
  [/^microsoft\.keyvault\/vaults\/accesspolicies\/write/i, 'Key Vault Contributor (or Contributor) on the vault'],
  [/^microsoft\.keyvault\/vaults\/read/i, 'Reader (or Key Vault Contributor) on the vault'],
  [
    /^microsoft\.authorization\/roleassignments\/write/i,
    'Role Based Access Control Administrator (or User Access Administrator) on the vault'
  ],
  [/^microsoft\.authorization\/roleassignments\/read/i, 'Reader on the vault'],
  [
    /^microsoft\.authorization\/roleassignments\/delete/i,
    'Role Based Access Control Administrator (or User Access Administrator) on the vault'
  ]
]

interface RestLikeError {
  message?: string
  code?: string
  statusCode?: number
}

export type { ExplainContext } from './signin.js'

type ErrorType = abstract new (...args: never[]) => Error

/**
 * Errors of the action's own whose message says what failed, to what, and the fix. A function, not
 * a constant: apply/access-policies.ts imports this module, so its class exists only once both
 * modules have loaded.
 */
const selfExplained = (): ErrorType[] => [
  MissingOidcPermissionError,
  VaultNotFoundError,
  ChangeNotVisibleError,
  AccessStillHeldError
]
/** Errors of the action's own that say why, after what failed ("Could not read app 'x'"). */
const explainsWhy = (): ErrorType[] => [UnexpectedAzureDataError, ForeignOriginError, NetworkError]

const ofType =
  (types: ErrorType[]) =>
  (e: unknown): e is Error =>
    types.some((type) => e instanceof type)

/**
 * An abort: fetch, AbortSignal, @azure/abort-controller and the retry budget all name it
 * 'AbortError', the DOM standard's code for it (each has its own class).
 */
const ABORT_ERROR = 'AbortError'
const isAbort = (e: unknown): boolean => e instanceof Error && e.name === ABORT_ERROR

export function explain(error: unknown, context: ExplainContext = {}): string {
  const chain = causeChain(error)
  // Our own errors reach us wrapped by @azure/identity and by during(): report them as themselves.
  const own = chain.find(ofType(selfExplained()))
  if (own) return own.message
  const signIn = isSignInFailure(chain)
  const what = whatFailed(error, signIn, context)
  const why = chain.find(ofType(explainsWhy()))
  if (why) return `${what}: ${why.message}`
  const oidc = chain.findIndex((e) => e instanceof OidcRequestError)
  if (oidc >= 0 && !chain.slice(oidc).some(isAbort)) return (chain[oidc] as Error).message
  if (context.budget?.expired && chain.some(isAbort)) return budgetMessage(what, context)
  // Only a failure to get a token is a sign-in failure: an Azure answer, or App Service's details of
  // a reference, may quote an AADSTS code that has nothing to do with this run's sign-in.
  const signInMessage = signIn ? (runnerSignInMessage(chain, context) ?? entraMessage(chain, context)) : undefined
  if (signInMessage) return signInMessage
  if (!(error instanceof AzureOperationError)) return messageOf(error)
  return armMessage(error, error.cause as RestLikeError, context)
}

function whatFailed(error: unknown, signIn: boolean, context: ExplainContext): string {
  if (error instanceof AzureOperationError) return error.message
  if (signIn) {
    if (context.authType === 'managed-identity') return "Could not sign in with the runner's managed identity"
    if (context.authType === 'azure-cli') return 'Could not sign in with the Azure CLI session'
    const client = context.clientId ? ` as client ${context.clientId}` : ''
    const tenant = context.tenantId ? ` in tenant ${context.tenantId}` : ''
    return `Could not sign in to Entra ID${client}${tenant}`
  }
  return 'The run failed'
}

/** An ARM error answer, by its code: what it means here and the fix. */
function armMessage(error: AzureOperationError, cause: RestLikeError, context: ExplainContext): string {
  const what = error.message
  const azureSays = cause?.message
    ? `Azure says: ${cause.code ? `${cause.code}: ` : ''}${cause.message}`
    : messageOf(cause)
  switch (cause?.code) {
    case 'AuthorizationFailed': {
      const match = /action '([^']+)' over scope '([^']+)'/.exec(cause.message ?? '')
      const action = match?.[1] ?? 'the required action'
      const role = ROLE_FOR_ACTION.find(([pattern]) => pattern.test(action))?.[1] ?? 'a role that grants it'
      return (
        `${what}: the sign-in identity (client ${context.clientId ?? 'id unknown'}) may not perform '${action}' over scope '${match?.[2] ?? 'unknown'}'.\n` +
        `Fix: grant it ${role}, e.g. az role assignment create --assignee ${context.clientId ?? '<client-id>'} --role "${role.split(' (')[0]}" --scope ${match?.[2] ?? '<scope>'}\n${azureSays}`
      )
    }
    case 'SubscriptionNotFound':
      return `${what}: the subscription was not found, or the sign-in identity has no access to it.\nFix: check 'subscription-id' / 'vault-subscription-id' and that the identity has a role in that subscription.\n${azureSays}`
    case 'ResourceGroupNotFound':
      return `${what}: the resource group does not exist (or the sign-in identity cannot see it).\nFix: check 'resource-group' / 'vault-resource-group'.\n${azureSays}`
    case 'ResourceNotFound':
    case 'NotFound':
      return `${what}: ${notFoundHint(error.context)}\n${azureSays}`
    case 'PrincipalNotFound':
      return `${what}: the identity is still not known to the directory after retrying (replication delay, retried for up to 150 s within 'retry-timeout').\nFix: re-run the job in a few minutes; an identity that is on stays on, so the re-run only grants what is missing.\n${azureSays}`
    case 'LinkedAuthorizationFailed':
      return (
        `${what}: ARM checks that the sign-in identity (client ${context.clientId ?? 'id unknown'}) may assign each user-assigned identity a write names; the action names only the one it attaches or detaches ('identity'), and Azure names it below (the linked scope).\n` +
        `Fix: grant it Managed Identity Operator on that identity (az role assignment create --assignee ${context.clientId ?? '<client-id>'} --role "Managed Identity Operator" --scope <that identity's id>).\n${azureSays}`
      )
    case 'InvalidAuthenticationTokenTenant':
      return `${what}: the subscription belongs to another tenant than 'tenant-id' (${context.tenantId ?? 'unknown'}).\nFix: set 'tenant-id' to the subscription's tenant, or check 'subscription-id' / 'vault-subscription-id'.\n${azureSays}`
    case 'Conflict':
    case 'AnotherOperationInProgress':
      return `${what}: another operation on the resource kept it busy (409 Conflict) until 'retry-timeout' was spent.\nFix: wait for the other deployment or operation to finish and re-run (the run is safe to repeat).\n${azureSays}`
    case 'ScopeLocked':
      return scopeLocked(what, cause.message ?? '', azureSays)
    // Container Apps secrets (Azure/bicep-registry-modules#4868; microsoft/azure-container-apps#654).
    case 'ContainerAppSecretKeyVaultUrlInvalid':
      return `${what}: Container Apps refused a Key Vault secret URL.\nFix: check the vault and secret names in 'app-settings' and 'vault-name' (the URL is https://<vault>.<Key Vault DNS suffix>/secrets/<name>[/<version>]).\n${azureSays}`
    case 'ContainerAppSecretInvalid':
      return `${what}: Container Apps refused a secret of the app: each needs a value, or a Key Vault URL and an identity. The action sends every other secret back as listSecrets gave it; one the sign-in identity cannot list (no Microsoft.App/containerApps/listSecrets/action) cannot be sent back.\nFix: grant the sign-in identity listSecrets on the app (Contributor includes it), then re-run.\n${azureSays}`
  }
  if (cause?.statusCode !== undefined && cause.statusCode >= 300 && cause.statusCode < 400) {
    return `${what}: Azure answered with a redirect (${cause.statusCode}) to another host, which the action does not follow (the access token goes only to the ARM endpoint).\nFix: check 'arm-endpoint' (or 'environment') and any proxy in between.\n${azureSays}`
  }
  if (cause?.statusCode === 401) {
    return `${what}: Azure Resource Manager did not accept the access token (401).\nFix: check that 'environment' / 'arm-endpoint' match the cloud the tenant lives in, and that 'tenant-id' is the subscription's tenant.\n${azureSays}`
  }
  return `${what}.\n${azureSays}`
}

function notFoundHint(context: OperationContext): string {
  if (context.kind === 'identity') {
    return `the identity does not exist there.\nFix: check 'identity' (a name, looked up in 'identity-resource-group' or else 'resource-group', or a full resource id); create it with az identity create --name ${context.identity.name} --resource-group ${context.identity.resourceGroup}.`
  }
  if (context.kind === 'vault') {
    return `the vault does not exist there.\nFix: check 'vault-name', 'vault-resource-group' and 'vault-subscription-id' (leave 'vault-resource-group' empty to find the vault by name).`
  }
  if (context.kind === 'app' && context.target.kind) {
    const [input, list] =
      context.target.kind === 'job'
        ? ['container-app-job', 'az containerapp job list']
        : ['container-app', 'az containerapp list']
    return `it does not exist in that resource group.\nFix: check '${input}' and 'resource-group' (${list} --resource-group ${context.inputs.resourceGroup} --query [].name).`
  }
  if (context.kind === 'slot') {
    return `the app or its slot does not exist.\nFix: check 'app-name' and 'slot' (az webapp deployment slot list --name ${context.target.name} --resource-group ${context.inputs.resourceGroup}).`
  }
  return `the app does not exist in that resource group.\nFix: check 'app-name' and 'resource-group' (az webapp list --resource-group ${context.inputs.resourceGroup} --query [].name).`
}

/** A resource lock (ReadOnly, or CanNotDelete for deletions) forbids the write: retrying cannot help. */
function scopeLocked(what: string, message: string, azureSays: string): string {
  const locked = /locked: '([^']+)'/.exec(message)?.[1] ?? 'a scope above the resource'
  const operation = /perform (\w+) operation/.exec(message)?.[1] ?? 'write'
  return (
    `${what}: a resource lock on ${locked} forbids this ${operation} (409 ScopeLocked).\n` +
    `Fix: remove the lock (Portal: that resource or group → Settings → Locks; CLI: az lock list, then az lock delete --ids <lock id>) ` +
    `or ask its owner to lift it for the run, then re-run (the run is safe to repeat). ` +
    `A ReadOnly lock refuses every change, a CanNotDelete lock only deletions.\n${azureSays}`
  )
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
