import { z } from 'zod';
import { ENTITY_TYPES } from '@heapstream/contracts';
import type { OwnerState, PartitionState } from './processor.js';

/*
 * The aggregator's checkpoint records, written to its compacted state topic in the
 * same Kafka transaction as the outputs and the consumer offsets. Keys are
 * `<input partition>/meta` (watermark, open rollup cycles, next input offset) and
 * `<input partition>/<owner>` (a node's rate state and open windows, or a rollup
 * entity's open windows); records go to the state topic partition equal to the input
 * partition, so restoring one input partition reads one state partition.
 */

/**
 * 2: owners by column. An owner record is binary: a uint32 (little-endian) header
 * length, the header as JSON (`ownerHeaderSchema`), then the column blobs the header
 * refers to by index (`blobs` holds their byte lengths). A version-1 record is counted
 * invalid and its owner starts afresh.
 */
export const STATE_VERSION = 2;

/** Index of a column blob after the header. */
const blobRef = z.number().int().nonnegative();
/** A series by slot: [entity id, metric name], null for a free slot. */
const slotsSchema = z.array(z.tuple([z.number().int().nonnegative(), z.string()]).nullable());

export const ownerHeaderSchema = z.object({
  v: z.literal(STATE_VERSION),
  owner: z.string().min(1),
  lastSeen: z.number().optional(),
  /** Entity texts by id (see entities.ts), null for a free id. */
  entities: z.array(z.string().nullable()),
  /** A node's last cumulative samples (see RateStoreState). */
  rates: z.object({ series: slotsSchema, columns: blobRef }).optional(),
  /** Latest start time by entity id: [id, epoch ms]. */
  starts: z.array(z.tuple([z.number().int().nonnegative(), z.number()])).optional(),
  /** Open windows (see WindowSetState): [resolution, start, end, floats blob, ints blob] per period. */
  windows: z.object({ series: slotsSchema, periods: z.array(z.tuple([z.enum(['1m', '1h']), z.number(), z.number(), blobRef, blobRef])) }).optional(),
  /** Byte length of each blob, in order. */
  blobs: z.array(z.number().int().nonnegative()),
});

export const partitionStateSchema = z.object({
  v: z.literal(STATE_VERSION),
  /** Next input offset this state includes: records below it were already processed. */
  nextOffset: z.string().regex(/^\d+$/),
  watermark: z.number().nullable(),
  buckets: z.array(
    z.object({
      start: z.number(),
      entries: z.array(
        z.object({
          owner: z.string(),
          metric: z.string(),
          entityType: z.enum(ENTITY_TYPES),
          tags: z.record(z.string(), z.string()),
          /** Each node's latest contribution: [node, sum, members]. */
          byNode: z.array(z.tuple([z.string(), z.number(), z.number().int().nonnegative()])),
        }),
      ),
    }),
  ),
});

export const metaKey = (partition: number) => `${partition}/meta`;
export const ownerKey = (partition: number, owner: string) => `${partition}/${owner}`;

export function encodeOwner(s: OwnerState): Buffer {
  const blobs: Uint8Array[] = [];
  const blob = (bytes: Uint8Array) => blobs.push(bytes) - 1;
  const { rates, windows, ...rest } = s;
  const header: Omit<z.infer<typeof ownerHeaderSchema>, 'blobs'> = { v: STATE_VERSION, ...rest };
  if (rates) header.rates = { series: rates.series, columns: blob(rates.columns) };
  if (windows) header.windows = { series: windows.series, periods: windows.periods.map(([resolution, start, end, floats, ints]) => [resolution, start, end, blob(floats), blob(ints)]) };
  const json = Buffer.from(JSON.stringify({ ...header, blobs: blobs.map((b) => b.byteLength) }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([length, json, ...blobs]);
}

/** An owner record -> its state, or a reason it is invalid. */
function decodeOwner(value: Buffer): OwnerState | string {
  if (value.length < 4) return 'shorter than its header length';
  const headerEnd = 4 + value.readUInt32LE(0);
  if (headerEnd > value.length) return 'header runs past the record';
  let json: unknown;
  try {
    json = JSON.parse(value.subarray(4, headerEnd).toString('utf8'));
  } catch {
    return 'header is not JSON';
  }
  const r = ownerHeaderSchema.safeParse(json);
  if (!r.success) return 'header does not match the schema';
  const { v: _v, blobs: lengths, rates, windows, ...rest } = r.data;
  const blobs: Buffer[] = [];
  let at = headerEnd;
  for (const n of lengths) {
    blobs.push(value.subarray(at, at + n));
    at += n;
  }
  if (at !== value.length) return 'blob lengths do not add up to the record';
  const blob = (i: number) => blobs[i] ?? Buffer.alloc(0);
  const owner: OwnerState = { ...rest };
  if (rates) owner.rates = { series: rates.series, columns: blob(rates.columns) };
  if (windows) owner.windows = { series: windows.series, periods: windows.periods.map(([resolution, start, end, floats, ints]) => [resolution, start, end, blob(floats), blob(ints)]) };
  return owner;
}

export function encodePartition(s: PartitionState, nextOffset: string): Buffer {
  return Buffer.from(JSON.stringify({ v: STATE_VERSION, nextOffset, ...s }));
}

export interface DecodedState {
  nextOffset?: string;
  partition?: PartitionState;
  owners: OwnerState[];
  invalid: number;
}

/** Checkpoint records of one input partition -> state. Invalid records are counted, not fatal. */
export function decodeState(partition: number, records: Map<string, Buffer>): DecodedState {
  const out: DecodedState = { owners: [], invalid: 0 };
  const prefix = `${partition}/`;
  for (const [key, value] of records) {
    if (!key.startsWith(prefix)) continue;
    if (key !== metaKey(partition)) {
      const owner = decodeOwner(value);
      if (typeof owner === 'string') out.invalid++;
      else out.owners.push(owner);
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(value.toString('utf8'));
    } catch {
      out.invalid++;
      continue;
    }
    const r = partitionStateSchema.safeParse(json);
    if (!r.success) {
      out.invalid++;
      continue;
    }
    out.nextOffset = r.data.nextOffset;
    out.partition = { watermark: r.data.watermark, buckets: r.data.buckets };
  }
  return out;
}
