import { counter, gauge, rate, sawtooth } from './signals.js';
import { hashInts } from './random.js';
import { epochAt, type ContainerState, type NodeState, type PodState, type VolumeState } from './model.js';
import type * as S from './summary-types.js';

/**
 * The kubelet Summary API payload (`/stats/summary`) of one node at one sample time:
 * a pure function of the node's history, the sample time and the clock skew.
 * Field order follows the kubelet's Go structs, as in the fixtures.
 */

export interface SampleOptions {
  /** The kubelet's sample (housekeeping) interval; usage rates are averaged over it. */
  intervalMs: number;
  /** Added to every timestamp the node reports (its clock is wrong), not to the values. */
  skewMs?: number;
  /** `?only_cpu_and_memory=true`, as metrics-server asks for. */
  onlyCpuAndMemory?: boolean;
}

const MiB = 1024 * 1024;
const PAGE = 4096;
const FS_TIME_STEP_MS = 60_000;

/** Sample times of a node: phase + k * interval, the latest one at or before `atMs`. */
export function sampleTimeAt(node: NodeState, atMs: number, intervalMs: number): number {
  const phase = node.spec.phaseMs % intervalMs;
  return Math.floor((atMs - phase) / intervalMs) * intervalMs + phase;
}

// Formatting dates is a fifth of the build time otherwise; a payload reuses a few dozen seconds.
const isoCache = new Map<number, string>();
function isoTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  let s = isoCache.get(sec);
  if (s === undefined) {
    if (isoCache.size > 50_000) isoCache.clear();
    s = new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
    isoCache.set(sec, s);
  }
  return s;
}

/** Whole-second offset 0..maxSeconds-1 of a cgroup's own stats time behind the sample time. */
function lag(key: number, maxSeconds: number): number {
  return (hashInts(key, 0x6c6167) % maxSeconds) * 1000;
}

const pages = (bytes: number) => Math.round(bytes / PAGE) * PAGE;

interface Usage {
  cpuNs: number;
  nanoCores: number;
  ws: number;
  usage: number;
  rss: number;
  pageFaults: number;
  majorPageFaults: number;
}

/** Cumulative page faults of the current instance of a container. */
export function containerPageFaults(c: ContainerState, at: number): number {
  return counter(c.key ^ 0x5046, 2 + c.template.memMeanBytes / (64 * MiB), c.startMs, at);
}

function containerUsage(c: ContainerState, at: number, windowMs: number): Usage {
  const t = c.template;
  const cpuNs = counter(c.key, t.cpuMeanNanoCores, c.startMs, at);
  const nanoCores = Math.round(rate(c.key, t.cpuMeanNanoCores, c.startMs, at, windowMs));
  let ws = pages(gauge(c.key ^ 0x4d454d, t.memMeanBytes, 0.25, at));
  if (t.limits.memoryBytes) ws = Math.min(ws, pages(t.limits.memoryBytes * 0.97));
  const usage = ws + pages(gauge(c.key ^ 0x434143, t.memMeanBytes * 0.15, 0.5, at));
  const rss = pages(ws * 0.88);
  return {
    cpuNs,
    nanoCores,
    ws,
    usage,
    rss,
    pageFaults: containerPageFaults(c, at),
    majorPageFaults: counter(c.key ^ 0x4d4a, 0.0005, c.startMs, at),
  };
}

interface FsFigures {
  capacity: number;
  available: number;
  used: number;
  inodes: number;
  inodesUsed: number;
}

function nodeFs(node: NodeState, at: number): FsFigures {
  const s = node.spec;
  const capacity = s.fsCapacityBytes;
  const used = pages(gauge(s.key ^ 0x4653, capacity * 0.35, 0.1, at));
  const inodes = Math.floor(capacity / 16384);
  const inodesUsed = gauge(s.key ^ 0x494e, inodes * 0.02, 0.05, at);
  return { capacity, available: Math.max(0, capacity - used - Math.floor(capacity * 0.05)), used, inodes, inodesUsed };
}

