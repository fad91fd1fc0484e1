import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkServiceEnv, containerEnv, find, type K8sObject, kubectl, kustomize, OVERLAYS, overlayDir, podSpec, ROOT, SERVICES, serviceWorkload } from './support.js';

// The kustomize overlays build with the project's kubectl 1.34, pass the real API
// server's validation and admission (server-side dry-run, Pod Security "restricted"),
// and configure every service with settings its config schema accepts.

const built = Object.fromEntries(OVERLAYS.map((o) => [o, kustomize(overlayDir(o))])) as Record<(typeof OVERLAYS)[number], ReturnType<typeof kustomize>>;

/** Applies the Namespace for real (server-side dry-run of namespaced objects needs it; never deleted). */
function ensureNamespace(objects: K8sObject[]): void {
  const ns = objects.filter((o) => o.kind === 'Namespace');
  const r = kubectl(['apply', '-f', '-'], ns.map((o) => `---\n${stringify(o)}`).join(''));
  if (r.status !== 0) throw new Error(`applying the Namespace failed: ${r.stderr}`);
}

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  const { text, objects } = built[overlay];

  it('builds into the heapstream namespace with the restricted Pod Security level enforced', () => {
    const ns = find(objects, 'Namespace', 'heapstream');
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const o of objects) {
      const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind);
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(clusterScoped ? undefined : 'heapstream');
    }
  });

  it('is accepted by the API server (kubectl apply --dry-run=server)', () => {
    ensureNamespace(objects);
    const r = kubectl(['apply', '--dry-run=server', '-f', '-'], text);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(objects.length);
  });

  it('passes Pod Security admission at the restricted level for every pod template', () => {
    ensureNamespace(objects);
    // A Deployment only warns; a Pod is refused. Dry-run-create each template as a Pod.
    const pods = objects
      .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
      .map((w) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `psa-${w.metadata.name}`, namespace: 'heapstream' },
        spec: { ...podSpec(w), volumes: (podSpec(w).volumes ?? []).map((v) => ('persistentVolumeClaim' in v ? { name: v.name, emptyDir: {} } : v)) },
      }));
    // StatefulSet volumeClaimTemplates are volumes of the Pod: stand in an emptyDir for them.
    for (const p of pods) {
      const mounted = new Set(p.spec.containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
      const have = new Set(p.spec.volumes.map((v) => v.name));
      for (const m of mounted) if (!have.has(m)) p.spec.volumes.push({ name: m, emptyDir: {} });
    }
    const r = kubectl(['create', '--dry-run=server', '-f', '-'], pods.map((p) => `---\n${stringify(p)}`).join(''));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Control: admission is really on; a plain pod is refused in this namespace.
    const plain = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'psa-control', namespace: 'heapstream' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    const refused = kubectl(['create', '--dry-run=server', '-f', '-'], stringify(plain));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('violates PodSecurity "restricted');
  });

  it.each(SERVICES)('runs %s as a hardened, probed, resourced pod with its own ServiceAccount', (service) => {
    const spec = podSpec(serviceWorkload(objects, service));
    expect(spec.serviceAccountName).toBe(`heapstream-${service}`);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.containers).toHaveLength(1);
    const c = spec.containers[0]!;
    expect(c.args).toEqual([service]);
    expect(c.image).toBe('ghcr.io/heapstream/heapstream:0.1.0');
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.ports).toContainEqual(expect.objectContaining({ name: 'http-metrics', containerPort: 8080 }));
    expect(c.resources?.requests?.cpu).toBeTruthy();
    expect(c.resources?.requests?.memory).toBeTruthy();
    expect(c.resources?.limits?.memory).toBeTruthy();
    // The only writable path is /tmp, an emptyDir.
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    if (service === 'scraper') expect(c.resources?.requests).toEqual({ cpu: '200m', memory: '256Mi' });
    if (service === 'storage-writer') expect(spec.automountServiceAccountToken).toBe(false);
  });

  it.each(SERVICES)('configures %s only with settings it reads, and it would start with them', (service) => {
    const c = podSpec(serviceWorkload(objects, service)).containers[0]!;
    const env = containerEnv(objects, c);
    expect(checkServiceEnv(service, env)).toEqual([]);
    expect(env.HEAPSTREAM_HTTP_HOST).toBe('0.0.0.0');
    expect(env.HEAPSTREAM_HTTP_PORT).toBe('8080');
  });

  it('keeps credentials out of ConfigMaps (Secrets through secretKeyRef only)', () => {
    for (const cm of objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('heapstream-'))) {
      const keys = Object.keys((cm as unknown as { data: Record<string, string> }).data);
      expect(keys.filter((k) => /TOKEN|PASSWORD|SECRET|USERNAME/.test(k)), cm.metadata.name).toEqual([]);
    }
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('gives the scraper its pod name and group sharding, and the event-watcher two replicas with a Lease', () => {
    const scraper = serviceWorkload(objects, 'scraper');
    const env = podSpec(scraper).containers[0]!.env ?? [];
    expect(env).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect(env).toContainEqual({ name: 'SCRAPER_SHARDING', value: 'group' });
    const watcher = serviceWorkload(objects, 'event-watcher') as unknown as { spec: { replicas: number } };
    expect(watcher.spec.replicas).toBe(2);
    const wenv = podSpec(serviceWorkload(objects, 'event-watcher')).containers[0]!.env ?? [];
    expect(wenv).toContainEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
  });

  it('exposes every service\'s metrics port through an annotated Service, with a PodDisruptionBudget and a NetworkPolicy', () => {
    for (const service of SERVICES) {
      const svc = find(objects, 'Service', `heapstream-${service}`) as unknown as { metadata: K8sObject['metadata']; spec: { selector: Record<string, string>; ports: { port: number }[] } };
      expect(svc.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' });
      expect(svc.spec.selector).toEqual({ 'app.kubernetes.io/name': 'heapstream', 'app.kubernetes.io/component': service });
      expect(svc.spec.ports.map((p) => p.port)).toEqual([8080]);
      find(objects, 'PodDisruptionBudget', `heapstream-${service}`);
      const np = find(objects, 'NetworkPolicy', `heapstream-${service}`) as unknown as {
        spec: { policyTypes: string[]; ingress: { ports: { port: number }[] }[]; egress: { ports: { port: number; protocol: string }[] }[] };
      };
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(np.spec.ingress.flatMap((r) => r.ports.map((p) => p.port))).toEqual([8080]);
      const egress = new Set(np.spec.egress.flatMap((r) => r.ports.map((p) => p.port)));
      expect(egress.has(53)).toBe(true);
      expect(egress.has(9092)).toBe(true);
      expect(egress.has(10250)).toBe(service === 'scraper');
      expect(egress.has(8086)).toBe(service === 'storage-writer');
      expect(egress.has(443)).toBe(service !== 'storage-writer');
    }
  });
});

