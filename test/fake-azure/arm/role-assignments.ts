// Microsoft.Authorization/roleAssignments at any scope: PUT, GET, DELETE and list with $filter.
import { armError, authorize, clone, GUID, isObject, ok, resourceNotFound, type ArmContext } from './common.ts'
import { randomUUID } from 'node:crypto'
import type { FakeResponse } from '../core/server.ts'
import type { State } from '../core/state.ts'
import type { RoleAssignmentRecord } from '../core/types.ts'

const TYPE = 'Microsoft.Authorization/roleAssignments'

export const ROLE_DEFINITIONS: Record<string, string> = {
  '4633458b-17de-408a-b874-0445c86b69e6': 'Key Vault Secrets User',
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': 'Key Vault Secrets Officer',
  '12338af0-0e69-4776-bea7-57ae8d297424': 'Key Vault Crypto User',
  '14b46e9e-c2b7-41b4-b07b-48a6ebf60603': 'Key Vault Crypto Officer',
  'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba': 'Key Vault Certificate User',
  'a4417e6f-fecd-4de8-b567-7b0420556985': 'Key Vault Certificates Officer',
  '21090545-7ca7-4776-b22c-e363652d74d2': 'Key Vault Reader',
  '00482a5a-887f-4fb3-b363-3b7fe8e74483': 'Key Vault Administrator',
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': 'Owner',
  'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  'acdd72a7-3385-48ef-bd42-f606fba81ae7': 'Reader'
}

const PRINCIPAL_TYPES = ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device']
const lc = (s: string): string => s.toLowerCase()
const roleGuid = (roleDefinitionId: string): string => lc(roleDefinitionId.split('/').pop() ?? '')
const subOf = (scope: string): string => scope.split('/')[2] ?? ''

const MG_PREFIX = '/providers/microsoft.management/managementgroups/'

/**
 * Scopes above a subscription exist too: the root `/` (assignment ids
 * `/providers/Microsoft.Authorization/roleAssignments/…`, scope `/`: Microsoft's "elevate access"
 * doc) and management groups (`/providers/Microsoft.Management/managementGroups/{mg}`). Their
 * roleDefinitionId is written as ARM returns it: root ones without a prefix, management-group
 * ones with a subscription prefix (a real list in Azure/azure-cli#27509).
 */
export function seedRoleAssignment(
  state: State,
  a: {
    scope: string
    roleDefinitionGuid: string
    principalId: string
    name?: string
    principalType?: string
    condition?: string
  }
): RoleAssignmentRecord {
  const scope = a.scope === '/' ? '/' : a.scope.replace(/^\/+/, '/').replace(/\/+$/, '')
  const prefix =
    scope === '/' ? '' : `/subscriptions/${lc(scope).startsWith(MG_PREFIX) ? state.subscriptionId : subOf(scope)}`
  return clone(
    storeAssignment(state, scope, a.name ?? randomUUID(), {
      roleDefinitionId: `${prefix}/providers/Microsoft.Authorization/roleDefinitions/${a.roleDefinitionGuid}`,
      principalId: a.principalId,
      principalType: a.principalType ?? 'ServicePrincipal',
      condition: a.condition ?? null,
      conditionVersion: a.condition ? '2.0' : null
    })
  )
}

/** Creates (or replaces) the assignment record, as both seeding and PUT do. */
function storeAssignment(
  state: State,
  scope: string,
  name: string,
  p: {
    roleDefinitionId: string
    principalId: string
    principalType: string
    condition: string | null
    conditionVersion: string | null
  }
): RoleAssignmentRecord {
  const now = new Date().toISOString()
  const rec: RoleAssignmentRecord = {
    id: `${scope === '/' ? '' : scope}/providers/${TYPE}/${name}`,
    name,
    type: TYPE,
    properties: { ...p, scope, createdOn: now, updatedOn: now }
  }
  state.roleAssignments.set(lc(rec.id), rec)
  return rec
}

// at: same scope; above: the assignment's scope contains the request scope; below: the reverse.
// The root is above everything; a management group is above the subscriptions in it.
function relation(state: State, assignmentScope: string, scope: string): 'at' | 'above' | 'below' | undefined {
  const a = lc(assignmentScope)
  const s = lc(scope)
  if (a === s) return 'at'
  if (a === '/') return 'above'
  if (a.startsWith(MG_PREFIX)) {
    return state.managementGroups.get(a.slice(MG_PREFIX.length))?.has(lc(subOf(scope))) ? 'above' : undefined
  }
  if (s.startsWith(a + '/')) return 'above'
  if (a.startsWith(s + '/')) return 'below'
  return undefined
}

