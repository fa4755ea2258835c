import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * A self-signed certificate for `localhost` (valid one day, subjectAltName DNS:localhost) and its key,
 * written by openssl into `dir` as cert.pem and key.pem: a TLS server in a test (an HTTPS camera,
 * the API over HTTPS). The certificate is its own CA.
 */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { cert, key };
}
