import { describe, expect, it } from 'vitest';
import type { V1Job, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { nodeMetaOf, podMetaOf, workloadOf, type OwnerLookup } from '../enrichment/convert.js';
import { parseQuantity, type MetadataSource } from './enrich.js';
import { PartitionProcessor, type OutputRecord } from './processor.js';
import { testSettings, tinyScrape } from './testing.js';

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);

describe('quantities', () => {
  it('parses cpu to millicores and memory to bytes', () => {
    expect(parseQuantity('100m', true)).toBe(100);
    expect(parseQuantity('1.5', true)).toBe(1500);
    expect(parseQuantity('2', true)).toBe(2000);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('128974848')).toBe(128974848);
    expect(parseQuantity('junk')).toBeUndefined();
  });
});

describe('owning workload', () => {
  const rs: V1ReplicaSet = { metadata: { name: 'web-5d4f', namespace: 'a', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd', controller: true }] } };
  const job: V1Job = { metadata: { name: 'backup-123', namespace: 'a', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'backup', uid: 'c', controller: true }] } };
  const owners: OwnerLookup = { replicaSet: (ns, n) => (ns === 'a' && n === 'web-5d4f' ? rs : undefined), job: (ns, n) => (ns === 'a' && n === 'backup-123' ? job : undefined) };
  const pod = (kind: string, name: string, labels?: Record<string, string>): V1Pod => ({ metadata: { namespace: 'a', name: 'p', labels, ownerReferences: [{ apiVersion: 'v1', kind, name, uid: 'u', controller: true }] } });

  it('follows ReplicaSet -> Deployment and Job -> CronJob', () => {
    expect(workloadOf(pod('ReplicaSet', 'web-5d4f'), owners)).toEqual({ kind: 'Deployment', name: 'web' });
    expect(workloadOf(pod('Job', 'backup-123'), owners)).toEqual({ kind: 'CronJob', name: 'backup' });
    expect(workloadOf(pod('DaemonSet', 'fluentd'), owners)).toEqual({ kind: 'DaemonSet', name: 'fluentd' });
    expect(workloadOf(pod('StatefulSet', 'db'), owners)).toEqual({ kind: 'StatefulSet', name: 'db' });
    expect(workloadOf(pod('Job', 'once'), owners)).toEqual({ kind: 'Job', name: 'once' });
    // ReplicaSet not in the cache yet: the pod-template-hash names the Deployment.
    expect(workloadOf(pod('ReplicaSet', 'api-7c9b8', { 'pod-template-hash': '7c9b8' }), owners)).toEqual({ kind: 'Deployment', name: 'api' });
    expect(workloadOf({ metadata: { name: 'bare' } }, owners)).toBeUndefined();
  });

  it('reads container requests and limits and node capacity', () => {
    const spec = { containers: [{ name: 'c1', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1' } } }, { name: 'c2' }] };
    const status = { containerStatuses: [{ name: 'c1', restartCount: 3, ready: true, image: 'i', imageID: 'i' }] };
    const meta = podMetaOf({ ...pod('DaemonSet', 'x'), spec, status }, owners);
    expect(meta.containers).toEqual([
      { name: 'c1', requests: { cpu: 250, memory: 64 * 2 ** 20 }, limits: { cpu: 1000 }, restarts: 3 },
      { name: 'c2', requests: {}, limits: {} },
    ]);
    expect(nodeMetaOf({ status: { capacity: { cpu: '4', memory: '8Gi' }, allocatable: { cpu: '3800m', memory: '7Gi' } } })).toEqual({
      capacity: { cpu: 4000, memory: 8 * 2 ** 30 },
      allocatable: { cpu: 3800, memory: 7 * 2 ** 30 },
    });
  });
});

describe('enriched processing', () => {
  const source: MetadataSource = {
    pod: (ns, name) =>
      ns === 'default' && name === 'p1'
        ? { labels: { app: 'web', secret: 'x' }, workload: { kind: 'Deployment', name: 'web' }, containers: [{ name: 'c1', requests: { cpu: 500, memory: 1000 }, limits: { cpu: 1000 }, restarts: 2 }] }
        : undefined,
    node: () => ({ capacity: { cpu: 4000, memory: 8000 }, allocatable: { cpu: 2000, memory: 4000 } }),
    namespaceUid: () => 'ns-uid',
  };

  it('adds allow-listed labels and the workload, requests and limits, node utilization and reservation', () => {
    const p = new PartitionProcessor(testSettings({ rollupCycleMs: 15_000, allowedLatenessMs: 0 }), source);
    const out: OutputRecord[] = [];
    for (const [i, at] of [T0, T0 + 10_000, T0 + 31_000].entries()) out.push(...p.ingest(tinyScrape({ at, cpuNs: i * 5e9, memory: 1000 }), at).records);
    const native = out.filter((r) => r.key === 'n1').flatMap((r) => r.batch.points);
    const podCpu = native.find((x) => x.metric === 'cpu/usage_rate' && x.entityType === 'pod')!;
    expect(podCpu.tags).toMatchObject({ labels: 'app:web', workload_kind: 'Deployment', workload_name: 'web', namespace_id: 'ns-uid' });
    expect(native.find((x) => x.metric === 'cpu/request' && x.entityType === 'pod_container')).toMatchObject({ value: 500 });
    expect(native.find((x) => x.metric === 'cpu/request' && x.entityType === 'pod')).toMatchObject({ value: 500, members: 1 });
    expect(native.filter((x) => x.metric === 'restart_count')).toMatchObject([{ entityType: 'pod_container', value: 2, tags: { container_name: 'c1' } }, {}, {}]);
    // node: 5e9 ns over 10 s = 500 m of 2000 m allocatable; 500 m requested of 2000 m
    const second = out.filter((r) => r.key === 'n1')[1]!.batch.points;
    expect(second.find((x) => x.metric === 'cpu/node_utilization')).toMatchObject({ value: 0.25 });
    expect(second.find((x) => x.metric === 'cpu/node_reservation')).toMatchObject({ value: 0.25 });
    expect(second.find((x) => x.metric === 'memory/node_utilization')).toMatchObject({ value: 0.25 });
    // the workload rollup exists, with the pod as its member
    const workload = out.filter((r) => r.key === 'workload/default/Deployment/web').flatMap((r) => r.batch.points);
    expect(workload.find((x) => x.metric === 'cpu/usage_rate')).toMatchObject({ value: 500, members: 1, entityType: 'workload' });
    // cluster utilization is the ratio of the sums, not a sum of ratios
    const cluster = out.filter((r) => r.key === 'cluster').flatMap((r) => r.batch.points);
    expect(cluster.find((x) => x.metric === 'cpu/node_utilization')).toMatchObject({ value: 0.25 });
    // requests and limits are summed into the node (cpu and memory always, as Heapster did;
    // ephemeral storage only when some pod sets it), and the nodes into the cluster
    const node = (metric: string) => native.find((x) => x.metric === metric && x.entityType === 'node');
    expect([node('cpu/request')?.value, node('cpu/limit')?.value, node('memory/request')?.value, node('memory/limit')?.value]).toEqual([500, 1000, 1000, 0]);
    expect(node('ephemeral_storage/limit')).toBeUndefined();
    expect(cluster.find((x) => x.metric === 'cpu/limit')).toMatchObject({ value: 1000, members: 1 });
  });

  it('gives the points of one entity one enriched tags object (the cost of tag work downstream is per entity)', () => {
    const p = new PartitionProcessor(testSettings({ rollupCycleMs: 15_000, allowedLatenessMs: 0 }), source);
    const points = p.ingest(tinyScrape({ at: T0, cpuNs: 0, memory: 1000 }), T0).records.filter((r) => r.key === 'n1').flatMap((r) => r.batch.points);
    for (const entityType of ['pod', 'pod_container'] as const) {
      const mine = points.filter((x) => x.entityType === entityType && x.tags.resource_id === undefined);
      expect(mine.length).toBeGreaterThan(3);
      expect(mine.some((x) => x.metric === 'cpu/usage')).toBe(true);
      expect(mine.some((x) => x.metric === 'cpu/request')).toBe(true);
      expect(new Set(mine.map((x) => x.tags)).size).toBe(1);
      expect(mine[0]!.tags).toMatchObject({ workload_name: 'web' });
    }
  });
});