/**
 * Whether `principalId` holds one of `roles` (guids) at `scope` or above it (a resource group,
 * the subscription, a management group, the root): what a data-plane access check sees (assignments
 * are inherited by child scopes: https://learn.microsoft.com/azure/role-based-access-control/scope-overview). The fake
 * does not evaluate ABAC conditions: a conditioned assignment counts as not granting (inferred: a
 * condition can only narrow what the role allows).
 */
export function holdsRole(state: State, principalId: string, roles: string[], scope: string): boolean {
  const wanted = new Set(roles.map(lc))
  return [...state.roleAssignments.values()].some((r) => {
    if (lc(r.properties.principalId) !== lc(principalId) || !wanted.has(roleGuid(r.properties.roleDefinitionId)))
      return false
    if (r.properties.condition) return false
    const rel = relation(state, r.properties.scope, scope)
    return rel === 'at' || rel === 'above'
  })
}

export function handleRoleAssignments(ctx: ArmContext, scope: string, name: string | undefined): FakeResponse {
  const { state, req } = ctx
  if (name === undefined) {
    if (req.method !== 'GET')
      return armError(405, 'MethodNotAllowed', `The fake does not support ${req.method} on a role assignment list.`)
    return list(ctx, scope)
  }
  const id = `${scope}/providers/${TYPE}/${name}`
  const action =
    req.method === 'GET' ? 'read' : req.method === 'PUT' ? 'write' : req.method === 'DELETE' ? 'delete' : undefined
  if (!action) return armError(405, 'MethodNotAllowed', `The fake does not support ${req.method} on ${TYPE}.`)
  const denied = authorize(ctx, `${TYPE}/${action}`, id)
  if (denied) return denied
  const scopeMissing = checkScope(state, scope)
  if (scopeMissing) return scopeMissing
  const existing = state.roleAssignments.get(lc(id))
  if (req.method === 'GET') {
    return existing
      ? ok(clone(existing))
      : armError(404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`)
  }
  if (req.method === 'DELETE') {
    if (!existing) return { status: 204 }
    state.roleAssignments.delete(lc(id))
    return ok(clone(existing))
  }
  return create(ctx, scope, name, existing)
}

function create(
  ctx: ArmContext,
  scope: string,
  name: string,
  existing: RoleAssignmentRecord | undefined
): FakeResponse {
  const { state, req } = ctx
  if (!GUID.test(name))
    return armError(
      400,
      'InvalidRoleAssignmentId',
      `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`
    )
  const p = isObject(req.body) && isObject(req.body.properties) ? req.body.properties : undefined
  if (!p || typeof p.roleDefinitionId !== 'string' || typeof p.principalId !== 'string') {
    return armError(
      400,
      'InvalidRequestContent',
      "The request content was invalid: 'properties.roleDefinitionId' and 'properties.principalId' are required."
    )
  }
  const role = roleGuid(p.roleDefinitionId)
  if (!ROLE_DEFINITIONS[role])
    return armError(
      400,
      'RoleDefinitionDoesNotExist',
      `The specified role definition with ID '${role}' does not exist.`
    )
  if (
    p.principalType !== undefined &&
    (typeof p.principalType !== 'string' || !PRINCIPAL_TYPES.includes(p.principalType))
  ) {
    return armError(
      400,
      'InvalidPrincipalType',
      `The principal type '${JSON.stringify(p.principalType)}' is not valid. Valid values are ${PRINCIPAL_TYPES.join(', ')}.`
    )
  }
  const principalId = p.principalId
  const condition = typeof p.condition === 'string' && p.condition ? p.condition : null
  const conditionVersion = condition ? (typeof p.conditionVersion === 'string' ? p.conditionVersion : '2.0') : null
  // ARM's key is scope + role + principal; the condition is not part of it: a second assignment
  // of the same three under another name answers 409 RoleAssignmentExists, conditioned or not
  // (hashicorp/terraform-provider-azurerm#24045: a second, differently conditioned assignment is
  // refused so; azure-cli role/custom.py create_role_assignment answers the 409 with the one
  // assignment listed for scope, role and assignee).
  const same = (r: RoleAssignmentRecord): boolean =>
    lc(r.properties.scope) === lc(scope) &&
    roleGuid(r.properties.roleDefinitionId) === role &&
    lc(r.properties.principalId) === lc(principalId)
  if (existing) {
    if (same(existing)) {
      // The same name again: an update, which may set or change the condition (az role assignment update).
      existing.properties.condition = condition
      existing.properties.conditionVersion = conditionVersion
      existing.properties.updatedOn = new Date().toISOString()
      return ok(clone(existing), 201)
    }
    return armError(
      409,
      'RoleAssignmentUpdateNotPermitted',
      'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.'
    )
  }
  const duplicate = [...state.roleAssignments.values()].find(same)
  if (duplicate) {
    // The message names the existing assignment as 32 hex digits (captured answers quoted in
    // https://yeongseon.github.io/azure-app-service-practical-guide/troubleshooting/playbooks/cd-rbac-role-assignment-conflict/;
    // older answers stop after the first sentence: hashicorp/terraform-provider-azurerm#28557).
    return armError(
      409,
      'RoleAssignmentExists',
      `The role assignment already exists. The ID of the existing role assignment is ${duplicate.name.replaceAll('-', '')}.`
    )
  }
  // Without principalType ARM asks the directory, which may not have replicated a new identity.
  const principal = state.principals.get(lc(principalId))
  if (
    p.principalType === undefined &&
    (!principal || Date.now() - principal.createdAt < state.principalReplicationDelayMs)
  ) {
    const tenant = ctx.grant.tenantId
    return armError(
      400,
      'PrincipalNotFound',
      `Principal ${principalId.replace(/-/g, '')} does not exist in the directory ${tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`
    )
  }
  const rec = storeAssignment(state, scope, name, {
    roleDefinitionId: p.roleDefinitionId,
    principalId,
    principalType: typeof p.principalType === 'string' ? p.principalType : (principal?.type ?? 'ServicePrincipal'),
    condition,
    conditionVersion
  })
  return ok(clone(rec), 201)
}

// Scopes must exist: the subscription is checked by the router; groups and known resources here.
function checkScope(state: State, scope: string): FakeResponse | undefined {
  const seg = scope.split('/')
  if (seg.length < 5 || lc(seg[3]) !== 'resourcegroups') return undefined
  const rgKey = lc(seg.slice(0, 5).join('/'))
  if (!state.resourceGroups.has(rgKey))
    return armError(404, 'ResourceGroupNotFound', `Resource group '${seg[4]}' could not be found.`)
  if (seg.length >= 9 && lc(seg[5]) === 'providers') {
    const type = `${seg[6]}/${seg[7]}`
    const base = lc(seg.slice(0, 9).join('/'))
    if (lc(type) === 'microsoft.keyvault/vaults' && !state.vaults.has(base))
      return resourceNotFound(type, seg[8], seg[4])
    if (lc(type) === 'microsoft.web/sites' && !state.sites.has(base)) return resourceNotFound(type, seg[8], seg[4])
  }
  return undefined
}

function list(ctx: ArmContext, scope: string): FakeResponse {
  const denied = authorize(ctx, `${TYPE}/read`, scope)
  if (denied) return denied
  const missing = checkScope(ctx.state, scope)
  if (missing) return missing
  const filter = ctx.req.query.$filter ?? ''
  let atScope = false
  let principal: string | undefined
  for (const term of filter ? filter.split(/\s+and\s+/i) : []) {
    const m = /^\s*(?:principalId\s+eq\s+'([^']+)'|assignedTo\('([^']+)'\))\s*$/i.exec(term)
    if (/^\s*atScope\(\)\s*$/i.test(term)) atScope = true
    else if (m) principal = lc(m[1] ?? m[2])
    else
      return armError(
        400,
        'UnsupportedQuery',
        `The filter '${filter}' is not supported. Supported filters are 'atScope()', 'principalId eq '{value}'' and 'assignedTo('{value}')'.`
      )
  }
  const value = [...ctx.state.roleAssignments.values()].filter((r) => {
    const rel = relation(ctx.state, r.properties.scope, scope)
    if (!rel || (atScope && rel === 'below')) return false
    return principal === undefined || lc(r.properties.principalId) === principal
  })
  return ok({ value: value.map((r) => clone(r)) })
}
