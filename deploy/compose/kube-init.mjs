// docker compose only: the files the local kube-apiserver and its clients need, made
// once into the `kube` volume (kept across restarts):
//   sa.key / sa.pub   service-account signing key pair
//   tokens.csv        static token of the admin user (system:masters)
//   kubeconfig        that token against https://kube-apiserver:6443 (self-signed
//                     serving certificate, so TLS verification is off: local use only)
// and the `sim` volume handed to the heapstream user (uid 10001), where the simulator
// writes its kubelet CA and token for the scraper.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';

const kube = process.env.KUBE_DIR ?? '/kube';
const sim = process.env.SIM_DIR ?? '/sim';
const server = process.env.KUBE_SERVER ?? 'https://kube-apiserver:6443';

mkdirSync(kube, { recursive: true });
if (!existsSync(`${kube}/kubeconfig`)) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(`${kube}/sa.key`, privateKey.export({ type: 'pkcs1', format: 'pem' }));
  writeFileSync(`${kube}/sa.pub`, publicKey.export({ type: 'spki', format: 'pem' }));
  const token = randomBytes(24).toString('base64url');
  writeFileSync(`${kube}/tokens.csv`, `${token},admin,admin,"system:masters"\n`);
  writeFileSync(
    `${kube}/kubeconfig`,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: compose',
      `    cluster: { server: "${server}", insecure-skip-tls-verify: true }`,
      'users:',
      '  - name: admin',
      `    user: { token: "${token}" }`,
      'contexts:',
      '  - name: compose',
      '    context: { cluster: compose, user: admin }',
      'current-context: compose',
      '',
    ].join('\n'),
  );
  console.log(`kube-init: wrote sa.key, sa.pub, tokens.csv and kubeconfig to ${kube}`);
}
// Readable by the services (uid 10001); the files hold a throwaway local cluster's secrets.
for (const f of ['sa.key', 'sa.pub', 'tokens.csv', 'kubeconfig']) chmodSync(`${kube}/${f}`, 0o644);
mkdirSync(sim, { recursive: true });
chownSync(sim, 10001, 10001);
