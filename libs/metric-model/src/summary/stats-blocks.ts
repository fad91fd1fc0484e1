import type { CpuStats, FsStats, InterfaceStats, MemoryStats, RlimitStats, SwapStats } from '@heapstream/contracts';
import type { FieldReader, JsonObject } from './field-reader.js';

/*
 * The kubelet's stats blocks, one reader each. They name their fields rather than loop
 * over a list of names: a body holds hundreds of blocks, and `out[name] = o[name]` over
 * many block shapes makes every load and store a megamorphic lookup (about 3x slower,
 * see services/scraper/bench/parse-bench.ts). Fields are set in output order: `time`
 * first, then the kubelet's order; a field that is absent or invalid is not set.
 */

type InterfaceCounters = Omit<InterfaceStats, 'name'>;

export function readCpu(r: FieldReader, value: unknown, path: string): CpuStats | undefined {
  const o = r.object(value, path);
  if (!o) return undefined;
  const out: CpuStats = {};
  const time = r.time(o.time, path, 'time');
  if (time !== undefined) out.time = time;
  const nanoCores = r.uint(o.usageNanoCores, path, 'usageNanoCores');
  if (nanoCores !== undefined) out.usageNanoCores = nanoCores;
  const coreNs = r.uint(o.usageCoreNanoSeconds, path, 'usageCoreNanoSeconds');
  if (coreNs !== undefined) out.usageCoreNanoSeconds = coreNs;
  return unlessEmpty(out);
}

export function readMemory(r: FieldReader, value: unknown, path: string): MemoryStats | undefined {
  const o = r.object(value, path);
  if (!o) return undefined;
  const out: MemoryStats = {};
  const time = r.time(o.time, path, 'time');
  if (time !== undefined) out.time = time;
  const available = r.uint(o.availableBytes, path, 'availableBytes');
  if (available !== undefined) out.availableBytes = available;
  const usage = r.uint(o.usageBytes, path, 'usageBytes');
  if (usage !== undefined) out.usageBytes = usage;
  const workingSet = r.uint(o.workingSetBytes, path, 'workingSetBytes');
  if (workingSet !== undefined) out.workingSetBytes = workingSet;
  const rss = r.uint(o.rssBytes, path, 'rssBytes');
  if (rss !== undefined) out.rssBytes = rss;
  const faults = r.uint(o.pageFaults, path, 'pageFaults');
  if (faults !== undefined) out.pageFaults = faults;
  const majorFaults = r.uint(o.majorPageFaults, path, 'majorPageFaults');
  if (majorFaults !== undefined) out.majorPageFaults = majorFaults;
  return unlessEmpty(out);
}

export function readSwap(r: FieldReader, value: unknown, path: string): SwapStats | undefined {
  const o = r.object(value, path);
  if (!o) return undefined;
  const out: SwapStats = {};
  const time = r.time(o.time, path, 'time');
  if (time !== undefined) out.time = time;
  const available = r.uint(o.swapAvailableBytes, path, 'swapAvailableBytes');
  if (available !== undefined) out.swapAvailableBytes = available;
  const usage = r.uint(o.swapUsageBytes, path, 'swapUsageBytes');
  if (usage !== undefined) out.swapUsageBytes = usage;
  return unlessEmpty(out);
}

export function readFs(r: FieldReader, value: unknown, path: string): FsStats | undefined {
  const o = r.object(value, path);
  return o && unlessEmpty(fillFs(r, o, path, {}));
}

/** Sets the filesystem fields of `o` on `out` (a volume is a filesystem block with a name). */
export function fillFs<T extends FsStats>(r: FieldReader, o: JsonObject, path: string, out: T): T {
  const time = r.time(o.time, path, 'time');
  if (time !== undefined) out.time = time;
  const available = r.uint(o.availableBytes, path, 'availableBytes');
  if (available !== undefined) out.availableBytes = available;
  const capacity = r.uint(o.capacityBytes, path, 'capacityBytes');
  if (capacity !== undefined) out.capacityBytes = capacity;
  const used = r.uint(o.usedBytes, path, 'usedBytes');
  if (used !== undefined) out.usedBytes = used;
  const inodesFree = r.uint(o.inodesFree, path, 'inodesFree');
  if (inodesFree !== undefined) out.inodesFree = inodesFree;
  const inodes = r.uint(o.inodes, path, 'inodes');
  if (inodes !== undefined) out.inodes = inodes;
  const inodesUsed = r.uint(o.inodesUsed, path, 'inodesUsed');
  if (inodesUsed !== undefined) out.inodesUsed = inodesUsed;
  return out;
}

export function readRlimit(r: FieldReader, value: unknown, path: string): RlimitStats | undefined {
  const o = r.object(value, path);
  if (!o) return undefined;
  const out: RlimitStats = {};
  const time = r.time(o.time, path, 'time');
  if (time !== undefined) out.time = time;
  const maxpid = r.uint(o.maxpid, path, 'maxpid');
  if (maxpid !== undefined) out.maxpid = maxpid;
  const curproc = r.uint(o.curproc, path, 'curproc');
  if (curproc !== undefined) out.curproc = curproc;
  return unlessEmpty(out);
}

/** Sets the interface counters of `o` on `out` (a network block inlines its default interface's). */
export function fillCounters<T extends InterfaceCounters>(r: FieldReader, o: JsonObject, path: string, out: T): T {
  const rxBytes = r.uint(o.rxBytes, path, 'rxBytes');
  if (rxBytes !== undefined) out.rxBytes = rxBytes;
  const rxErrors = r.uint(o.rxErrors, path, 'rxErrors');
  if (rxErrors !== undefined) out.rxErrors = rxErrors;
  const txBytes = r.uint(o.txBytes, path, 'txBytes');
  if (txBytes !== undefined) out.txBytes = txBytes;
  const txErrors = r.uint(o.txErrors, path, 'txErrors');
  if (txErrors !== undefined) out.txErrors = txErrors;
  return out;
}

/** `out`, or undefined when nothing usable was set on it. */
export function unlessEmpty<T extends object>(out: T): T | undefined {
  for (const _ in out) return out;
  return undefined;
}
