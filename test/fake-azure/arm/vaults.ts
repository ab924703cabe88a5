// Microsoft.KeyVault/vaults: GET, PUT (replace), PATCH (merge), accessPolicies/{op}, and the two
// ways to find a vault by name (the provider list and the generic resources list).
import { applyPolicies, MAX_ACCESS_POLICIES, validatePolicies } from './access-policies.ts'
import {
  armError,
  authorize,
  clone,
  findResourceGroup,
  invalidContent,
  isObject,
  ok,
  page,
  resourceNotFound,
  type ArmContext
} from './common.ts'
import { seedSecret, type SecretSeed } from './secrets.ts'
import type { FakeResponse } from '../core/server.ts'
import { addResourceGroup, rgId, type State } from '../core/state.ts'
import type { AccessPolicyEntry, VaultRecord } from '../core/types.ts'

const TYPE = 'Microsoft.KeyVault/vaults'

export interface VaultSeed {
  resourceGroup: string
  name: string
  /**
   * null: a vault from before the property existed, which GETs without it at all (a 2019-09-01
   * azure-cli recording; a 2022-07-01 list where one vault has it and one does not). Such a vault
   * uses access policies.
   */
  enableRbacAuthorization?: boolean | null
  tenantId?: string
  accessPolicies?: AccessPolicyEntry[]
  tags?: Record<string, string>
  /** Secrets by name (control-plane metadata only: secrets.ts). */
  secrets?: Record<string, SecretSeed>
  subscriptionId?: string
  location?: string
}

export const vaultId = (sub: string, rg: string, name: string): string => `${rgId(sub, rg)}/providers/${TYPE}/${name}`

function build(
  state: State,
  id: string,
  name: string,
  location: string,
  tags: Record<string, string>,
  props: Record<string, unknown>,
  tenantId: string,
  rbac: boolean | null,
  policies: AccessPolicyEntry[]
): VaultRecord {
  const vault: VaultRecord = {
    id,
    name,
    type: TYPE,
    location,
    tags,
    properties: {
      ...props,
      tenantId,
      sku: isObject(props.sku) ? (props.sku as VaultRecord['properties']['sku']) : { family: 'A', name: 'standard' },
      accessPolicies: policies,
      enableRbacAuthorization: rbac ?? false,
      vaultUri: `https://${name.toLowerCase()}.${state.keyVaultSuffix}/`,
      provisioningState: 'Succeeded'
    }
  }
  if (rbac === null) delete vault.properties.enableRbacAuthorization
  return vault
}

export function seedVault(state: State, v: VaultSeed): VaultRecord {
  const sub = v.subscriptionId ?? state.subscriptionId
  addResourceGroup(state, v.resourceGroup, sub)
  const vault = build(
    state,
    vaultId(sub, v.resourceGroup, v.name),
    v.name,
    v.location ?? 'westeurope',
    { ...v.tags },
    {},
    v.tenantId ?? state.tenantId,
    v.enableRbacAuthorization === undefined ? false : v.enableRbacAuthorization,
    structuredClone(v.accessPolicies ?? [])
  )
  state.vaults.set(vault.id.toLowerCase(), vault)
  for (const [name, seed] of Object.entries(v.secrets ?? {})) seedSecret(state, vault, name, seed)
  return clone(vault)
}

export function handleVault(ctx: ArmContext, sub: string, rg: string, name: string, op?: string): FakeResponse {
  const { state, req } = ctx
  const id = vaultId(sub, rg, name)
  if (op !== undefined) return accessPolicies(ctx, id, rg, name, op)
  const action = req.method === 'GET' ? 'read' : req.method === 'PUT' || req.method === 'PATCH' ? 'write' : undefined
  if (!action) return armError(405, 'MethodNotAllowed', `The fake does not support ${req.method} on ${TYPE}.`)
  const denied = authorize(ctx, `${TYPE}/${action}`, id)
  if (denied) return denied
  const noRg = findResourceGroup(ctx, sub, rg)
  if (noRg) return noRg
  const vault = state.vaults.get(id.toLowerCase())
  if (req.method === 'GET') return vault ? ok(clone(vault)) : resourceNotFound(TYPE, name, rg)
  if (!isObject(req.body)) return invalidContent()
  const body = req.body
  if (req.method === 'PATCH') {
    if (!vault) return resourceNotFound(TYPE, name, rg)
    const next = clone(vault)
    if (isObject(body.tags)) next.tags = clone(body.tags) as Record<string, string>
    if (isObject(body.properties)) {
      const { accessPolicies: ap, ...rest } = clone(body.properties)
      if (ap !== undefined) {
        const v = validatePolicies(ap)
        if (!Array.isArray(v)) return v
        next.properties.accessPolicies = v
      }
      Object.assign(next.properties, rest, { vaultUri: vault.properties.vaultUri, provisioningState: 'Succeeded' })
    }
    state.vaults.set(id.toLowerCase(), next)
    return ok(clone(next))
  }
  // PUT replaces the vault: access policies not in the body are gone.
  if (typeof body.location !== 'string')
    return armError(400, 'LocationRequired', 'The location property is required for this definition.')
  const props = isObject(body.properties) ? clone(body.properties) : undefined
  if (!props || !isObject(props.sku) || typeof props.tenantId !== 'string') {
    return armError(400, 'BadRequest', "The parameters 'properties.tenantId' and 'properties.sku' are required.")
  }
  const policies = validatePolicies(props.accessPolicies ?? [])
  if (!Array.isArray(policies)) return policies
  // Vaults created with 2026-02-01 or later default to Azure RBAC.
  const rbac =
    typeof props.enableRbacAuthorization === 'boolean' ? props.enableRbacAuthorization : ctx.apiVersion >= '2026-02-01'
  const next = build(
    state,
    vault?.id ?? id,
    vault?.name ?? name,
    body.location,
    isObject(body.tags) ? (clone(body.tags) as Record<string, string>) : {},
    props,
    props.tenantId,
    rbac,
    policies
  )
  state.vaults.set(next.id.toLowerCase(), next)
  return ok(clone(next), vault ? 200 : 201)
}

