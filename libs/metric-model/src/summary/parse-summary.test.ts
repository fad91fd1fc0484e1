import { describe, expect, it } from 'vitest';
import { readTestdata } from '../golden.test-helper.js';
import { scrapeToPoints } from '../points.js';
import { toLineProtocol } from '../storage-schema.js';
import { ParseError, parseSummary } from './parse-summary.js';

const opts = { cluster: 'c1' };
const otel = readTestdata('otel-stats-summary.json').toString();
const telegraf = readTestdata('telegraf-stats-summary.json').toString();
const pointsOf = (body: string | object) => scrapeToPoints(parseSummary(body, opts).scrape);

describe('quirks of the real fixtures (SOURCES.md)', () => {
  it('keeps usageNanoCores 0 as a zero, not as absent', () => {
    const pod = parseSummary(otel, opts).scrape.pods.find((p) => p.name.startsWith('go-hello-world'))!;
    expect(pod.cpu?.usageNanoCores).toBe(0);
    expect(pod.containers[0]!.cpu?.usageNanoCores).toBe(0);
    const zero = pointsOf(otel).filter((p) => p.metric === 'cpu/usage_nano_cores' && p.tags.pod_name === pod.name);
    expect(zero.map((p) => p.value)).toEqual([0, 0]);
  });

  it('keeps a volume with only time and name, and makes no filesystem points for it', () => {
    const pod = parseSummary(otel, opts).scrape.pods.find((p) => p.name.startsWith('go-hello-world'))!;
    expect(pod.volumes?.find((v) => v.name === 'test-missing-metrics')).toEqual({ name: 'test-missing-metrics', time: Date.parse('2020-04-20T22:51:40Z') });
    expect(pointsOf(otel).filter((p) => p.tags.resource_id === 'Volume:test-missing-metrics')).toEqual([]);
    expect(pointsOf(otel).filter((p) => p.tags.resource_id === 'Volume:default-token-wgfsl')).toHaveLength(6);
  });

  it("reads telegraf's stopped pod: no pod-level stats, a container with only cpu", () => {
    const { scrape, issues } = parseSummary(telegraf, opts);
    expect(issues).toEqual([]);
    const pod = scrape.pods.find((p) => p.name === 'stopped-pod')!;
    expect(pod.startTime).toBeUndefined(); // "startTime": null
    expect(Object.keys(pod).sort()).toEqual(['containers', 'name', 'namespace', 'uid']);
    expect(Object.keys(pod.containers[0]!).sort()).toEqual(['cpu', 'name', 'startTime']);
    const metrics = pointsOf(telegraf).filter((p) => p.tags.pod_name === 'stopped-pod').map((p) => `${p.entityType} ${p.metric}`);
    expect(metrics).toEqual(['pod_container uptime', 'pod_container cpu/usage', 'pod_container cpu/usage_nano_cores']);
  });

  it('keeps huge counters exact and writes them as integers', () => {
    const node = parseSummary(telegraf, opts).scrape.nodeStats;
    expect(node.cpu?.usageCoreNanoSeconds).toBe(774129887054161);
    expect(node.systemContainers[0]!.memory?.pageFaults).toBe(4769397409);
    const lp = toLineProtocol(pointsOf(telegraf), { schema: 'heapster' }).lines;
    expect(lp).toContain('cpu/usage,cluster_name=c1,nodename=node1,type=node value=774129887054161i 1474995461000000000');
  });

  it('tolerates missing time fields: the block is kept, points fall back to the scrape time', () => {
    const { scrape } = parseSummary(telegraf, { ...opts, finishedAt: 1_474_995_470_000 });
    expect(scrape.nodeStats.fs).toEqual({ availableBytes: 84379979776, capacityBytes: 105553100800, usedBytes: 16754286592 });
    const fs = scrapeToPoints(scrape).filter((p) => p.entityType === 'node' && p.tags.resource_id === '/');
    expect(fs.map((p) => [p.metric, p.timestamp])).toEqual([
      ['filesystem/usage', 1_474_995_470_000],
      ['filesystem/limit', 1_474_995_470_000],
      ['filesystem/available', 1_474_995_470_000],
    ]);
  });

  it('ignores userDefinedMetrics: null and a network block without interfaces', () => {
    const { scrape, issues } = parseSummary(telegraf, opts);
    expect(issues).toEqual([]);
    expect(scrape.nodeStats.network?.interfaces).toBeUndefined();
    expect(scrape.nodeStats.rlimit).toBeUndefined();
  });

  it('passes other fixture oddities through untouched rather than "fixing" them', () => {
    const { scrape } = parseSummary(otel, opts);
    // Pod and container CPU are sampled at different times, so the pod total can trail its container.
    const sched = scrape.pods.find((p) => p.name === 'kube-scheduler-minikube')!;
    expect(sched.cpu!.usageCoreNanoSeconds!).toBeLessThan(sched.containers[0]!.cpu!.usageCoreNanoSeconds!);
    // Container logs report the node filesystem's inode count; static pods have 32-hex config-hash UIDs.
    expect(sched.containers[0]!.logs?.inodesUsed).toBe(43342);
    expect(sched.uid).toMatch(/^[0-9a-f]{32}$/);
  });

  it('defaults the scrape window to the latest sample time, and uses the given one otherwise', () => {
    expect(parseSummary(otel, opts).scrape.scrape).toEqual({ startedAt: Date.parse('2020-04-20T22:52:28Z'), finishedAt: Date.parse('2020-04-20T22:52:28Z') });
    expect(parseSummary(otel, { ...opts, node: 'minikube', startedAt: 1, finishedAt: 2, endpoint: 'summary' }).scrape.scrape).toEqual({
      startedAt: 1,
      finishedAt: 2,
      endpoint: 'summary',
    });
  });
});

