export const id = 780;
export const ids = [780];
export const modules = {

/***/ 7780:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   RoleAssignments: () => (/* binding */ RoleAssignments)
/* harmony export */ });
/* harmony import */ var _azure_rest_core_client__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3049);
/* harmony import */ var _http_attempt_policy_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(2632);
/* harmony import */ var _http_pipeline_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(5772);
/* harmony import */ var _returned_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(2656);
// Azure RBAC role assignments, through a small typed client on @azure-rest/core-client (the same
// pipeline as the other clients: bearer token, retries, request log). @azure/arm-authorization 9
// is a CommonJS bundle of the whole Authorization API (~270 kB) whose `scope` parameter turns
// `/subscriptions/...` into `//subscriptions/...`; three calls do not justify it. This module is
// loaded only when a vault uses RBAC.




const API_VERSION = '2022-04-01';
class RoleAssignments {
    client;
    constructor(credential, cloud, budget) {
        this.client = (0,_azure_rest_core_client__WEBPACK_IMPORTED_MODULE_0__/* .getClient */ .KU)(cloud.armEndpoint, credential, (0,_http_pipeline_js__WEBPACK_IMPORTED_MODULE_2__/* .armClientOptions */ .IL)(cloud, budget));
    }
    /**
     * Every assignment at `scope` or above it: resource group, subscription, management groups and
     * the root `/`. Page links are followed as ARM gives them; the pipeline refuses one that leaves
     * the ARM origin, before the token goes out.
     */
    async listAtOrAbove(scope) {
        const all = [];
        let next = `${scope}/providers/Microsoft.Authorization/roleAssignments`;
        let query = { $filter: 'atScope()', 'api-version': API_VERSION };
        while (next) {
            const response = await this.client.pathUnchecked(next).get({ queryParameters: query });
            if (response.status !== '200')
                throw (0,_azure_rest_core_client__WEBPACK_IMPORTED_MODULE_0__/* .createRestError */ .t$)(response);
            const body = response.body;
            all.push(...(body.value ?? []).map(fromWire));
            next = body.nextLink;
            query = undefined; // nextLink carries its own query
        }
        return all;
    }
    /**
     * Creates the assignment under a deterministic name. `principalType` lets ARM skip the directory
     * lookup that fails while a just-created identity replicates. 'exists': ARM holds an assignment
     * of the role for the principal at the scope under another name (409 RoleAssignmentExists,
     * whatever that one's condition); the caller looks at it before calling the access granted.
     */
    async create(scope, name, roleDefinitionId, principalId) {
        checkScope(scope);
        const response = await this.client
            .pathUnchecked(`${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`)
            .put({
            queryParameters: { 'api-version': API_VERSION },
            contentType: 'application/json',
            body: { properties: { roleDefinitionId, principalId, principalType: 'ServicePrincipal' } }
        });
        if (response.status === '200' || response.status === '201')
            return 'created';
        const error = (0,_azure_rest_core_client__WEBPACK_IMPORTED_MODULE_0__/* .createRestError */ .t$)(response);
        if (error.code === 'RoleAssignmentExists')
            return 'exists';
        throw error;
    }
    /**
     * Deletes one assignment by name; true when this call deleted it. A 204 ("nothing there") after
     * an attempt whose answer was unclear (lost, or a 5xx the pipeline retried) counts as this
     * call's: that attempt may have deleted it, and it is gone either way.
     */
    async delete(scope, name) {
        checkScope(scope);
        let request;
        const response = await this.client
            .pathUnchecked(`${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`)
            .delete({ queryParameters: { 'api-version': API_VERSION }, onResponse: (raw) => (request = raw.request) });
        if (response.status === '200')
            return true;
        if (response.status === '204')
            return request !== undefined && (0,_http_attempt_policy_js__WEBPACK_IMPORTED_MODULE_1__/* .hadUnclearAttempt */ .Fx)(request);
        throw (0,_azure_rest_core_client__WEBPACK_IMPORTED_MODULE_0__/* .createRestError */ .t$)(response);
    }
}
/** This action assigns and deletes roles on Key Vaults only: never at `/`, a subscription or a group. */
function checkScope(scope) {
    if (!(0,_returned_js__WEBPACK_IMPORTED_MODULE_3__/* .isVaultScope */ .h4)(scope))
        throw new Error(`Refusing a role assignment at scope '${scope}': only a Key Vault's own id is allowed.`);
}
function fromWire(wire) {
    return {
        id: wire.id,
        name: wire.name,
        scope: wire.properties.scope,
        roleDefinitionId: wire.properties.roleDefinitionId,
        principalId: wire.properties.principalId,
        principalType: wire.properties.principalType,
        condition: wire.properties.condition ?? undefined
    };
}


/***/ })

};
