// Throwaway CA + server certificate for the fake's HTTPS servers. The real SDKs refuse http for
// bearer tokens and authority hosts, so the fake must speak TLS; callers trust caCertPath.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TlsMaterial {
  dir: string
  caCertPath: string
  caCert: string
  key: string
  cert: string
  cleanup(): void
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

/**
 * extraDnsNames go into the server certificate's subjectAltName, so clients that reach the fake
 * under another name (e.g. through proxy.ts as `management.fake-azure.invalid`) still validate it.
 */
export function makeTls(extraDnsNames: string[] = []): TlsMaterial {
  // The names are written into an openssl config file: refuse anything that is not a host name.
  const bad = extraDnsNames.find((n) => !/^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(n))
  if (bad !== undefined) throw new Error(`makeTls: not a DNS name: ${JSON.stringify(bad)}`)
  const dir = mkdtempSync(join(tmpdir(), 'fake-azure-'))
  // EC P-256 keys: generated in milliseconds, unlike RSA.
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl(
    [
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=fake-azure test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign'
    ],
    dir
  )
  openssl(['req', ...ecKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir)
  writeFileSync(
    join(dir, 'server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${['IP:127.0.0.1', 'DNS:localhost', ...extraDnsNames.map((n) => `DNS:${n}`)].join(',')}`,
      ''
    ].join('\n')
  )
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'server.ext'
    ],
    dir
  )
  const caCertPath = join(dir, 'ca.pem')
  return {
    dir,
    caCertPath,
    caCert: readFileSync(caCertPath, 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true })
  }
}