export class SummaryBuilder {
  constructor(
    private readonly node: NodeState,
    private readonly opts: SampleOptions,
  ) {}

  private time(ms: number): string {
    return isoTime(ms + (this.opts.skewMs ?? 0));
  }

  build(sampleMs: number): S.Summary {
    const node = this.node;
    const spec = node.spec;
    const legacy = spec.variant.legacy;
    const only = this.opts.onlyCpuAndMemory === true;
    const windowMs = this.opts.intervalMs;
    const epoch = epochAt(node, sampleMs);
    const fs = nodeFs(node, sampleMs);
    const fsTime = sampleMs - (sampleMs % FS_TIME_STEP_MS);

    const pods: S.PodStats[] = [];
    let podsCpuNs = epoch.retiredCpuNs;
    let podsNanoCores = 0;
    let podsWs = 0;
    let podsUsage = 0;
    let podsRss = 0;
    for (const pod of epoch.pods) {
      if (pod.startMs > sampleMs) continue;
      const built = this.pod(pod, sampleMs, fs, fsTime, windowMs, only);
      pods.push(built.stats);
      podsCpuNs += built.cpuNs;
      podsNanoCores += built.nanoCores;
      podsWs += built.ws;
      podsUsage += built.usage;
      podsRss += built.rss;
    }

    const kubelet = this.systemUsage(spec.key ^ 0x4b4c, 35e6, 110 * MiB, spec.kubeletStartMs, sampleMs);
    const runtime = this.systemUsage(spec.key ^ 0x5254, 20e6, 220 * MiB, spec.runtimeStartMs, sampleMs);
    const overhead = this.systemUsage(spec.key ^ 0x4f53, 60e6, 400 * MiB, spec.bootMs, sampleMs);
    const withRuntime = spec.variant.runtimeContainer;
    // Without a runtime cgroup the runtime's CPU still counts towards the node.
    const nodeCpuNs = podsCpuNs + kubelet.cpuNs + runtime.cpuNs + overhead.cpuNs;
    const nodeNanoCores = podsNanoCores + kubelet.nanoCores + runtime.nanoCores + overhead.nanoCores;
    const nodeWs = podsWs + kubelet.ws + runtime.ws + overhead.ws;
    const memCapacity = spec.memoryBytes;
    const nodeAvailable = Math.max(0, memCapacity - nodeWs);
    const nodeUsage = nodeWs + pages(gauge(spec.key ^ 0x50434, memCapacity * 0.25, 0.3, sampleMs));
    const t = this.time(sampleMs);

    const systemContainers: S.ContainerStats[] = [];
    const sys = (name: string, startMs: number, u: Usage, at: number, available: number | undefined): S.ContainerStats => {
      const stats: S.ContainerStats = { name, startTime: this.time(startMs) };
      stats.cpu = { time: this.time(at), usageNanoCores: u.nanoCores, usageCoreNanoSeconds: u.cpuNs };
      stats.memory = this.memory(at, legacy ? undefined : available, u);
      if (legacy && !only) {
        stats.rootfs = { availableBytes: fs.available, capacityBytes: fs.capacity };
        stats.logs = { availableBytes: fs.available, capacityBytes: fs.capacity };
        stats.userDefinedMetrics = null;
      }
      return stats;
    };
    const sysAt = (key: number) => sampleMs - lag(key, 5);
    systemContainers.push(sys('kubelet', spec.kubeletStartMs, kubelet, sysAt(spec.key ^ 1), nodeAvailable));
    if (withRuntime) systemContainers.push(sys('runtime', spec.runtimeStartMs, runtime, sysAt(spec.key ^ 2), nodeAvailable));
    systemContainers.push(
      sys(
        'pods',
        spec.kubeletStartMs,
        { cpuNs: podsCpuNs, nanoCores: podsNanoCores, ws: podsWs, usage: podsUsage, rss: podsRss, pageFaults: 0, majorPageFaults: 0 },
        sampleMs,
        Math.max(0, memCapacity - 256 * MiB - podsWs),
      ),
    );

    const nodeStats: S.NodeStats = {
      nodeName: spec.name,
      systemContainers,
      startTime: this.time(spec.bootMs),
      cpu: { time: t, usageNanoCores: nodeNanoCores, usageCoreNanoSeconds: nodeCpuNs },
      memory: {
        time: t,
        availableBytes: nodeAvailable,
        usageBytes: nodeUsage,
        workingSetBytes: nodeWs,
        rssBytes: pages(podsRss + kubelet.rss + runtime.rss + overhead.rss),
        pageFaults: counter(spec.key ^ 0x4e5046, 400, spec.bootMs, sampleMs),
        majorPageFaults: counter(spec.key ^ 0x4e4d4a, 0.01, spec.bootMs, sampleMs),
      },
    };
    if (!only) {
      nodeStats.network = this.nodeNetwork(sampleMs);
      nodeStats.fs = this.fs(fs, sampleMs);
      const imageUsed = pages(gauge(spec.key ^ 0x494d47, 6e9, 0.02, sampleMs));
      nodeStats.runtime = { imageFs: this.fs({ ...fs, used: imageUsed }, sampleMs) };
      if (!legacy) {
        nodeStats.rlimit = {
          time: this.time(sampleMs + 1000),
          maxpid: 4194304,
          curproc: gauge(spec.key ^ 0x5052, 180 + 12 * pods.length, 0.1, sampleMs),
        };
      }
    }
    return { node: nodeStats, pods };
  }

