// The sovereign clouds the action knows: where ARM and Entra ID live and which token scope ARM
// accepts. `arm-endpoint` / `authority-host` override the first two for Azure Stack Hub, private
// clouds and the project's fake Azure.

export interface Cloud {
  name: string
  armEndpoint: string
  authorityHost: string
  /** The scope of the ARM token; the SDKs' default is the public cloud's. */
  armScope: string
  /**
   * az's own ARM resource for the cloud (azure-cli src/azure-cli-core/azure/cli/core/cloud.py,
   * `active_directory_resource_id`; _profile.py get_access_token defaults to it). After
   * `az login --federated-token` az can refresh only this one once the GitHub assertion (about
   * 10 minutes) expires (Azure/azure-cli#28708, Azure/login#180); ARM accepts it.
   */
  azCliArmScope: string
  portal: string
  /** DNS suffix of Key Vault data-plane hosts (`{vault}.{suffix}`), for secret URIs. */
  keyVaultSuffix: string
  /** MSAL instance discovery only knows Microsoft's authority hosts. */
  disableInstanceDiscovery: boolean
}

const KNOWN_CLOUDS: readonly Omit<Cloud, 'disableInstanceDiscovery'>[] = [
  {
    name: 'AzureCloud',
    armEndpoint: 'https://management.azure.com',
    authorityHost: 'https://login.microsoftonline.com',
    armScope: 'https://management.azure.com/.default',
    azCliArmScope: 'https://management.core.windows.net//.default',
    portal: 'https://portal.azure.com',
    keyVaultSuffix: 'vault.azure.net'
  },
  {
    name: 'AzureUSGovernment',
    armEndpoint: 'https://management.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us',
    armScope: 'https://management.usgovcloudapi.net/.default',
    azCliArmScope: 'https://management.core.usgovcloudapi.net//.default',
    portal: 'https://portal.azure.us',
    keyVaultSuffix: 'vault.usgovcloudapi.net'
  },
  {
    name: 'AzureChinaCloud',
    armEndpoint: 'https://management.chinacloudapi.cn',
    authorityHost: 'https://login.chinacloudapi.cn',
    armScope: 'https://management.chinacloudapi.cn/.default',
    azCliArmScope: 'https://management.core.chinacloudapi.cn//.default',
    portal: 'https://portal.azure.cn',
    keyVaultSuffix: 'vault.azure.cn'
  }
]

const CLOUD_NAMES = KNOWN_CLOUDS.map((c) => c.name)

/** The known cloud whose Key Vault DNS suffix `host` ends with, if any. */
export function cloudOfVaultHost(host: string): Pick<Cloud, 'name' | 'keyVaultSuffix'> | undefined {
  return KNOWN_CLOUDS.find((c) => host.toLowerCase().endsWith(`.${c.keyVaultSuffix}`))
}

function findCloud(name: string): Omit<Cloud, 'disableInstanceDiscovery'> | undefined {
  return KNOWN_CLOUDS.find((c) => c.name.toLowerCase() === name.toLowerCase())
}

/** Inputs `environment`, `arm-endpoint`, `authority-host` → the cloud to talk to. */
export function parseCloud(input: (name: string) => string, problems: string[]): Cloud {
  const environment = input('environment') || 'AzureCloud'
  const known = findCloud(environment)
  if (!known) {
    problems.push(`'environment' must be one of ${CLOUD_NAMES.join(', ')} (case-insensitive), got '${environment}'.`)
  }
  const base = known ?? findCloud('AzureCloud')!
  const armEndpoint = parseEndpoint(input, 'arm-endpoint', problems) ?? base.armEndpoint
  const authorityHostInput = parseEndpoint(input, 'authority-host', problems)
  return {
    ...base,
    armEndpoint,
    authorityHost: authorityHostInput ?? base.authorityHost,
    disableInstanceDiscovery: authorityHostInput !== undefined
  }
}

function parseEndpoint(input: (name: string) => string, name: string, problems: string[]): string | undefined {
  const value = input(name)
  if (!value) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`'${name}' must be an https:// URL, got '${value}'.`)
    return undefined
  }
  // A bare trailing `?` or `#` leaves url.search/url.hash empty, so look at the text too.
  if (url.protocol !== 'https:' || /[?#]/.test(value) || url.username || url.password) {
    problems.push(`'${name}' must be a plain https:// URL (no query, fragment or credentials), got '${value}'.`)
    return undefined
  }
  return url.toString().replace(/\/+$/, '')
}
