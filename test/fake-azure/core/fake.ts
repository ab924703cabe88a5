// The fake Azure as one object: start its servers (GitHub OIDC over http, Entra ID and ARM over
// https, IMDS over http when asked), seed and inspect their shared in-memory state, close them.
// Tests reach it through index.ts.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { configApi } from '../arm/site-config.ts'
import { armHandler } from '../arm/router.ts'
import { clone } from '../arm/common.ts'
import { containerAppApi, type ContainerAppApi } from '../arm/container-app-records.ts'
import { withAdfs } from '../sign-in/adfs.ts'
import { entraHandler } from '../sign-in/entra.ts'
import { identityApi, type IdentityApi } from '../arm/user-assigned-identities.ts'
import { addComment, createGitHubState, type FakeComment, githubHandler } from '../github/comments.ts'
import { imdsHandler } from '../sign-in/imds.ts'
import { oidcHandler, type OidcKeys } from '../sign-in/github-oidc.ts'
import { VAULT_SUFFIXES } from '../arm/kv-references.ts'
import { seedRoleAssignment } from '../arm/role-assignments.ts'
import { seedSecret, type SecretSeed } from '../arm/secrets.ts'
import { startProxy, type FakeProxy } from './proxy.ts'
import { closeServer, listen, type Listening } from './server.ts'
import { patchSiteAsOther, seedSite, type SiteSeed } from '../arm/sites.ts'
import * as st from './state.ts'
import { makeTls } from './tls.ts'
import type {
  FaultRule,
  RequestLogEntry,
  RoleAssignmentRecord,
  SecretRecord,
  SiteRecord,
  SlotConfigNames,
  VaultRecord
} from './types.ts'
import { seedVault, vaultId, type VaultSeed } from '../arm/vaults.ts'

export type {
  AccessPolicyEntry,
  FaultRule,
  ManagedIdentity,
  RequestLogEntry,
  RoleAssignmentRecord,
  SecretRecord,
  SiteRecord,
  SlotConfigNames,
  UserAssignedIdentityRecord,
  VaultRecord
} from './types.ts'
export type { SecretSeed } from '../arm/secrets.ts'
export type { AppSecret, ContainerAppApi, ContainerAppInfo, ContainerAppSeed } from '../arm/container-app-records.ts'
export type { RevisionRecord } from '../arm/container-app-revisions.ts'
export type {
  AzCliOptions,
  IdentityApi,
  RunnerIdentityOptions,
  RunnerInfo,
  UaiSeed
} from '../arm/user-assigned-identities.ts'

/** What a test may set on a seeded site or slot (its location is fixed). */
export type SiteOptions = Omit<SiteSeed, 'resourceGroup' | 'name' | 'slot' | 'location'>

/** Names the fake answers to behind its proxy: `.invalid` never resolves, so only the proxy reaches them. */
export const PROXIED_HOSTS = {
  arm: 'management.fake-azure.invalid',
  entra: 'login.fake-azure.invalid',
  oidc: 'token.fake-azure.invalid'
}

