#!/usr/bin/env bash
# Used by .github/workflows/e2e-azure.yml, with `az` signed in (azure/login): puts the dedicated
# test app and vault back to their starting state. Removes only what the test adds: the access of
# the app's system-assigned identity on the vault (its access policy, or its role assignments at
# the vault's scope) and then the system-assigned identity itself. User-assigned identities, other
# principals' access and every other setting stay as they are. Safe to run when there is nothing
# to remove.
set -euo pipefail
: "${E2E_RESOURCE_GROUP:?}" "${E2E_APP_NAME:?}" "${E2E_VAULT_NAME:?}"

principal=$(az webapp identity show --resource-group "$E2E_RESOURCE_GROUP" --name "$E2E_APP_NAME" \
  --query principalId --output tsv)
if [ -z "$principal" ]; then
  echo "The app's system-assigned identity is off: nothing to reset."
  exit 0
fi

vault_id=$(az keyvault show --name "$E2E_VAULT_NAME" --query id --output tsv)
rbac=$(az keyvault show --name "$E2E_VAULT_NAME" --query properties.enableRbacAuthorization --output tsv)
if [ "$rbac" = true ]; then
  ids=$(az role assignment list --scope "$vault_id" --fill-principal-name false --fill-role-definition-name false \
    --query "[?principalId=='$principal'].id" --output tsv)
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086 # one id per word
    az role assignment delete --ids $ids
    echo "Deleted the identity's role assignments on the vault."
  fi
else
  policies=$(az keyvault show --name "$E2E_VAULT_NAME" \
    --query "length(properties.accessPolicies[?objectId=='$principal'])" --output tsv)
  if [ "$policies" != 0 ]; then
    az keyvault delete-policy --name "$E2E_VAULT_NAME" --object-id "$principal" --output none
    echo "Removed the identity's access policy from the vault."
  fi
fi

az webapp identity remove --resource-group "$E2E_RESOURCE_GROUP" --name "$E2E_APP_NAME" --identities '[system]' --output none
echo "Turned the app's system-assigned identity off."