  private systemUsage(key: number, meanNanoCores: number, meanBytes: number, startMs: number, at: number): Usage {
    const ws = pages(gauge(key ^ 0x4d, meanBytes, 0.1, at));
    return {
      cpuNs: counter(key, meanNanoCores, startMs, at),
      nanoCores: Math.round(rate(key, meanNanoCores, startMs, at, this.opts.intervalMs)),
      ws,
      usage: pages(ws * 1.15),
      rss: pages(ws * 0.95),
      pageFaults: counter(key ^ 0x50, 20, startMs, at),
      majorPageFaults: 0,
    };
  }

  private memory(at: number, available: number | undefined, u: Usage): S.MemoryStats {
    const m: S.MemoryStats = { time: this.time(at) };
    if (available !== undefined) m.availableBytes = available;
    m.usageBytes = u.usage;
    m.workingSetBytes = u.ws;
    m.rssBytes = u.rss;
    m.pageFaults = u.pageFaults;
    m.majorPageFaults = u.majorPageFaults;
    return m;
  }

  private fs(f: FsFigures, at: number): S.FsStats {
    if (this.node.spec.variant.legacy) return { availableBytes: f.available, capacityBytes: f.capacity, usedBytes: f.used };
    return {
      time: this.time(at),
      availableBytes: f.available,
      capacityBytes: f.capacity,
      usedBytes: f.used,
      inodesFree: f.inodes - f.inodesUsed,
      inodes: f.inodes,
      inodesUsed: f.inodesUsed,
    };
  }

  private interfaceFigures(key: number, rxMean: number, txMean: number, startMs: number, at: number, errors: boolean): S.InterfaceStats {
    return {
      name: '',
      rxBytes: counter(key ^ 0x5258, rxMean, startMs, at),
      rxErrors: errors ? counter(key ^ 0x5245, 0.02, startMs, at) : 0,
      txBytes: counter(key ^ 0x5458, txMean, startMs, at),
      txErrors: 0,
    };
  }

  private network(primary: S.InterfaceStats, extra: S.InterfaceStats[], at: number): S.NetworkStats {
    if (this.node.spec.variant.legacy) {
      return { time: this.time(at), rxBytes: primary.rxBytes, rxErrors: primary.rxErrors, txBytes: primary.txBytes, txErrors: primary.txErrors };
    }
    return {
      time: this.time(at),
      name: primary.name,
      rxBytes: primary.rxBytes,
      rxErrors: primary.rxErrors,
      txBytes: primary.txBytes,
      txErrors: primary.txErrors,
      interfaces: [primary, ...extra],
    };
  }