export interface FakeAzure extends IdentityApi, ContainerAppApi {
  armEndpoint: string
  /** With `imds: true`: the fake IMDS's base URL, for AZURE_POD_IDENTITY_AUTHORITY_HOST. */
  imdsHost?: string
  /** With `github: true`: the fake GitHub REST API (GITHUB_API_URL) and its comments. */
  github?: {
    apiUrl: string
    /** The only token it accepts (`Authorization: token …`), as GITHUB_TOKEN. */
    token: string
    comments(repo: string, number: number): FakeComment[]
    addComment(repo: string, number: number, body: string, user?: { login: string; type: string }): FakeComment
    /** A read-only token (a fork's pull request): creating or updating answers 403. */
    setReadOnly(readOnly: boolean): void
    /** The token is this user's (a personal access token); undefined: GITHUB_TOKEN, commenting as the bot. */
    setTokenUser(user: { login: string; type: string } | undefined): void
  }
  authorityHost: string
  oidcRequestUrl: string
  oidcRequestToken: string
  caCertPath: string
  tenantId: string
  subscriptionId: string
  clientId: string
  env(): Record<string, string>
  addResourceGroup(name: string, subscriptionId?: string): void
  addSite(s: { resourceGroup: string; name: string } & SiteOptions): SiteRecord
  addSlot(s: { resourceGroup: string; site: string; slot: string } & SiteOptions): SiteRecord
  addVault(v: Omit<VaultSeed, 'location'>): VaultRecord
  addRoleAssignment(a: {
    scope: string
    roleDefinitionGuid: string
    principalId: string
    name?: string
    /** An ABAC condition (version 2.0), as a person adds one in the portal or with az --condition. */
    condition?: string
  }): void
  addPrincipal(objectId: string, createdAt?: number): void
  setOidcClaims(
    claims: Partial<{
      sub: string
      aud: string
      iss: string
      repository: string
      ref: string
      exp: number
      nbf: number
      iat: number
    }>
  ): void
  addFederatedCredential(c: { clientId: string; issuer: string; subject: string; audience: string }): void
  addApplication(clientId: string, tenantId?: string): void
  deny(action: string, scope: string): void
  /** A management lock: ReadOnly refuses every write below `scope`, CanNotDelete only deletes (409 ScopeLocked). */
  addLock(scope: string, level?: 'ReadOnly' | 'CanNotDelete'): void
  /** A management group holding subscriptions (for role assignments above a subscription). */
  addManagementGroup(name: string, subscriptionIds: string[]): void
  /**
   * The same server behind a certificate from a CA nobody trusts (a TLS-inspecting proxy's, say):
   * returns its https URL.
   */
  startUntrusted(server: 'arm' | 'entra'): Promise<string>
  /** With `proxy: true`: the forward proxy's URL (HTTPS_PROXY) and what passed through it. */
  proxy?: FakeProxy
  addFault(f: FaultRule): void
  clearFaults(): void
  setLatency(ms: number): void
  /** Extra: page size of the vault and generic resource lists (default 1000, as ARM). */
  setPageSize(n: number): void
  getSite(rg: string, name: string, slot?: string): SiteRecord | undefined
  /**
   * A second writer's PATCH of a site or slot (say, the portal attaching an identity), applied as
   * ARM applies the action's own; for use in a FaultRule's `before`/`after`. Returns the status.
   */
  patchSite(rg: string, name: string, slot: string | undefined, body: Record<string, unknown>): number
  getVault(rg: string, name: string): VaultRecord | undefined
  /** A site's or slot's app settings as POST …/config/appsettings/list answers them. */
  appSettings(rg: string, name: string, slot?: string): Record<string, string>
  connectionStrings(rg: string, name: string, slot?: string): Record<string, { value: string; type: string }>
  /** The production site's slot-sticky names; a list never set is null, as the service answers. */
  slotConfigNames(rg: string, name: string): SlotConfigNames
  /** Restarts caused through the API: settings or connection strings PUT, POST …/restart, a site PUT. */
  restarts(rg: string, name: string, slot?: string): number
  /** Replace the settings behind the API's back: no restart counted, but Key Vault references refetch. */
  setAppSettings(rg: string, name: string, slot: string | undefined, settings: Record<string, string>): void
  /** The same for connection strings. */
  setConnectionStrings(
    rg: string,
    name: string,
    slot: string | undefined,
    strings: Record<string, { value: string; type: string }>
  ): void
  /** Report ApiKVReference.identityType as the spec's object (true) or as the string live answers carry (false, the default). */
  setReferenceIdentityTypeAsObject(asObject: boolean): void
  /** Add a secret to a vault, or on an existing name add versions (default one new: a rotation). */
  addSecret(rg: string, vault: string, name: string, s?: SecretSeed): SecretRecord
  /** How long references report Initialized after a configuration change before they resolve (ms). */
  setReferenceResolveDelay(ms: number): void
  /**
   * For this long after a configuration change, Key Vault references keep reporting the status
   * they had before it (then Initialized, then the new resolution): see kv-references.ts.
   */
  setStaleReferenceStatus(ms: number): void
  roleAssignments(): RoleAssignmentRecord[]
  requests: RequestLogEntry[]
  clearLog(): void
  close(): Promise<void>
}

function proxyUrl(url: string, auth: FakeAzureOptions['proxyAuth']): string {
  if (!auth) return url
  const u = new URL(url)
  u.username = encodeURIComponent(auth.user)
  u.password = encodeURIComponent(auth.password)
  return u.toString().replace(/\/$/, '')
}

export interface FakeAzureOptions {
  latencyMs?: number
  principalReplicationDelayMs?: number
  /**
   * Serve under PROXIED_HOSTS through a forward proxy (proxy.ts), as a self-hosted runner behind a
   * corporate proxy sees Azure: env() then names those hosts and sets HTTPS_PROXY, and a request
   * that ignores the proxy fails with ENOTFOUND.
   */
  proxy?: boolean
  /** With `proxy`: the proxy asks for these Basic credentials (407 without them); env() puts them in HTTPS_PROXY. */
  proxyAuth?: { user: string; password: string }
  /** How long Key Vault references stay Initialized after a configuration change (default 1000 ms). */
  referenceResolveDelayMs?: number
  /** Also serve IMDS (imds.ts), the runner VM's managed identity endpoint: see fake.imdsHost. */
  imds?: boolean
  /** Also serve GitHub's REST API for pull-request comments (github/comments.ts): see fake.github. */
  github?: boolean
  /** The cloud whose Key Vault DNS suffix vaults and SecretUri references use (default AzureCloud). */
  cloud?: keyof typeof VAULT_SUFFIXES
}

