// Azure Container Apps apps and jobs (Microsoft.App, api-version 2025-07-01), through a small typed
// client on @azure-rest/core-client and the action's pipeline (bearer token, retries, request log,
// error shapes, ARM origin only). @azure/arm-appcontainers is not a dependency: five calls do not
// justify it. Wired into the action for the system identity (readTarget,
// writeSystemIdentity); docs/container-apps.md says what is open.
//
// Two facts shape it. A GET never returns secret values, and a PATCH replaces the whole
// `configuration.secrets` array (JSON merge patch replaces arrays): a write of secrets is built from
// a fresh GET plus POST …/listSecrets and carries every secret the app has, or the app loses the
// ones left out (Azure/azure-dev#3871). And a PATCH is a long-running operation: 202 Accepted
// with an Azure-AsyncOperation URL, whose status carries the error if the change fails
// (Azure/azure-cli#30078). Writes never name more than they change: an identity PATCH names only
// the identity it adds or removes (merge patch keeps the others; ARM checks
// userAssignedIdentities/assign/action on every identity a body names).
import { createRestError, getClient, type Client } from '@azure-rest/core-client'
import type { TokenCredential } from '@azure/core-auth'
import type { PipelineResponse } from '@azure/core-rest-pipeline'
import { readFreshOrEarlier, writeFromFreshRead } from './write-step.js'
import type { ContainerConfig } from '../model/container-secrets.js'
import type { AppState } from '../model/state.js'
import type { AppTarget } from '../model/targets.js'
import type { IdentityWrite } from './sites.js'
import type { Cloud } from '../model/clouds.js'
import { info } from '../log/log.js'
import type { RetryBudget } from './http/budget.js'
import { armClientOptions } from './http/pipeline.js'
import { pollUntil } from './http/poll.js'
import { retryAfterMs } from './http/replay.js'
import {
  asAppState,
  asContainerState,
  containerTargetOf,
  forWrite,
  systemSwitch,
  toRevision,
  toState,
  userSwitch,
  type ContainerAppState,
  type ContainerSecret,
  type ContainerTarget,
  type RevisionState,
  type SecretsChange,
  type WireApp,
  type WireRevision
} from './container-app-model.js'
export * from './container-app-model.js'

export const CONTAINER_APPS_API_VERSION = '2025-07-01'

/** A change Azure accepted but then failed (or did not finish in time), in Azure's words. */
export class ContainerOperationError extends Error {
  readonly code?: string
  constructor(what: string, code: string | undefined, message: string) {
    super(`${what} failed in Azure: ${code ? `${code}: ` : ''}${message}`)
    this.name = 'ContainerOperationError'
    this.code = code
  }
}

const SEGMENT = { app: 'containerApps', job: 'jobs' } as const

const query = { 'api-version': CONTAINER_APPS_API_VERSION }

export class ContainerApps {
  private readonly client: Client
  private readonly budget: RetryBudget
  private readonly base: string

