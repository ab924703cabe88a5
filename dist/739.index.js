export const id = 739;
export const ids = [739];
export const modules = {

/***/ 4739:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Sites: () => (/* binding */ Sites),
/* harmony export */   toAppState: () => (/* binding */ toAppState)
/* harmony export */ });
/* harmony import */ var _actions_core__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8179);
/* harmony import */ var _azure_arm_appservice_api__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1711);
/* harmony import */ var _azure_arm_appservice_api_webApps__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(2361);
/* harmony import */ var _identity_type_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(8526);
/* harmony import */ var _retry_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(9809);
/* harmony import */ var _pipeline_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(9657);
// Web apps, function apps and their slots (all Microsoft.Web/sites). Reads are GETs; the only
// write is a PATCH of `identity` alone: never a PUT, which would replace the whole site.






class Sites {
    context;
    resourceGroup;
    budget;
    constructor(credential, cloud, budget, subscriptionId, resourceGroup) {
        this.context = (0,_azure_arm_appservice_api__WEBPACK_IMPORTED_MODULE_1__/* .createWebSiteManagement */ .tK)(credential, subscriptionId, (0,_pipeline_js__WEBPACK_IMPORTED_MODULE_3__/* .armClientOptions */ .IL)(cloud, budget));
        this.resourceGroup = resourceGroup;
        this.budget = budget;
    }
    async read(target) {
        const site = target.slot
            ? await (0,_azure_arm_appservice_api_webApps__WEBPACK_IMPORTED_MODULE_2__/* .getSlot */ .$cR)(this.context, this.resourceGroup, target.name, target.slot)
            : await (0,_azure_arm_appservice_api_webApps__WEBPACK_IMPORTED_MODULE_2__/* .get */ .JtY)(this.context, this.resourceGroup, target.name);
        return toAppState(target, site);
    }
    /**
     * Turns the system-assigned identity on or off with one PATCH of `identity`, naming every
     * user-assigned identity so that none is dropped. Retries 409 Conflict (another operation on
     * the site is in progress), which the SDK pipeline does not.
     */
    async setSystemIdentity(app, enabled) {
        const type = (0,_identity_type_js__WEBPACK_IMPORTED_MODULE_4__/* .withSystemAssigned */ .Cw)(app.identityType, enabled);
        const patch = {
            identity: {
                type,
                ...((0,_identity_type_js__WEBPACK_IMPORTED_MODULE_4__/* .parseIdentityType */ .Eo)(type).user
                    ? { userAssignedIdentities: Object.fromEntries(app.userAssignedIds.map((id) => [id, {}])) }
                    : {})
            }
        };
        const { name, slot } = app.target;
        const site = await (0,_retry_js__WEBPACK_IMPORTED_MODULE_5__/* .withRetry */ .bD)(() => slot
            ? (0,_azure_arm_appservice_api_webApps__WEBPACK_IMPORTED_MODULE_2__/* .updateSlot */ .iau)(this.context, this.resourceGroup, name, slot, patch)
            : (0,_azure_arm_appservice_api_webApps__WEBPACK_IMPORTED_MODULE_2__/* .update */ .yoy)(this.context, this.resourceGroup, name, patch), {
            retryable: isConflict,
            deadline: this.budget.deadline,
            baseDelayMs: 1000,
            maxDelayMs: 15000,
            onRetry: (_error, attempt, delay) => _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .warning */ .$e(`${app.target.key}: another operation is in progress on the site (409 Conflict); retry ${attempt} in ${delay / 1000} s.`)
        });
        return toAppState(app.target, site);
    }
}
function isConflict(error) {
    return error.statusCode === 409;
}
function toAppState(target, site) {
    const identity = site.identity;
    const switches = (0,_identity_type_js__WEBPACK_IMPORTED_MODULE_4__/* .parseIdentityType */ .Eo)(identity?.type);
    return {
        target,
        id: site.id ?? '',
        kind: site.kind ?? 'app',
        identityType: identity?.type ?? 'None',
        systemAssigned: switches.system,
        userAssignedIds: switches.user ? Object.keys(identity?.userAssignedIdentities ?? {}) : [],
        principalId: switches.system ? identity?.principalId : undefined,
        tenantId: switches.system ? identity?.tenantId : undefined
    };
}


/***/ })

};
