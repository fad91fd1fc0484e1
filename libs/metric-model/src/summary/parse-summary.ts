import {
  SCHEMA_VERSIONS,
  type AcceleratorStats,
  type ContainerStats,
  type InterfaceStats,
  type NetworkStats,
  type NodeStats,
  type PodStats,
  type RawScrape,
  type VolumeStats,
} from '@heapstream/contracts';
import { FieldReader, join, type JsonObject, type ParseIssue } from './field-reader.js';
import { salvageJson } from './salvage-json.js';
import { fillCounters, fillFs, readCpu, readFs, readMemory, readRlimit, readSwap, unlessEmpty } from './stats-blocks.js';

export type { ParseIssue } from './field-reader.js';

/** The body is not a kubelet summary at all (as opposed to a summary with bad parts). */
export class ParseError extends Error {
  override readonly name = 'ParseError';
}

export interface ParseSummaryOptions {
  cluster: string;
  /** The node that was scraped; wins over the body's `nodeName`. */
  node?: string;
  /** Scrape window; both default to the latest sample time in the body (else the current time, with an issue). */
  startedAt?: number;
  finishedAt?: number;
  endpoint?: 'summary' | 'resource';
}

export interface ParsedSummary {
  scrape: RawScrape;
  /** Skipped parts; also counted in `scrape.parseIssues`. */
  issues: ParseIssue[];
}

/**
 * kubelet `/stats/summary` body -> normalized raw scrape. Never throws for bad parts:
 * each is skipped and reported in `issues`. Throws ParseError only when the body is
 * not a summary (not JSON at all, not an object, no `node` and no `pods`, no node name).
 */
export function parseSummary(body: string | Uint8Array | object, options: ParseSummaryOptions): ParsedSummary {
  const r = new FieldReader();
  const root = r.object(readJson(body, r), '');
  if (!root || (root.node === undefined && root.pods === undefined)) {
    throw new ParseError('not a kubelet stats summary: expected an object with "node" and "pods"');
  }
  const nodeObj = r.object(root.node, 'node') ?? {};
  const bodyNode = r.string(nodeObj.nodeName, 'node', 'nodeName');
  const node = options.node ?? bodyNode;
  if (!node) throw new ParseError('no node name: the body has no node.nodeName and none was given');
  if (options.node && bodyNode && bodyNode !== options.node) {
    r.issue('node.nodeName', `body says "${bodyNode}" but node "${options.node}" was scraped`);
  }

  const nodeStats = readNode(r, nodeObj);
  const pods = list(r, root.pods, 'pods', readPod);
  let finishedAt = options.finishedAt ?? options.startedAt ?? r.latestTime;
  if (finishedAt === undefined) {
    // Only offline inspection of a timeless body gets here; the scraper always passes its times.
    finishedAt = Date.now();
    r.issue('', 'no scrape time given and no sample time in the body; used the current time');
  }
  const scrape: RawScrape = {
    schemaVersion: SCHEMA_VERSIONS.rawScrape,
    cluster: options.cluster,
    node,
    scrape: {
      startedAt: options.startedAt ?? finishedAt,
      finishedAt,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    },
    nodeStats,
    pods,
  };
  if (r.issues.length > 0) scrape.parseIssues = r.issues.length;
  return { scrape, issues: r.issues };
}

function readJson(body: string | Uint8Array | object, r: FieldReader): unknown {
  if (!(typeof body === 'string' || body instanceof Uint8Array)) return body;
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    const salvaged = salvageJson(text);
    if (!salvaged) throw new ParseError(`not JSON: ${text.length === 0 ? 'empty body' : `starts with ${JSON.stringify(text.slice(0, 20))}`}`);
    r.issue('', `${salvaged.error}; kept what was complete before offset ${salvaged.stoppedAt}`);
    for (const path of salvaged.droppedElements) r.issue(path, 'incomplete at the end of the body; dropped');
    return salvaged.value;
  }
}