export async function startFakeAzure(options: FakeAzureOptions = {}): Promise<FakeAzure> {
  const state = st.createState()
  state.latencyMs = options.latencyMs ?? 0
  state.principalReplicationDelayMs = options.principalReplicationDelayMs ?? 0
  state.referenceResolveDelayMs = options.referenceResolveDelayMs ?? 1000
  state.keyVaultSuffix = VAULT_SUFFIXES[options.cloud ?? 'AzureCloud']
  const tls = makeTls(options.proxy ? [PROXIED_HOSTS.arm, PROXIED_HOSTS.entra] : [])
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keys: OidcKeys = { privateKey, publicKey, kid: randomBytes(8).toString('hex') }
  const oidcRequestToken = randomBytes(24).toString('base64url')
  const urls = { arm: '', entra: '' }
  const servers = await Promise.all([
    listen(
      state,
      'arm',
      armHandler(state, () => urls.arm),
      tls
    ),
    // The az CLI (MSAL for Python) reaches Entra through an `/adfs` authority: see adfs.ts.
    listen(
      state,
      'entra',
      withAdfs(entraHandler(state, keys, { authorityHost: () => urls.entra, armEndpoint: () => urls.arm }), {
        authorityHost: () => urls.entra,
        tenantId: () => state.tenantId
      }),
      tls
    ),
    listen(state, 'oidc', oidcHandler(state, keys, oidcRequestToken))
  ]).catch((e: unknown) => {
    tls.cleanup()
    throw e
  })
  const [arm, entra, oidc] = servers
  // Plain http on loopback, as IMDS is plain http on 169.254.169.254.
  const imdsHandle = imdsHandler(state, () => urls.arm)
  const imds = options.imds ? await listen(state, 'imds', imdsHandle) : undefined
  if (imds) servers.push(imds)
  const gh = createGitHubState(randomBytes(20).toString('hex'))
  let githubUrl = ''
  const githubServer = options.github
    ? await listen(
        state,
        'github',
        githubHandler(gh, () => githubUrl)
      )
    : undefined
  if (githubServer) {
    servers.push(githubServer)
    githubUrl = `http://127.0.0.1:${githubServer.port}`
  }
  const ids = identityApi(state)
  const handlers = { arm: servers[0], entra: servers[1] }
  let proxy: FakeProxy | undefined
  let oidcUrl = `http://127.0.0.1:${oidc.port}`
  if (options.proxy) {
    const local = (port: number): { host: string; port: number } => ({ host: '127.0.0.1', port })
    proxy = await startProxy({
      hosts: {
        [`${PROXIED_HOSTS.arm}:443`]: local(arm.port),
        [`${PROXIED_HOSTS.entra}:443`]: local(entra.port),
        [`${PROXIED_HOSTS.oidc}:80`]: local(oidc.port)
      },
      unknownHostStatus: 403,
      requireAuth: options.proxyAuth
    })
    urls.arm = `https://${PROXIED_HOSTS.arm}`
    urls.entra = `https://${PROXIED_HOSTS.entra}`
    oidcUrl = `http://${PROXIED_HOSTS.oidc}`
  } else {
    urls.arm = `https://127.0.0.1:${arm.port}`
    urls.entra = `https://127.0.0.1:${entra.port}`
  }
  const untrusted: { server: Listening['server']; cleanup: () => void }[] = []
  const sub = (s?: string): string => s ?? state.subscriptionId
  const rg = (name: string): string => `/subscriptions/${state.subscriptionId}/resourcegroups/${name}`

  const fake: FakeAzure = {
    armEndpoint: urls.arm,
    imdsHost: imds && `http://127.0.0.1:${imds.port}`,
    github: githubServer && {
      apiUrl: githubUrl,
      token: gh.token,
      comments: (repo, number) =>
        (gh.comments.get(`${repo}#${number}`) ?? []).map((c) => ({ ...c, user: { ...c.user } })),
      addComment: (repo, number, body, user) => addComment(gh, repo, number, body, user),
      setReadOnly: (readOnly) => {
        gh.readOnly = readOnly
      },
      setTokenUser: (user) => {
        gh.user = user
      }
    },
    authorityHost: urls.entra,
    oidcRequestUrl: `${oidcUrl}/token?api-version=2.0`,
    oidcRequestToken,
    caCertPath: tls.caCertPath,
    tenantId: state.tenantId,
    subscriptionId: state.subscriptionId,
    clientId: state.clientId,
    env: () => ({
      ACTIONS_ID_TOKEN_REQUEST_URL: fake.oidcRequestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidcRequestToken,
      NODE_EXTRA_CA_CERTS: tls.caCertPath,
      'INPUT_ARM-ENDPOINT': urls.arm,
      'INPUT_AUTHORITY-HOST': urls.entra,
      'INPUT_CLIENT-ID': state.clientId,
      'INPUT_TENANT-ID': state.tenantId,
      'INPUT_SUBSCRIPTION-ID': state.subscriptionId,
      ...(proxy ? { HTTPS_PROXY: proxyUrl(proxy.url, options.proxyAuth) } : {})
    }),
    addResourceGroup: (name, subscriptionId) => {
      st.addResourceGroup(state, name, sub(subscriptionId))
    },
    addSite: (s) => seedSite(state, s),
    addSlot: (s) => seedSite(state, { ...s, name: s.site, slot: s.slot }),
    addVault: (v) => seedVault(state, v),
    ...ids.api,
    ...containerAppApi(state),
    addRoleAssignment: (a) => {
      seedRoleAssignment(state, a)
    },
    addPrincipal: (objectId, createdAt) => st.addPrincipal(state, objectId, createdAt ?? Date.now()),
    setOidcClaims: (claims) => {
      state.oidcClaims = { ...state.oidcClaims, ...claims }
    },
    addFederatedCredential: (c) => {
      state.federatedCredentials.push({ ...c })
    },
    addApplication: (clientId, tenantId) => {
      st.addApplication(state, clientId, tenantId ?? state.tenantId)
    },
    deny: (action, scope) => {
      state.denies.push({ action: st.globToRegExp(action), scope: scope.toLowerCase().replace(/\/+$/, '') })
    },
    addLock: (scope, level = 'ReadOnly') => {
      state.locks.push({ scope: scope.toLowerCase().replace(/\/+$/, ''), level })
    },
    addManagementGroup: (name, subscriptionIds) => {
      for (const id of subscriptionIds) st.addSubscription(state, id)
      state.managementGroups.set(name.toLowerCase(), new Set(subscriptionIds.map((id) => id.toLowerCase())))
    },
    startUntrusted: async (server) => {
      const other = makeTls()
      const twin = await listen(state, server, handlers[server].handler, other)
      untrusted.push({ server: twin.server, cleanup: other.cleanup })
      return `https://127.0.0.1:${twin.port}`
    },
    proxy,
    addFault: (f) => {
      state.faults.push({ ...f })
    },
    clearFaults: () => {
      state.faults.length = 0
    },
    setLatency: (ms) => {
      state.latencyMs = ms
    },
    setPageSize: (n) => {
      state.vaultPageSize = n
    },
    getSite: (g, name, slot) => {
      const s = state.sites.get(
        `${rg(g)}/providers/microsoft.web/sites/${name}${slot ? `/slots/${slot}` : ''}`.toLowerCase()
      )
      return s && clone(s)
    },
    patchSite: (g, name, slot, body) =>
      patchSiteAsOther(
        state,
        urls.arm,
        `${rg(g)}/providers/Microsoft.Web/sites/${name}${slot ? `/slots/${slot}` : ''}`,
        body
      ).status,
    getVault: (g, name) => {
      const v = state.vaults.get(vaultId(state.subscriptionId, g, name).toLowerCase())
      return v && clone(v)
    },
    ...configApi(state),
    addSecret: (g, vault, name, s) => {
      const v = state.vaults.get(vaultId(state.subscriptionId, g, vault).toLowerCase())
      if (!v) throw new Error(`addSecret: no vault '${vault}' in '${g}'`)
      return seedSecret(state, v, name, s)
    },
    setReferenceResolveDelay: (ms) => {
      state.referenceResolveDelayMs = ms
    },
    setStaleReferenceStatus: (ms) => {
      state.staleReferenceStatusMs = ms
    },
    setReferenceIdentityTypeAsObject: (asObject) => {
      state.referenceIdentityTypeAsObject = asObject
    },
    roleAssignments: () => [...state.roleAssignments.values()].map((r) => clone(r)),
    get requests() {
      return state.log
    },
    clearLog: () => {
      state.log.length = 0
    },
    close: async () => {
      await proxy?.close()
      await Promise.all([...servers, ...untrusted].map((s) => closeServer(s.server)))
      for (const u of untrusted) u.cleanup()
      ids.close()
      tls.cleanup()
    }
  }
  return fake
}
