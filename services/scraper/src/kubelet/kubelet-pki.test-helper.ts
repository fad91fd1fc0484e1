import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PKI for kubelet tests, in a temporary directory: ca.crt, a kubelet
 * certificate for 127.0.0.1 (kubelet.crt/.key) signed by it, an unrelated other.crt,
 * and a `token` file holding "good-token". `f(name)` is a file's path.
 */
export function makeKubeletPki(): { dir: string; f: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-pki-'));
  const f = (n: string) => join(dir, n);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('kubelet.key'), '-out', f('kubelet.csr'), '-subj', '/CN=kubelet');
  writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', f('kubelet.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('kubelet.crt'), '-days', '1', '-extfile', f('ext'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('other.key'), '-out', f('other.crt'), '-days', '1', '-subj', '/CN=other-ca');
  writeFileSync(f('token'), 'good-token\n');
  return { dir, f };
}
