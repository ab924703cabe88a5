export const id = 578;
export const ids = [578];
export const modules = {

/***/ 1578:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   VaultNotFoundError: () => (/* binding */ VaultNotFoundError),
/* harmony export */   Vaults: () => (/* binding */ Vaults),
/* harmony export */   resourceGroupOf: () => (/* binding */ resourceGroupOf),
/* harmony export */   toVaultState: () => (/* binding */ toVaultState)
/* harmony export */ });
/* harmony import */ var _azure_arm_keyvault_api__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7961);
/* harmony import */ var _azure_arm_keyvault_api_vaults__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(7062);
/* harmony import */ var _pipeline_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(9657);



class VaultNotFoundError extends Error {
    constructor(vaultName, subscriptionId) {
        super(`Key Vault '${vaultName}' was not found in subscription ${subscriptionId} (searched every vault ` +
            `the sign-in identity can read there, because 'vault-resource-group' is empty).\n` +
            `Fix: check the name; set 'vault-resource-group' to the vault's resource group, and ` +
            `'vault-subscription-id' if the vault lives in another subscription; make sure the sign-in ` +
            `identity can read the vault (Reader on it is enough).`);
        this.name = 'VaultNotFoundError';
    }
}
class Vaults {
    context;
    subscriptionId;
    listing;
    constructor(credential, cloud, budget, subscriptionId) {
        this.context = (0,_azure_arm_keyvault_api__WEBPACK_IMPORTED_MODULE_0__/* .createKeyVaultManagement */ .n)(credential, subscriptionId, (0,_pipeline_js__WEBPACK_IMPORTED_MODULE_2__/* .armClientOptions */ .IL)(cloud, budget));
        this.subscriptionId = subscriptionId;
    }
    async read(target) {
        if (target.resourceGroup) {
            return toVaultState(target, await (0,_azure_arm_keyvault_api_vaults__WEBPACK_IMPORTED_MODULE_1__/* .get */ .Jt)(this.context, target.resourceGroup, target.name));
        }
        // Vault names are globally unique, so one listing of the subscription serves every lookup.
        this.listing ??= collect((0,_azure_arm_keyvault_api_vaults__WEBPACK_IMPORTED_MODULE_1__/* .listBySubscription */ .ZS)(this.context));
        const wanted = target.name.toLowerCase();
        const vault = (await this.listing).find((v) => v.name?.toLowerCase() === wanted);
        if (!vault)
            throw new VaultNotFoundError(target.name, this.subscriptionId);
        return toVaultState(target, vault);
    }
    /**
     * One `accessPolicies/add` (or `remove`) carrying every principal's permissions to add (or take
     * away). The service merges per principal: other principals and other permissions stay.
     */
    async changeAccessPolicies(vault, operation, entries) {
        await (0,_azure_arm_keyvault_api_vaults__WEBPACK_IMPORTED_MODULE_1__/* .updateAccessPolicy */ .kH)(this.context, vault.resourceGroup, vault.name, operation, {
            properties: {
                accessPolicies: entries.map((entry) => ({
                    tenantId: entry.tenantId,
                    objectId: entry.objectId,
                    permissions: withoutEmptyLists(entry.permissions)
                }))
            }
        });
    }
}
async function collect(items) {
    const all = [];
    for await (const item of items)
        all.push(item);
    return all;
}
function withoutEmptyLists(permissions) {
    return Object.fromEntries(Object.entries(permissions).filter(([, list]) => list && list.length > 0));
}
function resourceGroupOf(id) {
    const match = /\/resourceGroups\/([^/]+)/i.exec(id);
    return match ? match[1] : '';
}
function toVaultState(target, vault) {
    const id = vault.id ?? '';
    return {
        target,
        id,
        name: vault.name ?? target.name,
        resourceGroup: target.resourceGroup ?? resourceGroupOf(id),
        subscriptionId: target.subscriptionId,
        tenantId: vault.properties.tenantId,
        rbac: vault.properties.enableRbacAuthorization === true,
        accessPolicies: (vault.properties.accessPolicies ?? []).map((p) => ({
            tenantId: p.tenantId,
            objectId: p.objectId,
            applicationId: p.applicationId,
            permissions: {
                secrets: p.permissions.secrets ?? [],
                keys: p.permissions.keys ?? [],
                certificates: p.permissions.certificates ?? [],
                storage: p.permissions.storage ?? []
            }
        }))
    };
}


/***/ })

};
