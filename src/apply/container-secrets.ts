// Key Vault secrets of container targets, after their grants: Container Apps checks each Key Vault
// secret with the app's identity when it is written, synchronously (microsoft/azure-container-apps
// #1174, #722), and a role assignment made a moment ago may not count yet — so that refusal is
// waited out within `retry-timeout`, then named. The write carries every secret the app has (a
// PATCH replaces the whole array: container-apps.ts) and never prints a value. Proof afterwards:
// listSecrets shows each secret with the Key Vault URL and identity asked for and a value, and
// after a template change the new revision is provisioned and healthy.
import * as core from '@actions/core'
import { RestError } from '@azure/core-rest-pipeline'
import { backoffDelay } from '../azure/http/poll.js'
import { during } from '../azure/operation.js'
import { done } from '../model/change-text.js'
import { type Wiring, wiringOf, withWiring } from '../model/container-secrets.js'
import { findInChain } from '../model/error-chain.js'
import { type ApplyContext, type Of, onApp } from './context.js'

/** Container Apps could not read a Key Vault secret with the app's identity (no access yet, a firewall, no secret). */
export class SecretNotReadableError extends Error {
  constructor(app: string, identity: string, wiring: readonly Wiring[], azure: string) {
    const urls = wiring.map((w) => w.secret.keyVaultUrl).join(', ')
    super(
      `Container Apps could not read the Key Vault secret(s) of ${app} with identity '${identity}' (${urls}) within 'retry-timeout'. Azure says: ${azure}\n` +
        `Fix: check that the secret exists and that the identity holds get on secrets of that vault (a new role assignment can take minutes to take effect: re-run); a vault firewall must allow the app's outbound addresses (Container Apps is not a trusted Microsoft service).`
    )
    this.name = 'SecretNotReadableError'
  }
}

/** After the write, listSecrets or the new revision says it did not work as asked. */
export class ContainerSecretsNotProvenError extends Error {
  constructor(app: string, problems: string[]) {
    super(
      `The Key Vault secrets of ${app} are not as asked after the write:\n${problems.map((p) => `  - ${p}`).join('\n')}`
    )
    this.name = 'ContainerSecretsNotProvenError'
  }
}

const notYetReadable = (error: unknown): Error | undefined =>
  findInChain(
    error,
    (e) =>
      e instanceof RestError &&
      e.code === 'InvalidParameterValueInContainerTemplate' &&
      /Unable to get value using Managed identity/i.test(e.message)
  )

export async function setContainerSecrets(change: Of<'set-container-secrets'>, ctx: ApplyContext): Promise<void> {
  const app = ctx.app(change.app)
  const identity = ctx.inputs.identity.kind === 'user' ? ctx.inputs.identity.id : 'system'
  const wiring = wiringOf(ctx.inputs.appSettings, identity, ctx.inputs.cloud.keyVaultSuffix)
  const client = ctx.azure.containerApps()
  let wrote: boolean
  for (let attempt = 1; ; attempt++) {
    try {
      ;({ wrote } = await during(onApp(ctx, app, 'write the Key Vault secrets of'), () =>
        client.writeWiring(
          app.target,
          (config) => withWiring(config, wiring),
          () => ctx.record(done.containerSecretsMayHave(change.app, change.secrets))
        )
      ))
      break
    } catch (error) {
      const refused = notYetReadable(error)
      if (!refused) throw error
      const delay = backoffDelay(attempt, 2000, 15_000)
      if (Date.now() + delay > ctx.budget.deadline)
        throw new SecretNotReadableError(change.app, identity, wiring, refused.message)
      core.warning(
        `${change.app}: Container Apps could not read a Key Vault secret with identity '${identity}' yet (a new grant takes a while to count); writing again in ${delay / 1000} s.`
      )
      await ctx.budget.wait(delay)
    }
  }
  if (wrote) ctx.record(done.containerSecretsSet(change.app, change.secrets, change.env))
  await prove(ctx, change, wiring)
}

async function prove(ctx: ApplyContext, change: Of<'set-container-secrets'>, wiring: readonly Wiring[]): Promise<void> {
  const app = ctx.app(change.app)
  const client = ctx.azure.containerApps()
  const listed = await during(onApp(ctx, app, 'read back the secrets of'), () => client.secretsOf(app.target))
  const problems: string[] = []
  for (const { secret } of wiring) {
    const held = listed.find((s) => s.name === secret.name)
    if (!held) problems.push(`secret ${secret.name} is missing`)
    else if (held.keyVaultUrl !== secret.keyVaultUrl || held.identity?.toLowerCase() !== secret.identity.toLowerCase())
      problems.push(`secret ${secret.name} references another Key Vault secret or identity (another writer?)`)
    else if (!held.value) problems.push(`secret ${secret.name} has no value: Container Apps could not fetch it`)
  }
  if (change.env.length > 0) {
    const revision = await during(onApp(ctx, app, 'read the latest revision of'), () =>
      client.latestRevision(app.target)
    )
    if (revision && !(revision.provisioningState === 'Provisioned' && revision.healthState === 'Healthy'))
      problems.push(
        `revision ${revision.name} is ${revision.provisioningState ?? '?'} / ${revision.runningState ?? '?'} / ${revision.healthState ?? '?'}${revision.provisioningError ? `: ${revision.provisioningError}` : ''}`
      )
  }
  if (problems.length > 0) throw new ContainerSecretsNotProvenError(change.app, problems)
}
