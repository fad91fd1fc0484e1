import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { cacheDir, host, ports, versions } from './layout.js';

/** One local server: how to start it, how to know it is ready, and what it offers. */
export interface ServerSpec {
  name: string;
  /** provision.sh component that builds or downloads it */
  component: string;
  ports: number[];
  command(dataDir: string): { command: string; args: string[]; env?: NodeJS.ProcessEnv };
  ready(): Promise<boolean>;
  endpoints(stateDir: string): Record<string, string>;
}

const v = versions();
export const kafkaDir = join(cacheDir, `kafka-${v.KAFKA_VERSION}`);
export const influxDir = join(cacheDir, `influxdb-${v.INFLUXDB_VERSION}`);
export const etcdDir = join(cacheDir, `etcd-${v.ETCD_VERSION}`);
export const kubeDir = join(cacheDir, `kubernetes-${v.KUBERNETES_VERSION}`);
export const pkiDir = join(cacheDir, 'pki');
export const kubectlPath = join(kubeDir, 'bin', 'kubectl');

/** The static admin token of the local API server; local-only, never used elsewhere. */
export const localAdminToken = 'heapstream-local-admin';

const kafka: ServerSpec = {
  name: 'kafka',
  component: 'kafka',
  ports: [ports.kafka, ports.kafkaController],
  command(dataDir) {
    const props = join(dataDir, 'server.properties');
    const log4j = join(dataDir, 'log4j2.properties');
    writeFileSync(
      props,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@${host}:${ports.kafkaController}`,
        `listeners=PLAINTEXT://${host}:${ports.kafka},CONTROLLER://${host}:${ports.kafkaController}`,
        `advertised.listeners=PLAINTEXT://${host}:${ports.kafka}`,
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        `log.dirs=${join(dataDir, 'logs')}`,
        'num.partitions=1',
        'auto.create.topics.enable=false',
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=10',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'transaction.state.log.num.partitions=10',
        'share.coordinator.state.topic.replication.factor=1',
        'share.coordinator.state.topic.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        'log.flush.interval.messages=9223372036854775807',
        'message.max.bytes=16777216',
      ].join('\n') + '\n',
    );
    writeFileSync(
      log4j,
      [
        'status = warn',
        'appender.out.type = Console',
        'appender.out.name = OUT',
        'appender.out.layout.type = PatternLayout',
        'appender.out.layout.pattern = [%d] %p %m (%c)%n',
        'rootLogger.level = WARN',
        'rootLogger.appenderRef.out.ref = OUT',
        'logger.started.name = kafka.server.KafkaRaftServer',
        'logger.started.level = INFO',
      ].join('\n') + '\n',
    );
    const cp = `${join(kafkaDir, 'lib')}/*`;
    const clusterId = randomBytes(16).toString('base64url');
    // `--cluster-id=` form: a base64url id may start with '-', which the tool would read as a flag.
    execFileSync('java', ['-cp', cp, `-Dlog4j2.configurationFile=${log4j}`, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', props, '-g'], {
      stdio: 'pipe',
    });
    return {
      command: 'java',
      args: ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-cp', cp, `-Dlog4j2.configurationFile=${log4j}`, 'kafka.Kafka', props],
    };
  },
  async ready() {
    const admin = new Kafka({ brokers: [`${host}:${ports.kafka}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  },
  endpoints: () => ({ KAFKA_BROKERS: `${host}:${ports.kafka}` }),
};

/** An InfluxDB server; the shared one, or a private one for tests that stop and restart it. */
export function influxdbSpec(name: string, httpPort: number, rpcPort: number): ServerSpec {
  return {
  name,
  component: 'influxdb',
  ports: [httpPort, rpcPort],
  command(dataDir) {
    const conf = join(dataDir, 'influxdb.conf');
    writeFileSync(
      conf,
      `reporting-disabled = true
bind-address = "${host}:${rpcPort}"
[meta]
  dir = "${join(dataDir, 'meta')}"
[data]
  dir = "${join(dataDir, 'data')}"
  wal-dir = "${join(dataDir, 'wal')}"
  query-log-enabled = false
  # As deployed (deploy/overlays/all-in-one): the benches then measure what a user pays.
  index-version = "tsi1"
  max-values-per-tag = 0
  max-series-per-database = 0
[http]
  bind-address = "${host}:${httpPort}"
  flux-enabled = true
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
`,
    );
    return { command: join(influxDir, 'bin', 'influxd'), args: ['-config', conf] };
  },
  async ready() {
    const res = await fetch(`http://${host}:${httpPort}/health`);
    return res.ok;
  },
  endpoints: () => ({ INFLUX_URL: `http://${host}:${httpPort}` }),
  };
}

const influxdb = influxdbSpec('influxdb', ports.influx, ports.influxRpc);

const etcd: ServerSpec = {
  name: 'etcd',
  component: 'etcd',
  ports: [ports.etcdClient, ports.etcdPeer],
  command(dataDir) {
    const client = `http://${host}:${ports.etcdClient}`;
    const peer = `http://${host}:${ports.etcdPeer}`;
    return {
      command: join(etcdDir, 'bin', 'etcd'),
      args: [
        '--name=heapstream', `--data-dir=${join(dataDir, 'data')}`,
        `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=heapstream=${peer}`, '--unsafe-no-fsync', '--log-level=warn',
        '--quota-backend-bytes=4294967296',
      ],
    };
  },
  async ready() {
    const res = await fetch(`http://${host}:${ports.etcdClient}/health`);
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  },
  endpoints: () => ({ ETCD_ENDPOINTS: `http://${host}:${ports.etcdClient}` }),
};

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A local CA, the API server's serving certificate (IP SAN 127.0.0.1) and the service-account key. */
export function ensurePki(): void {
  mkdirSync(pkiDir, { recursive: true });
  const f = (name: string) => join(pkiDir, name);
  if (!existsSync(f('ca.crt'))) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '3650', '-subj', '/CN=heapstream-local-ca']);
  }
  if (!existsSync(f('apiserver.crt'))) {
    writeFileSync(f('apiserver.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('apiserver.key'), '-out', f('apiserver.csr'), '-subj', '/CN=kube-apiserver']);
    openssl(['x509', '-req', '-in', f('apiserver.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('apiserver.crt'), '-days', '3650', '-extfile', f('apiserver.ext')]);
  }
  if (!existsSync(f('sa.key'))) openssl(['genrsa', '-out', f('sa.key'), '2048']);
}

function httpsGetStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: readFileSync(join(pkiDir, 'ca.crt')), headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/**
 * A kube-apiserver on `port`. Private ones (fault tests) share the local etcd under their
 * own key prefix, so they hold a separate cluster and can be restarted without disturbing others.
 */
export function kubeApiserverSpec(name: string, port: number, etcdPrefix = '/registry'): ServerSpec {
  return {
  name,
  component: 'kube',
  ports: [port],
  command(dataDir) {
    ensurePki();
    const tokens = join(dataDir, 'tokens.csv');
    writeFileSync(tokens, `${localAdminToken},heapstream-admin,heapstream-admin,"system:masters"\n`);
    const p = (n: string) => join(pkiDir, n);
    return {
      command: join(kubeDir, 'bin', 'kube-apiserver'),
      args: [
        `--etcd-servers=http://${host}:${ports.etcdClient}`, `--etcd-prefix=${etcdPrefix}`,
        `--bind-address=${host}`, `--advertise-address=${host}`, `--secure-port=${port}`,
        `--tls-cert-file=${p('apiserver.crt')}`, `--tls-private-key-file=${p('apiserver.key')}`,
        `--client-ca-file=${p('ca.crt')}`,
        `--token-auth-file=${tokens}`, '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${p('sa.key')}`, `--service-account-signing-key-file=${p('sa.key')}`,
        '--service-cluster-ip-range=10.0.0.0/24', '--disable-admission-plugins=ServiceAccount',
        // The API server cannot advertise a loopback address in the kubernetes Service endpoints.
        '--endpoint-reconciler-type=none',
        `--cert-dir=${join(dataDir, 'certs')}`, '--profiling=false', '--v=0',
      ],
    };
  },
  async ready() {
    return (await httpsGetStatus(`https://${host}:${port}/readyz`, localAdminToken)) === 200;
  },
  endpoints(stateDir) {
    return { KUBECONFIG: join(stateDir, 'kubeconfig'), KUBECTL: kubectlPath };
  },
  };
}

const kubeApiserver = kubeApiserverSpec('kube-apiserver', ports.kubeApiserver);

/** Start order; stop order is the reverse. */
export const servers: ServerSpec[] = [kafka, influxdb, etcd, kubeApiserver];

/** A kubeconfig for a local API server (the shared one by default) with the local admin token. */
export function writeKubeconfig(path: string, port: number = ports.kubeApiserver): void {
  const ca = readFileSync(join(pkiDir, 'ca.crt')).toString('base64');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: heapstream-local
  cluster:
    server: https://${host}:${port}
    certificate-authority-data: ${ca}
users:
- name: heapstream-admin
  user:
    token: ${localAdminToken}
contexts:
- name: heapstream-local
  context: {cluster: heapstream-local, user: heapstream-admin}
current-context: heapstream-local
`,
    { mode: 0o600 },
  );
}
