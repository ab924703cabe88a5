// What a failed connection means, from Node's error codes, and the message that names the host
// and the fix. The pipeline records these as they happen: MSAL later reports an unreachable host
// and an untrusted certificate alike as a failed discovery, dropping the cause.
import { causeChain } from '../../model/error-chain.js'
import type { NetworkFailure, NetworkProblem } from './budget.js'

const PROBLEMS: Record<string, NetworkProblem> = {
  ENOTFOUND: 'unresolvable',
  EAI_AGAIN: 'unresolvable',
  EAI_NONAME: 'unresolvable',
  ECONNREFUSED: 'refused',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted-certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted-certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted-certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted-certificate',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted-certificate',
  CERT_HAS_EXPIRED: 'untrusted-certificate',
  CERT_NOT_YET_VALID: 'untrusted-certificate',
  CERT_UNTRUSTED: 'untrusted-certificate',
  ERR_TLS_CERT_ALTNAME_INVALID: 'untrusted-certificate'
}

/** The system error code of a failed request, looking through wrappers. */
export function errorCode(error: unknown): string | undefined {
  for (const e of causeChain(error) as ({ code?: unknown } | undefined)[]) {
    if (typeof e?.code === 'string' && e.code in PROBLEMS) return e.code
  }
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

export function classify(error: unknown): NetworkProblem | undefined {
  const code = errorCode(error)
  return code ? PROBLEMS[code] : undefined
}

/** Hosts that are worth only a brief retry: a wrong name or a closed port does not heal in minutes. */
export function isUnreachable(problem: NetworkProblem | undefined): boolean {
  return problem === 'unresolvable' || problem === 'refused' || problem === 'unreachable' || problem === 'proxy'
}

/** "login.example.com:443 refused the connection (ECONNREFUSED)", with the fix. */
export function describeNetworkFailure(failure: NetworkFailure): string {
  const url = new URL(failure.origin)
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  const where = `${url.hostname}:${port}`
  const via = failure.proxy ? ` (through the proxy ${failure.proxy})` : ''
  switch (failure.problem) {
    case 'unresolvable':
      return (
        `the host name ${url.hostname} could not be resolved${via} (${failure.code}).\n` +
        `Fix: check the URL (inputs 'environment', 'authority-host', 'arm-endpoint'); on a self-hosted runner check its DNS, ` +
        `or set HTTPS_PROXY (and NO_PROXY) when only a proxy can reach Azure.`
      )
    case 'refused':
      return (
        `${where} refused the connection${via} (${failure.code}).\n` +
        `Fix: check the URL and port (inputs 'authority-host', 'arm-endpoint'); on a self-hosted runner check the firewall, ` +
        `or set HTTPS_PROXY when outbound traffic must go through a proxy.`
      )
    case 'unreachable':
      return (
        `${where} is unreachable from this runner${via} (${failure.code}).\n` +
        `Fix: check the runner's network route to Azure, or set HTTPS_PROXY when outbound traffic must go through a proxy.`
      )
    case 'untrusted-certificate':
      return (
        `the TLS certificate of ${where} is not trusted${via} (${failure.code}).\n` +
        `Fix: when a TLS-inspecting proxy or a private CA sits in between, point NODE_EXTRA_CA_CERTS at a PEM file ` +
        `with its CA certificate (an env: of the step or job); otherwise check that the URL names the right host.`
      )
    case 'proxy':
      return (
        `the proxy ${failure.proxy ?? ''} itself could not be reached on the way to ${where} (${failure.code}).\n` +
        `Fix: check HTTPS_PROXY (or HTTP_PROXY / ALL_PROXY): its host and port must be the proxy's; ` +
        `list hosts that must not use it in NO_PROXY.`
      )
  }
}