/** Reads each element with `read`; elements that are not objects or come back undefined are skipped. */
function list<T>(r: FieldReader, value: unknown, path: string, read: (r: FieldReader, o: JsonObject, path: string) => T | undefined): T[] {
  const out: T[] = [];
  const items = r.array(value, path);
  if (!items) return out;
  for (let i = 0; i < items.length; i++) {
    const at = join(path, i);
    const o = r.object(items[i], at);
    const v = o && read(r, o, at);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** Sets `key` only when the value is present, so absent stays absent. */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function readNode(r: FieldReader, o: JsonObject): NodeStats {
  // systemContainers last, so a record reads like the kubelet body: node stats first.
  const out = {} as NodeStats;
  put(out, 'startTime', r.time(o.startTime, 'node', 'startTime'));
  put(out, 'cpu', readCpu(r, o.cpu, 'node.cpu'));
  put(out, 'memory', readMemory(r, o.memory, 'node.memory'));
  put(out, 'swap', readSwap(r, o.swap, 'node.swap'));
  put(out, 'network', readNetwork(r, o.network, 'node.network'));
  put(out, 'fs', readFs(r, o.fs, 'node.fs'));
  const runtime = r.object(o.runtime, 'node.runtime');
  if (runtime) {
    put(out, 'imageFs', readFs(r, runtime.imageFs, 'node.runtime.imageFs'));
    put(out, 'containerFs', readFs(r, runtime.containerFs, 'node.runtime.containerFs'));
  }
  put(out, 'rlimit', readRlimit(r, o.rlimit, 'node.rlimit'));
  out.systemContainers = list(r, o.systemContainers, 'node.systemContainers', readContainer);
  return out;
}

function readPod(r: FieldReader, o: JsonObject, path: string): PodStats | undefined {
  const refPath = join(path, 'podRef');
  const ref = r.object(o.podRef, refPath);
  const name = ref && r.string(ref.name, refPath, 'name');
  const namespace = ref && r.string(ref.namespace, refPath, 'namespace');
  if (!name || !namespace) {
    r.issue(path, 'pod without podRef name and namespace; skipped');
    return undefined;
  }
  const out = { namespace, name } as PodStats;
  put(out, 'uid', r.string(ref.uid, refPath, 'uid'));
  put(out, 'startTime', r.time(o.startTime, path, 'startTime'));
  out.containers = list(r, o.containers, join(path, 'containers'), readContainer);
  put(out, 'cpu', readCpu(r, o.cpu, join(path, 'cpu')));
  put(out, 'memory', readMemory(r, o.memory, join(path, 'memory')));
  put(out, 'swap', readSwap(r, o.swap, join(path, 'swap')));
  put(out, 'network', readNetwork(r, o.network, join(path, 'network')));
  const volumes = list(r, o.volume, join(path, 'volume'), readVolume);
  if (volumes.length > 0) out.volumes = volumes;
  put(out, 'ephemeralStorage', readFs(r, o['ephemeral-storage'], join(path, 'ephemeral-storage')));
  const process = r.object(o.process_stats, join(path, 'process_stats'));
  if (process) put(out, 'processCount', r.uint(process.process_count, join(path, 'process_stats'), 'process_count'));
  return out;
}

function readContainer(r: FieldReader, o: JsonObject, path: string): ContainerStats | undefined {
  const name = r.string(o.name, path, 'name');
  if (!name) {
    r.issue(path, 'container without a name; skipped');
    return undefined;
  }
  const out: ContainerStats = { name };
  put(out, 'startTime', r.time(o.startTime, path, 'startTime'));
  put(out, 'cpu', readCpu(r, o.cpu, join(path, 'cpu')));
  put(out, 'memory', readMemory(r, o.memory, join(path, 'memory')));
  put(out, 'swap', readSwap(r, o.swap, join(path, 'swap')));
  put(out, 'rootfs', readFs(r, o.rootfs, join(path, 'rootfs')));
  put(out, 'logs', readFs(r, o.logs, join(path, 'logs')));
  const accelerators = list(r, o.accelerators, join(path, 'accelerators'), readAccelerator);
  if (accelerators.length > 0) out.accelerators = accelerators;
  return out;
}

function readNetwork(r: FieldReader, value: unknown, path: string): NetworkStats | undefined {
  const o = r.object(value, path);
  if (!o) return undefined;
  const out: NetworkStats = {};
  put(out, 'time', r.time(o.time, path, 'time'));
  put(out, 'name', r.string(o.name, path, 'name'));
  fillCounters(r, o, path, out);
  const interfaces = list(r, o.interfaces, join(path, 'interfaces'), readInterface);
  if (interfaces.length > 0) out.interfaces = interfaces;
  return unlessEmpty(out);
}

function readInterface(r: FieldReader, o: JsonObject, path: string): InterfaceStats | undefined {
  const name = r.string(o.name, path, 'name');
  if (!name) {
    r.issue(path, 'interface without a name; skipped');
    return undefined;
  }
  return fillCounters<InterfaceStats>(r, o, path, { name });
}

function readVolume(r: FieldReader, o: JsonObject, path: string): VolumeStats | undefined {
  const name = r.string(o.name, path, 'name');
  if (!name) {
    r.issue(path, 'volume without a name; skipped');
    return undefined;
  }
  const out = fillFs<VolumeStats>(r, o, path, { name });
  const pvcPath = join(path, 'pvcRef');
  const pvc = r.object(o.pvcRef, pvcPath);
  if (pvc) {
    const pvcName = r.string(pvc.name, pvcPath, 'name');
    const pvcNamespace = r.string(pvc.namespace, pvcPath, 'namespace');
    if (pvcName && pvcNamespace) out.pvcRef = { name: pvcName, namespace: pvcNamespace };
    else r.issue(pvcPath, 'pvcRef without name and namespace; ignored');
  }
  return out;
}

function readAccelerator(r: FieldReader, o: JsonObject, path: string): AcceleratorStats | undefined {
  const id = r.string(o.id, path, 'id');
  if (!id) {
    r.issue(path, 'accelerator without an id; skipped');
    return undefined;
  }
  const out: AcceleratorStats = { make: r.string(o.make, path, 'make') ?? '', model: r.string(o.model, path, 'model') ?? '', id };
  for (const f of ['memoryTotal', 'memoryUsed', 'dutyCycle'] as const) put(out, f, r.uint(o[f], path, f));
  return out;
}