function accessPolicies(ctx: ArmContext, id: string, rg: string, name: string, op: string): FakeResponse {
  const { state, req } = ctx
  const kind = op.toLowerCase()
  if (kind !== 'add' && kind !== 'replace' && kind !== 'remove') {
    return armError(
      400,
      'BadRequest',
      `The access policy update kind '${op}' is not valid. Valid values are 'add', 'replace' and 'remove'.`
    )
  }
  if (req.method !== 'PUT')
    return armError(405, 'MethodNotAllowed', `The fake supports only PUT on ${TYPE}/accessPolicies.`)
  const denied = authorize(ctx, `${TYPE}/accessPolicies/write`, `${id}/accessPolicies/${kind}`)
  if (denied) return denied
  const noRg = findResourceGroup(ctx, id.split('/')[2], rg)
  if (noRg) return noRg
  const vault = state.vaults.get(id.toLowerCase())
  if (!vault) return resourceNotFound(TYPE, name, rg)
  if (!isObject(req.body) || !isObject(req.body.properties)) return invalidContent()
  const changes = validatePolicies(req.body.properties.accessPolicies)
  if (!Array.isArray(changes)) return changes
  const { all, touched } = applyPolicies(vault.properties.accessPolicies, kind, changes)
  if (all.length > MAX_ACCESS_POLICIES) {
    return armError(
      400,
      'BadRequest',
      `The number of access policies for vault '${vault.name}' would be ${all.length}, which exceeds the access policy limit (${MAX_ACCESS_POLICIES}) of a vault.`
    )
  }
  vault.properties.accessPolicies = all
  return ok({
    id: `${vault.id}/accessPolicies/${kind}`,
    name: kind,
    type: `${TYPE}/accessPolicies`,
    location: vault.location,
    properties: { accessPolicies: clone(touched) }
  })
}

const inSub = (state: State, sub: string): VaultRecord[] =>
  [...state.vaults.values()].filter((v) => v.id.toLowerCase().startsWith(`/subscriptions/${sub.toLowerCase()}/`))

// GET /subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.KeyVault/vaults
export function listVaults(ctx: ArmContext, sub: string, rg?: string): FakeResponse {
  const scope = rg ? rgId(sub, rg) : `/subscriptions/${sub}`
  const denied = authorize(ctx, `${TYPE}/read`, scope)
  if (denied) return denied
  if (rg) {
    const noRg = findResourceGroup(ctx, sub, rg)
    if (noRg) return noRg
  }
  const all = inSub(ctx.state, sub).filter((v) => !rg || v.id.toLowerCase().startsWith(scope.toLowerCase() + '/'))
  return ok(
    page(
      ctx,
      all.map((v) => clone(v))
    )
  )
}

// GET /subscriptions/{s}/resources?$filter=resourceType eq '...' [and name eq '...']
export function listResources(ctx: ArmContext, sub: string): FakeResponse {
  const filter = ctx.req.query.$filter ?? ''
  const terms = filter ? filter.split(/\s+and\s+/i) : []
  let type: string | undefined
  let name: string | undefined
  for (const t of terms) {
    const m = /^\s*(resourceType|name)\s+eq\s+'([^']*)'\s*$/i.exec(t)
    if (!m)
      return armError(400, 'InvalidFilterInQueryString', `Invalid $filter '${filter}' specified in the query string.`)
    if (m[1].toLowerCase() === 'resourcetype') type = m[2].toLowerCase()
    else name = m[2].toLowerCase()
  }
  const records: {
    id: string
    name: string
    type: string
    location: string
    tags: Record<string, string>
    kind?: string
  }[] = [
    ...inSub(ctx.state, sub),
    ...[...ctx.state.sites.values()].filter((s) =>
      s.id.toLowerCase().startsWith(`/subscriptions/${sub.toLowerCase()}/`)
    )
  ]
  const value = records
    .filter((r) => (!type || r.type.toLowerCase() === type) && (!name || r.name.toLowerCase() === name))
    .map((r) => ({
      id: r.id,
      name: r.name,
      type: r.type,
      ...(r.kind ? { kind: r.kind } : {}),
      location: r.location,
      tags: clone(r.tags)
    }))
  return ok(page(ctx, value))
}