describe('bad input', () => {
  const summary = (pods: unknown[], node: object = {}) => ({ node: { nodeName: 'n1', ...node }, pods });
  const cpu = { time: '2024-01-01T00:00:00Z', usageCoreNanoSeconds: 10, usageNanoCores: 5 };

  it('throws ParseError only when the body is not a summary', () => {
    for (const body of ['', 'hello', '<html>', '[]', '42', '{"kind":"Status"}', '{"node":{}}']) {
      expect(() => parseSummary(body, opts), body).toThrow(ParseError);
    }
    const { scrape, issues } = parseSummary('{"node":{}}', { ...opts, node: 'n1' });
    expect(scrape.nodeStats).toEqual({ systemContainers: [] });
    expect(issues).toEqual([{ path: '', reason: 'no scrape time given and no sample time in the body; used the current time' }]);
  });

  it('skips wrong types, negatives, fractions and absurd values field by field', () => {
    const body = summary([], {
      cpu: { ...cpu, usageCoreNanoSeconds: '10' },
      memory: { time: '2024-01-01T00:00:00Z', usageBytes: -5, workingSetBytes: 1.5, rssBytes: 2 ** 64, pageFaults: 7 },
    });
    const { scrape, issues } = parseSummary(body, opts);
    expect(scrape.nodeStats.cpu).toEqual({ time: Date.parse(cpu.time), usageNanoCores: 5 });
    expect(scrape.nodeStats.memory).toEqual({ time: Date.parse(cpu.time), pageFaults: 7 });
    expect(issues).toEqual([
      { path: 'node.cpu.usageCoreNanoSeconds', reason: 'expected a number, got string "10"' },
      { path: 'node.memory.usageBytes', reason: 'negative value -5' },
      { path: 'node.memory.workingSetBytes', reason: 'expected an integer, got 1.5' },
      { path: 'node.memory.rssBytes', reason: 'absurd value 18446744073709552000 (>= 2^63)' },
    ]);
    expect(scrape.parseIssues).toBe(4);
  });

  it('skips bad times and treats Go zero time as absent', () => {
    const body = summary([], { startTime: '0001-01-01T00:00:00Z', cpu: { ...cpu, time: 'yesterday' }, memory: { time: '1900-01-01T00:00:00Z', usageBytes: 1 } });
    const { scrape, issues } = parseSummary(body, { ...opts, finishedAt: 9 });
    expect(scrape.nodeStats.startTime).toBeUndefined();
    expect(scrape.nodeStats.cpu).toEqual({ usageCoreNanoSeconds: 10, usageNanoCores: 5 });
    expect(issues.map((i) => i.path)).toEqual(['node.cpu.time', 'node.memory.time']);
  });

  it('skips pods, containers, volumes and interfaces it cannot identify, keeping the rest', () => {
    const good = { podRef: { name: 'p', namespace: 'ns', uid: 'u' }, containers: [{ name: 'c', cpu }] };
    const body = summary([
      good,
      'not a pod',
      { podRef: { name: 'no-namespace' }, containers: [] },
      { ...good, containers: [{ cpu }, { name: 'c2', cpu: 'busy' }], volume: [{ usedBytes: 1 }], network: { interfaces: [{ rxBytes: 1 }] } },
    ]);
    const { scrape, issues } = parseSummary(body, opts);
    expect(scrape.pods.map((p) => p.name)).toEqual(['p', 'p']);
    expect(scrape.pods[1]!.containers).toEqual([{ name: 'c2' }]);
    expect(issues.map((i) => i.path)).toEqual([
      'pods[1]',
      'pods[2]',
      'pods[3].containers[0]',
      'pods[3].containers[1].cpu',
      'pods[3].network.interfaces[0]',
      'pods[3].volume[0]',
    ]);
  });

  it('reports wrong section types without throwing', () => {
    const { scrape, issues } = parseSummary({ node: { nodeName: 'n1', systemContainers: {}, runtime: [] }, pods: 'none' }, { ...opts, finishedAt: 1 });
    expect(scrape.pods).toEqual([]);
    expect(scrape.nodeStats).toEqual({ systemContainers: [] });
    expect(issues.map((i) => i.path).sort()).toEqual(['node.runtime', 'node.systemContainers', 'pods']);
  });

  it('salvages a truncated body: complete pods kept, the cut pod dropped, no cut number misread', () => {
    const pods = JSON.parse(otel).pods as unknown[];
    const cutAt = otel.indexOf('"usageCoreNanoSeconds"', otel.indexOf('coredns-66bff467f8-58qvv')) + '"usageCoreNanoSeconds": 2'.length;
    const { scrape, issues } = parseSummary(otel.slice(0, cutAt), opts);
    expect(scrape.pods.map((p) => p.name)).toEqual(parseSummary(otel, opts).scrape.pods.slice(0, 4).map((p) => p.name));
    expect(pods.length).toBeGreaterThan(scrape.pods.length);
    expect(scrape.nodeStats).toEqual(parseSummary(otel, opts).scrape.nodeStats);
    expect(issues[0]!.reason).toMatch(/truncated/);
    expect(issues.slice(1)).toEqual([{ path: 'pods[4]', reason: 'incomplete at the end of the body; dropped' }]);
  });

  it('salvages a body cut inside the node block, keeping only complete values', () => {
    const node = otel.slice(0, otel.indexOf('"majorPageFaults": 12') + '"majorPageFaults": 1'.length);
    const { scrape } = parseSummary(node, opts);
    expect(scrape.nodeStats.memory?.pageFaults).toBe(12345);
    expect(scrape.nodeStats.memory?.majorPageFaults).toBeUndefined();
    expect(scrape.pods).toEqual([]);
  });

  it('stops at garbage in the middle and reports where', () => {
    const broken = otel.replace('"kube-proxy-v48tf"', '"kube-proxy-v48tf" ??? ');
    const { scrape, issues } = parseSummary(broken, opts);
    expect(scrape.pods.length).toBe(6);
    expect(issues[0]!.reason).toMatch(/invalid JSON at offset \d+/);
  });

  it('accepts a Buffer and an already parsed object', () => {
    expect(parseSummary(Buffer.from(otel), opts)).toEqual(parseSummary(JSON.parse(otel), opts));
  });

  it('prefers the scraped node name and reports a mismatch', () => {
    const { scrape, issues } = parseSummary(otel, { ...opts, node: 'other' });
    expect(scrape.node).toBe('other');
    expect(issues).toEqual([{ path: 'node.nodeName', reason: 'body says "minikube" but node "other" was scraped' }]);
  });
});