describe('overlay external', () => {
  const { objects } = built.external;
  it('reads Kafka and InfluxDB credentials from the heapstream-credentials Secret', () => {
    for (const service of SERVICES) {
      const env = podSpec(serviceWorkload(objects, service)).containers[0]!.env ?? [];
      const fromSecret = env.filter((v) => v.valueFrom?.secretKeyRef).map((v) => [v.name, v.valueFrom!.secretKeyRef!.name]);
      expect(fromSecret).toContainEqual(['KAFKA_SASL_PASSWORD', 'heapstream-credentials']);
      if (service === 'storage-writer') expect(fromSecret).toContainEqual(['INFLUX_TOKEN', 'heapstream-credentials']);
    }
  });
  it('runs nothing but the four services', () => {
    const workloads = objects.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind)).map((o) => o.metadata.name).sort();
    expect(workloads).toEqual(SERVICES.map((s) => `heapstream-${s}`).sort());
  });
});

describe('overlay all-in-one', () => {
  const { objects } = built['all-in-one'];
  it('adds Kafka (KRaft, official image), InfluxDB 1.8 and Grafana with the provisioned dashboards', () => {
    const kafka = podSpec(find(objects, 'StatefulSet', 'kafka')).containers[0]!;
    expect(kafka.image).toMatch(/^apache\/kafka:/);
    expect(kafka.env).toContainEqual({ name: 'KAFKA_PROCESS_ROLES', value: 'broker,controller' });
    expect(podSpec(find(objects, 'StatefulSet', 'influxdb')).containers[0]!.image).toMatch(/^influxdb:1\.8/);
    const grafana = find(objects, 'Deployment', 'grafana');
    expect(podSpec(grafana).containers[0]!.image).toMatch(/^grafana\/grafana:/);
    const dashboards = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('grafana-dashboards-')) as unknown as { data: Record<string, string> };
    expect(Object.keys(dashboards.data).sort()).toEqual(
      ['cluster', 'events', 'nodes', 'pipeline', 'pods', 'workloads'].map((d) => `heapstream-${d}.json`),
    );
    const datasources = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('grafana-datasources-')) as unknown as { data: Record<string, string> };
    expect(datasources.data['influxdb.yaml']).toContain('url: http://influxdb:8086');
  });
  it('lets only the heapstream services reach Kafka, and only the storage-writer and Grafana reach InfluxDB', () => {
    type Policy = { spec: { ingress: { from?: { podSelector: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[] } };
    const from = (name: string) => (find(objects, 'NetworkPolicy', name) as unknown as Policy).spec.ingress.flatMap((r) => (r.from ?? []).map((f) => f.podSelector.matchLabels));
    expect(from('kafka')).toEqual([{ 'app.kubernetes.io/name': 'heapstream' }]);
    expect(from('influxdb')).toEqual([{ 'app.kubernetes.io/name': 'heapstream', 'app.kubernetes.io/component': 'storage-writer' }, { 'app.kubernetes.io/name': 'grafana' }]);
    // The selectors match the pods they mean.
    const labels = (kind: string, name: string) => (find(objects, kind, name) as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
    expect(labels('Deployment', 'grafana')).toMatchObject({ 'app.kubernetes.io/name': 'grafana' });
    expect(labels('Deployment', 'heapstream-storage-writer')).toMatchObject({ 'app.kubernetes.io/name': 'heapstream', 'app.kubernetes.io/component': 'storage-writer' });
  });

  it('points the services at the in-namespace Kafka and InfluxDB', () => {
    const env = containerEnv(objects, podSpec(serviceWorkload(objects, 'storage-writer')).containers[0]!);
    expect(env.KAFKA_BROKERS).toBe('kafka:9092');
    expect(env.INFLUX_URL).toBe('http://influxdb:8086');
  });
});

describe('component kubelet-proxy', () => {
  it('switches the scraper to KUBELET_AUTH=proxy and grants nodes/proxy only then', () => {
    const dir = mkdtempSync(join(tmpdir(), 'heapstream-kustomize-'));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [relative(dir, join(ROOT, 'deploy/overlays/external'))], components: [relative(dir, join(ROOT, 'deploy/components/kubelet-proxy'))] }),
    );
    const { objects } = kustomize(dir);
    const env = podSpec(serviceWorkload(objects, 'scraper')).containers[0]!.env ?? [];
    expect(env.filter((v) => v.name === 'KUBELET_AUTH')).toEqual([{ name: 'KUBELET_AUTH', value: 'proxy' }]);
    const role = find(objects, 'ClusterRole', 'heapstream-scraper-proxy') as unknown as { rules: unknown[] };
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }]);
    const withoutProxy = built.external.objects.filter((o) => o.kind === 'ClusterRole').map((o) => JSON.stringify(o));
    expect(withoutProxy.join('\n')).not.toContain('nodes/proxy');
  });
});
