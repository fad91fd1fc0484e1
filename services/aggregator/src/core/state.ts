import { z } from 'zod';
import { ENTITY_TYPES, rateSeriesStateSchema } from '@heapstream/contracts';
import type { OwnerState, PartitionState } from './processor.js';

/*
 * The aggregator's checkpoint records, written to its compacted state topic in the
 * same Kafka transaction as the outputs and the consumer offsets. Keys are
 * `<input partition>/meta` (watermark, open rollup cycles, next input offset) and
 * `<input partition>/<owner>` (a node's rate state and open windows, or a rollup
 * entity's open windows); records go to the state topic partition equal to the input
 * partition, so restoring one input partition reads one state partition.
 */

export const STATE_VERSION = 1;

/** One series' open windows: [series, [resolution, start, end, min, max, sum, count, last, lastAt, members]...]. */
const accSchema = z.tuple([z.enum(['1m', '1h']), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]);
const windowAccSchema = z.tuple([z.string()], accSchema);

export const ownerStateSchema = z.object({
  v: z.literal(STATE_VERSION),
  owner: z.string().min(1),
  lastSeen: z.number().optional(),
  rates: z.array(rateSeriesStateSchema).optional(),
  starts: z.array(z.tuple([z.string(), z.number()])).optional(),
  windows: z.array(windowAccSchema),
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
          members: z.array(z.tuple([z.string(), z.number()])),
        }),
      ),
    }),
  ),
});

export const metaKey = (partition: number) => `${partition}/meta`;
export const ownerKey = (partition: number, owner: string) => `${partition}/${owner}`;

export function encodeOwner(s: OwnerState): Buffer {
  return Buffer.from(JSON.stringify({ v: STATE_VERSION, ...s }));
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
    let json: unknown;
    try {
      json = JSON.parse(value.toString('utf8'));
    } catch {
      out.invalid++;
      continue;
    }
    if (key === metaKey(partition)) {
      const r = partitionStateSchema.safeParse(json);
      if (!r.success) {
        out.invalid++;
        continue;
      }
      out.nextOffset = r.data.nextOffset;
      out.partition = { watermark: r.data.watermark, buckets: r.data.buckets };
    } else {
      const r = ownerStateSchema.safeParse(json);
      if (r.success) {
        const { v: _v, ...owner } = r.data;
        out.owners.push(owner as OwnerState);
      } else out.invalid++;
    }
  }
  return out;
}