  constructor(
    credential: TokenCredential,
    cloud: Cloud,
    budget: RetryBudget,
    subscriptionId: string,
    resourceGroup: string
  ) {
    this.client = getClient(cloud.armEndpoint, credential, armClientOptions(cloud, budget))
    this.budget = budget
    this.base = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.App`
  }

  private path(target: ContainerTarget, sub = ''): string {
    return `${this.base}/${SEGMENT[target.kind]}/${target.name}${sub}`
  }

  async read(target: ContainerTarget): Promise<ContainerAppState> {
    const response = await this.client.pathUnchecked(this.path(target)).get({ queryParameters: query })
    if (response.status !== '200') throw createRestError(response)
    return toState(target, response.body as WireApp)
  }

  /** Every secret with its value (POST …/listSecrets; needs Microsoft.App/containerApps/listSecrets/action). */
  async listSecrets(target: ContainerTarget): Promise<ContainerSecret[]> {
    const response = await this.client.pathUnchecked(this.path(target, '/listSecrets')).post({ queryParameters: query })
    if (response.status !== '200') throw createRestError(response)
    return ((response.body as { value?: ContainerSecret[] }).value ?? []).map(
      ({ name, value, keyVaultUrl, identity }) =>
        keyVaultUrl ? { name, value, keyVaultUrl, identity } : { name, value }
    )
  }

  /** Turns the system-assigned identity on or off; user-assigned identities are left as they are. */
  async setSystemIdentity(app: ContainerAppState, enabled: boolean): Promise<ContainerAppState> {
    const { change, shows, build } = systemSwitch(enabled)
    return (await this.patchIdentity(app, change, shows, build)).state
  }

  /**
   * Attaches or detaches one user-assigned identity, naming only that one: merge patch keeps the
   * others (`null` removes a key). Detaching the last one drops UserAssigned from the type.
   */
  async setUserAssigned(app: ContainerAppState, identityId: string, attached: boolean): Promise<ContainerAppState> {
    const { change, shows, build } = userSwitch(identityId, attached)
    return (await this.patchIdentity(app, change, shows, build)).state
  }

  private async patchIdentity(
    app: ContainerAppState,
    change: string,
    shows: (s: ContainerAppState) => boolean,
    build: (s: ContainerAppState) => Record<string, unknown>,
    onMaybeWritten?: () => void,
    readAt?: number
  ): Promise<{ state: ContainerAppState; written: boolean; maybeWritten: boolean }> {
    const outcome = await writeFromFreshRead(
      {
        what: `the identity of '${app.target.key}'`,
        read: readFreshOrEarlier<ContainerAppState>(app, readAt, () => this.read(app.target)),
        build: (current) => (shows(current) ? undefined : build(current)),
        write: (body) => this.patch(app.target, body, change),
        onMaybeWritten
      },
      this.budget
    )
    return outcome.wrote
      ? { state: outcome.result, written: true, maybeWritten: false }
      : { state: outcome.current, written: false, maybeWritten: outcome.maybeWritten }
  }

  /** A container app or job as the plan sees every target: its identity; and its secrets (no values) and template. */
  async readTarget(target: AppTarget): Promise<{ app: AppState; config: ContainerConfig }> {
    const state = await this.read(containerTargetOf(target))
    return { app: asAppState(target, state), config: { secrets: state.secrets, template: state.template } }
  }

  /**
   * The secrets and env `wire` asks for, written from a fresh read (GET and listSecrets: every
   * secret goes back with its value); undefined from `wire`: nothing to write.
   */
  async writeWiring(
    target: AppTarget,
    wire: (config: ContainerConfig) => ReturnType<SecretsChange>,
    onMaybeWritten?: () => void
  ): Promise<{ wrote: boolean; app: ContainerAppState }> {
    return this.writeSecrets(containerTargetOf(target), (current) => wire(current), onMaybeWritten)
  }

  /** The action's identity write for a container target: a user-assigned identity attached or detached. */
  async writeUserAssigned(
    app: AppState,
    identityId: string,
    attached: boolean,
    onMaybeWritten?: () => void
  ): Promise<IdentityWrite> {
    const { change, shows, build } = userSwitch(identityId, attached)
    const { state, written, maybeWritten } = await this.patchIdentity(
      asContainerState(app),
      change,
      shows,
      build,
      onMaybeWritten,
      app.readAt
    )
    return { after: asAppState(app.target, state), written, maybeWritten }
  }

  /** The action's identity write for a container target: the system identity on or off. */
  async writeSystemIdentity(app: AppState, enabled: boolean, onMaybeWritten?: () => void): Promise<IdentityWrite> {
    const current: ContainerAppState = {
      ...app,
      target: containerTargetOf(app.target),
      secrets: [],
      template: {}
    }
    const { change, shows, build } = systemSwitch(enabled)
    const { state, written, maybeWritten } = await this.patchIdentity(
      current,
      change,
      shows,
      build,
      onMaybeWritten,
      app.readAt
    )
    return { after: asAppState(app.target, state), written, maybeWritten }
  }

  /**
   * Writes secrets (and the template, when the change gives one) built from a fresh read: the app
   * as GET shows it and every secret's value from listSecrets. Undefined from `change`: nothing to
   * write. Secrets are sent as Azure expects them back: a value, or a Key Vault URL and identity.
   */
  async writeSecrets(
    target: ContainerTarget,
    change: SecretsChange,
    onMaybeWritten?: () => void
  ): Promise<{ wrote: boolean; app: ContainerAppState }> {
    type Current = { app: ContainerAppState; secrets: ContainerSecret[] }
    const outcome = await writeFromFreshRead<Current, Record<string, unknown>, ContainerAppState>(
      {
        what: `the secrets of '${target.key}'`,
        read: async () => {
          const [app, secrets] = await Promise.all([this.read(target), this.listSecrets(target)])
          return { app, secrets }
        },
        build: ({ app, secrets }) => {
          const wanted = change({ secrets, template: app.template })
          if (!wanted) return undefined
          const configuration = { secrets: wanted.secrets.map(forWrite) }
          return { properties: { configuration, ...(wanted.template ? { template: wanted.template } : {}) } }
        },
        write: (body) => this.patch(target, body, 'writing secrets'),
        onMaybeWritten
      },
      this.budget
    )
    return { wrote: outcome.wrote, app: outcome.wrote ? outcome.result : outcome.current.app }
  }

  /** Every secret of an action target, with values: for the proof only, never printed. */
  async secretsOf(target: AppTarget): Promise<ContainerSecret[]> {
    return this.listSecrets(containerTargetOf(target))
  }

  /**
   * After a template change: reads the app until its latest revision is the latest ready one, or
   * has failed, within the budget (ContainerAppsRevisions.json: provisioningState, runningState,
   * healthState, provisioningError). The latest revision as last read; undefined for a job (jobs
   * have no revisions) or an app without one.
   */
  async latestRevision(target: AppTarget): Promise<RevisionState | undefined> {
    if (target.kind === 'job') return undefined
    const t = containerTargetOf(target)
    const read = async (): Promise<RevisionState | undefined> => {
      const app = await this.read(t)
      return app.latestRevisionName ? this.readRevision(t, app.latestRevisionName) : undefined
    }
    const settled = (r: RevisionState | undefined): boolean =>
      !r || r.provisioningState === 'Failed' || (r.provisioningState === 'Provisioned' && r.healthState !== 'None')
    const { value } = await pollUntil({
      read,
      done: settled,
      budget: this.budget,
      firstDelayMs: 1000,
      maxDelayMs: 10_000
    })
    return value
  }

  async listRevisions(target: ContainerTarget): Promise<RevisionState[]> {
    const out: RevisionState[] = []
    let next: string | undefined = this.path(target, '/revisions')
    let q: Record<string, string> | undefined = query
    while (next) {
      const response = await this.client.pathUnchecked(next).get({ queryParameters: q })
      if (response.status !== '200') throw createRestError(response)
      const body = response.body as { value?: WireRevision[]; nextLink?: string }
      out.push(...(body.value ?? []).map(toRevision))
      next = body.nextLink
      q = undefined // nextLink carries its own query
    }
    return out
  }

  async readRevision(target: ContainerTarget, name: string): Promise<RevisionState> {
    const response = await this.client
      .pathUnchecked(this.path(target, `/revisions/${encodeURIComponent(name)}`))
      .get({ queryParameters: query })
    if (response.status !== '200') throw createRestError(response)
    return toRevision(response.body as WireRevision)
  }

  /** One PATCH; a 202 is waited out on its Azure-AsyncOperation status, then the app is read. */
  private async patch(
    target: ContainerTarget,
    body: Record<string, unknown>,
    change: string
  ): Promise<ContainerAppState> {
    let raw: PipelineResponse | undefined
    const response = await this.client.pathUnchecked(this.path(target)).patch({
      queryParameters: query,
      contentType: 'application/json',
      body,
      onResponse: (r) => (raw = r)
    })
    if (response.status === '200') return toState(target, response.body as WireApp)
    if (response.status !== '202') throw createRestError(response)
    info(`${target.key}: Azure accepted ${change}; waiting until it has finished.`)
    await this.waitForOperation(
      target,
      change,
      raw?.headers.get('azure-asyncoperation'),
      raw?.headers.get('retry-after')
    )
    return this.read(target)
  }

  /**
   * Reads the operation's status until it ends. Without a status URL, or when the caller may not
   * read it (it lives at the subscription: Microsoft.App/locations/…OperationStatuses/read), the
   * app's own provisioningState is read instead; it says that, not why.
   */
  private async waitForOperation(
    target: ContainerTarget,
    change: string,
    statusUrl: string | undefined,
    retryAfter: string | undefined
  ): Promise<void> {
    const first = retryAfterMs(retryAfter)
    let useStatus = statusUrl !== undefined
    const readStatus = async (): Promise<string | undefined> => {
      let status: string | undefined
      let error: { code?: string; message?: string } | undefined
      if (useStatus) {
        const response = await this.client.pathUnchecked(statusUrl!).get()
        if (response.status === '403') useStatus = false
        else if (response.status !== '200') throw createRestError(response)
        else ({ status, error } = response.body as { status?: string; error?: { code?: string; message?: string } })
      }
      if (!useStatus) status = (await this.read(target)).provisioningState
      const s = status?.toLowerCase()
      if (s === 'failed' || s === 'canceled')
        throw new ContainerOperationError(
          `${target.key}: ${change}`,
          error?.code,
          error?.message ?? `provisioningState ${status}`
        )
      return s
    }
    const { done } = await pollUntil({
      read: readStatus,
      done: (s) => s === 'succeeded',
      budget: this.budget,
      firstDelayMs: first !== undefined && first > 0 ? Math.min(first, 30_000) : 2000,
      maxDelayMs: 10_000,
      waitFirst: true
    })
    if (!done)
      throw new ContainerOperationError(
        change,
        'Timeout',
        `not finished within 'retry-timeout' (${this.budget.seconds} s)`
      )
  }
}