  private nodeNetwork(at: number): S.NetworkStats {
    const s = this.node.spec;
    const eth0 = { ...this.interfaceFigures(s.key, 4e6, 2.5e6, s.bootMs, at, s.variant.noisyNic), name: 'eth0' };
    const extra = s.variant.extraInterfaces.map((name) =>
      name === 'sit0'
        ? { name, rxBytes: 0, rxErrors: 0, txBytes: 0, txErrors: 0 }
        : { ...this.interfaceFigures(s.key ^ 0x636e69, 1.5e6, 1.5e6, s.bootMs, at, false), name },
    );
    return this.network(eth0, extra, at);
  }

  private pod(pod: PodState, sampleMs: number, fs: FsFigures, fsTime: number, windowMs: number, only: boolean) {
    const legacy = this.node.spec.variant.legacy;
    const podAt = Math.max(pod.startMs, sampleMs - lag(pod.key, 3));
    // The first sample after a pod starts has no pod-level stats and CPU only for containers.
    const fresh = sampleMs - pod.startMs < windowMs;
    const containers: S.ContainerStats[] = [];
    let cpuNs = pod.priorCpuNs;
    let nanoCores = 0;
    let ws = 256 * 1024;
    let usage = ws;
    let rss = 0;
    let pageFaults = pod.priorPageFaults;
    let allLimited = true;
    let limitSum = 0;
    let rootfsUsedSum = 0;
    let rootfsInodesSum = 0;
    for (const c of pod.containers) {
      const lim = c.template.limits.memoryBytes;
      if (lim) limitSum += lim;
      else allLimited = false;
      if (c.startMs > sampleMs) continue;
      // Containers are sampled with their pod (one housekeeping pass), so one computation serves both.
      const cAt = Math.max(c.startMs, podAt);
      const u = containerUsage(c, cAt, windowMs);
      if (podAt >= c.startMs) {
        cpuNs += u.cpuNs;
        nanoCores += u.nanoCores;
        ws += u.ws;
        usage += u.usage;
        rss += u.rss;
        pageFaults += u.pageFaults;
      }
      const stats: S.ContainerStats = { name: c.name, startTime: this.time(c.startMs) };
      stats.cpu = { time: this.time(cAt), usageNanoCores: u.nanoCores, usageCoreNanoSeconds: u.cpuNs };
      if (!fresh) {
        stats.memory = this.memory(cAt, lim ? Math.max(0, lim - u.ws) : undefined, u);
        if (!only) {
          const rootfsUsed = pages(4096 * 3 + (hashInts(c.key, 0x5246) % 25_000) * 4096);
          const rootfsInodes = 4 + (hashInts(c.key, 0x5249) % 60);
          const logsUsed = pages(sawtooth(c.key ^ 0x4c4f47, 8192, 60 * MiB, 6 * 3600e3, cAt));
          rootfsUsedSum += rootfsUsed + logsUsed;
          rootfsInodesSum += rootfsInodes + 1;
          if (legacy) {
            stats.rootfs = { availableBytes: fs.available, capacityBytes: fs.capacity, usedBytes: rootfsUsed };
            stats.logs = { availableBytes: fs.available, capacityBytes: fs.capacity, usedBytes: logsUsed };
            stats.userDefinedMetrics = null;
          } else {
            const fsCommon = { time: this.time(cAt), availableBytes: fs.available, capacityBytes: fs.capacity };
            stats.rootfs = { ...fsCommon, usedBytes: rootfsUsed, inodesFree: fs.inodes - fs.inodesUsed, inodes: fs.inodes, inodesUsed: rootfsInodes };
            // The kubelet reports the log filesystem's inode usage here, not the container's.
            stats.logs = { ...fsCommon, usedBytes: logsUsed, inodesFree: fs.inodes - fs.inodesUsed, inodes: fs.inodes, inodesUsed: fs.inodesUsed };
          }
        }
      }
      containers.push(stats);
    }

    const stats: S.PodStats = {
      podRef: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
      startTime: this.time(pod.startMs),
      containers,
    };
    if (!fresh && !legacy) {
      stats.cpu = { time: this.time(podAt), usageNanoCores: nanoCores, usageCoreNanoSeconds: cpuNs };
      const mem: S.MemoryStats = { time: this.time(podAt) };
      if (allLimited) mem.availableBytes = Math.max(0, limitSum - ws);
      mem.usageBytes = usage;
      mem.workingSetBytes = ws;
      mem.rssBytes = rss;
      mem.pageFaults = pageFaults;
      mem.majorPageFaults = 0;
      stats.memory = mem;
    }
    if (!fresh && !only) {
      const netAt = Math.max(pod.startMs, sampleMs - lag(pod.key ^ 0x4e, 8));
      const w = pod.workload;
      const eth0 = { ...this.interfaceFigures(pod.key, w.rxMeanBytesPerSecond, w.txMeanBytesPerSecond, pod.startMs, netAt, false), name: 'eth0' };
      const extra = this.node.spec.variant.extraInterfaces
        .filter((n) => n === 'sit0')
        .map((name) => ({ name, rxBytes: 0, rxErrors: 0, txBytes: 0, txErrors: 0 }));
      stats.network = this.network(eth0, extra, netAt);
      let emptyDirUsed = 0;
      const volumes = pod.volumes.map((v) => {
        const vs = this.volume(pod, v, fs, fsTime);
        if (v.kind === 'emptyDir') emptyDirUsed = vs.usedBytes ?? 0;
        return vs;
      });
      if (volumes.length > 0) stats.volume = volumes;
      if (!legacy) {
        stats['ephemeral-storage'] = {
          time: this.time(podAt),
          availableBytes: fs.available,
          capacityBytes: fs.capacity,
          usedBytes: rootfsUsedSum + emptyDirUsed,
          inodesFree: fs.inodes - fs.inodesUsed,
          inodes: fs.inodes,
          inodesUsed: rootfsInodesSum + (emptyDirUsed > 0 ? 3 : 0),
        };
      }
    }
    return { stats, cpuNs, nanoCores, ws, usage, rss };
  }

