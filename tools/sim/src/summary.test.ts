import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SimulatedCluster } from './cluster.js';
import { mergeShapes, shapeDifference, shapeOf } from './shape.js';
import type { Summary } from './summary-types.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../testdata/${name}`, import.meta.url), 'utf8')) as unknown;
const otel = shapeOf(fixture('otel-stats-summary.json'));
const telegraf = shapeOf(fixture('telegraf-stats-summary.json'));
const reference = mergeShapes(otel, telegraf);
/** Real kubelet fields the fixtures happen not to contain (VolumeStats.pvcRef). */
const KNOWN_EXTRA = new Set(['pods[].volume[].pvcRef', 'pods[].volume[].pvcRef.name', 'pods[].volume[].pvcRef.namespace']);

const EPOCH = Date.UTC(2026, 0, 1);
const options = { nodes: 20, podsPerNode: 12, containersPerPod: '1-3', seed: 42, namePrefix: 'unit', legacyFraction: 0.3, interval: '10s' };

function cluster(extra: Record<string, unknown> = {}) {
  return SimulatedCluster.create({ ...options, ...extra } as never, EPOCH);
}

function summaries(c: SimulatedCluster, atMs: number): Summary[] {
  c.advanceTo(atMs);
  return c.nodes.map((n) => c.summary(n, c.sampleTimeAt(n, atMs)));
}

describe('summary payloads', () => {
  it('have only the key paths and JSON types of the real fixtures', () => {
    const c = cluster();
    for (const s of summaries(c, EPOCH + 120_000)) {
      const extra = shapeDifference(shapeOf(JSON.parse(JSON.stringify(s))), reference).filter((p) => !KNOWN_EXTRA.has(p));
      expect(extra).toEqual([]);
    }
  });

  it('cover every key path of the modern fixture, and the legacy shape on some nodes', () => {
    const c = cluster();
    const all = summaries(c, EPOCH + 120_000);
    const shapes = all.map((s) => shapeOf(JSON.parse(JSON.stringify(s))));
    const union = mergeShapes(...shapes);
    const missing = [...otel.keys()].filter((p) => !union.has(p));
    expect(missing).toEqual([]);
    const legacy = all.filter((s) => s.node.rlimit === undefined);
    expect(legacy.length).toBeGreaterThan(0);
    expect(legacy.length).toBeLessThan(all.length);
    // Optional fields are absent, never null or undefined-valued (except userDefinedMetrics: null, as real).
    expect(JSON.stringify(all)).not.toContain('undefined');
  });

  it('are a pure function of seed, node and time', () => {
    const a = cluster({ churn: 200, restartRate: 2 });
    const b = cluster({ churn: 200, restartRate: 2 });
    // b advances in many small steps, a in one jump: the history must not depend on it.
    for (let t = EPOCH; t <= EPOCH + 1800_000; t += 7_000) b.advanceTo(t);
    const at = EPOCH + 1800_000;
    expect(JSON.stringify(summaries(a, at))).toEqual(JSON.stringify(summaries(b, at)));
    const other = cluster({ seed: 43, churn: 200, restartRate: 2 });
    expect(JSON.stringify(summaries(other, at))).not.toEqual(JSON.stringify(summaries(a, at)));
  });

  it('report whole-second timestamps on a fixed sample grid', () => {
    const c = cluster();
    const n = c.node(3);
    const t1 = c.sampleTimeAt(n, EPOCH + 100_000);
    expect(t1 % 1000).toBe(0);
    expect(c.sampleTimeAt(n, t1 + 9_999)).toBe(t1);
    expect(c.sampleTimeAt(n, t1 + 10_000)).toBe(t1 + 10_000);
    expect(c.summary(n, t1).node.cpu?.time).toBe(new Date(t1).toISOString().replace('.000Z', 'Z'));
  });

  it('keep counters monotonic except where a container restarted, and replaced pods disappear', { timeout: 60_000 }, () => {
    const c = cluster({ churn: 300, restartRate: 1.5, nodes: 6 });
    const last = new Map<string, { value: number; startTime: string }>();
    let resets = 0;
    let podsSeen = new Set<string>();
    let replaced = 0;
    const failures: string[] = [];
    const check = (key: string, value: number | undefined, startTime: string) => {
      if (value === undefined) return;
      const prev = last.get(key);
      if (prev) {
        if (prev.startTime === startTime) {
          if (value < prev.value) failures.push(`${key}: ${prev.value} -> ${value}`);
        } else {
          resets++;
          if (Date.parse(startTime) <= Date.parse(prev.startTime)) failures.push(`${key}: startTime went back`);
        }
      }
      last.set(key, { value, startTime });
    };
    for (let t = EPOCH; t <= EPOCH + 2 * 3600_000; t += 20_000) {
      const current = new Set<string>();
      for (const s of summaries(c, t)) {
        const node = s.node;
        check(`${node.nodeName}/cpu`, node.cpu?.usageCoreNanoSeconds, node.startTime);
        check(`${node.nodeName}/rx`, node.network?.rxBytes, node.startTime);
        check(`${node.nodeName}/faults`, node.memory?.pageFaults, node.startTime);
        for (const sc of node.systemContainers ?? []) check(`${node.nodeName}/${sc.name}`, sc.cpu?.usageCoreNanoSeconds, sc.startTime);
        for (const p of s.pods) {
          const uid = p.podRef.uid;
          current.add(uid);
          // The pod cgroup outlives container restarts: its counters never go back.
          check(`${uid}/cpu`, p.cpu?.usageCoreNanoSeconds, p.startTime);
          check(`${uid}/rx`, p.network?.rxBytes, p.startTime);
          for (const ct of p.containers) {
            check(`${uid}/${ct.name}/cpu`, ct.cpu?.usageCoreNanoSeconds, ct.startTime);
            check(`${uid}/${ct.name}/faults`, ct.memory?.pageFaults, ct.startTime);
          }
        }
      }
      for (const uid of podsSeen) if (!current.has(uid)) replaced++;
      podsSeen = current;
    }
    expect(failures).toEqual([]);
    expect(resets).toBeGreaterThan(0);
    expect(replaced).toBeGreaterThan(0);
  });

  it('only_cpu_and_memory leaves out network, filesystems and volumes', () => {
    const c = cluster();
    const n = c.node(0);
    const s = c.summary(n, c.sampleTimeAt(n, EPOCH + 60_000), { onlyCpuAndMemory: true });
    expect(s.node.network).toBeUndefined();
    expect(s.node.fs).toBeUndefined();
    expect(s.pods.every((p) => p.volume === undefined && p.network === undefined)).toBe(true);
    expect(s.pods[0]?.containers[0]?.cpu).toBeDefined();
  });

  it('shifts every timestamp of a skewed node, not its values', () => {
    const c = cluster();
    const n = c.node(1);
    const t = c.sampleTimeAt(n, EPOCH + 60_000);
    const plain = c.summary(n, t, { skewMs: 0 });
    const skewed = c.summary(n, t, { skewMs: 90_000 });
    expect(Date.parse(skewed.node.cpu!.time) - Date.parse(plain.node.cpu!.time)).toBe(90_000);
    expect(skewed.node.cpu!.usageCoreNanoSeconds).toBe(plain.node.cpu!.usageCoreNanoSeconds);
  });
});