  private volume(pod: PodState, v: VolumeState, fs: FsFigures, fsTime: number): S.VolumeStats {
    const at = fsTime - lag(pod.key ^ 0x564f4c, 50);
    const legacy = this.node.spec.variant.legacy;
    if (v.metricsMissing && !legacy) return { time: this.time(at), name: v.name };
    let f: FsFigures;
    switch (v.kind) {
      case 'projected': {
        const capacity = pages(this.node.spec.memoryBytes / 2);
        f = { capacity, available: capacity - 12288, used: 12288, inodes: Math.floor(capacity / 4096), inodesUsed: 9 };
        break;
      }
      case 'configMap':
        f = { ...fs, used: 4096 * (2 + (pod.key % 3)), inodesUsed: 5 + (pod.key % 3) };
        break;
      case 'emptyDir':
        f = { ...fs, used: pages(sawtooth(pod.key ^ 0x4544, 4096, 512 * MiB, 3600e3, at)), inodesUsed: 3 };
        break;
      case 'pvc': {
        const capacity = (10 + 10 * (pod.key % 3)) * 1024 ** 3;
        const used = pages(sawtooth(pod.key ^ 0x505643, capacity * 0.1, capacity * 0.8, 7 * 86400e3, at));
        f = { capacity, available: capacity - used, used, inodes: Math.floor(capacity / 16384), inodesUsed: 11 + Math.floor(used / (1024 * 1024)) };
        break;
      }
    }
    // Field order as the kubelet writes it: the filesystem figures, then the volume's name.
    const out: S.VolumeStats = { ...this.fs(f, at), name: v.name };
    if (v.kind === 'pvc' && v.claimName) out.pvcRef = { name: v.claimName, namespace: pod.namespace };
    return out;
  }
}

export function buildSummary(node: NodeState, sampleMs: number, opts: SampleOptions): S.Summary {
  return new SummaryBuilder(node, opts).build(sampleMs);
}
