import type { KafkaMessage } from 'kafkajs';
import { eventRecordCodec, metricPointBatchCodec, type MetricPoint, type Resolution } from '@heapstream/contracts';
import { TAGS, toLineProtocol, type StorageSchemaName } from '@heapstream/metric-model';
import type { Tier } from '@heapstream/influx';
import { eventToLines, type EventMeasurement } from './event-lines.js';

/** What a topic carries and where it is stored. */
export interface Route {
  kind: 'metrics' | 'events';
  tier: Tier;
  /** metrics only: the resolution every batch on the topic must have. */
  resolution?: Resolution;
}

export interface EncodeOptions {
  schema: StorageSchemaName;
  /** cycle: native points are stored at their batch's cycle start when it has one; sample: at their own time. */
  time: 'cycle' | 'sample';
  keepTags: readonly string[];
  clusterName: string;
  eventMeasurements: readonly EventMeasurement[];
}

/** A record the writer gives up on: its index in the batch, a short reason, the detail. */
export interface Rejection {
  message: number;
  reason: string;
  error: string;
}

export interface EncodedBatch {
  lines: string[];
  /** lineOwner[i]: index of the Kafka message line i came from. */
  lineOwner: number[];
  rejections: Rejection[];
  /** Metric points (or events) read, for the received counter. */
  items: number;
  /** Index of the first message not encoded (messages.length when all were). */
  next: number;
}

/**
 * Adds cluster_name from the batch where a point has none, and stamps the points with the
 * cycle start when given; the decoded batch is ours to change.
 */
function prepared(points: MetricPoint[], cluster: string, cycle: number | undefined): MetricPoint[] {
  for (const p of points) {
    p.tags[TAGS.clusterName] ||= cluster;
    if (cycle !== undefined) p.timestamp = cycle;
  }
  return points;
}

/**
 * Kafka messages of one batch -> line protocol, remembering which message each line
 * came from. Records that cannot be read, and points that cannot be stored, become
 * rejections (dead letters); the rest of the batch is still written. Pure. From message
 * `from` on, stopping after the message that brings the lines to `maxLines`, so a large
 * Kafka batch is encoded and written in slices and memory stays bounded.
 */
export function encodeMessages(messages: readonly KafkaMessage[], route: Route, options: EncodeOptions, from = 0, maxLines = Infinity): EncodedBatch {
  const out: EncodedBatch = { lines: [], lineOwner: [], rejections: [], items: 0, next: messages.length };
  const push = (lines: readonly string[], owner: number) => {
    for (const line of lines) {
      out.lines.push(line);
      out.lineOwner.push(owner);
    }
  };
  for (let index = from; index < messages.length; index++) {
    if (out.lines.length >= maxLines) {
      out.next = index;
      break;
    }
    encodeOne(messages[index]!, index);
  }
  return out;

  function encodeOne(message: KafkaMessage, index: number): void {
    if (route.kind === 'events') {
      const decoded = eventRecordCodec.decode(message.value, message.headers);
      if (!decoded.ok) {
        out.rejections.push({ message: index, reason: `decode:${decoded.error.reason}`, error: decoded.error.message });
        return;
      }
      out.items++;
      push(eventToLines(decoded.value, { measurements: options.eventMeasurements, clusterName: options.clusterName, keepTags: options.keepTags }), index);
      return;
    }
    const decoded = metricPointBatchCodec.decode(message.value, message.headers);
    if (!decoded.ok) {
      out.rejections.push({ message: index, reason: `decode:${decoded.error.reason}`, error: decoded.error.message });
      return;
    }
    const batch = decoded.value;
    if (route.resolution && batch.resolution !== route.resolution) {
      out.rejections.push({ message: index, reason: 'decode:wrong-resolution', error: `batch resolution ${batch.resolution} on a ${route.resolution} topic` });
      return;
    }
    out.items += batch.points.length;
    const cycle = options.time === 'cycle' && batch.resolution === 'native' ? batch.cycle : undefined;
    const { lines, skipped } = toLineProtocol(prepared(batch.points, batch.cluster || options.clusterName, cycle), { schema: options.schema, keepTags: options.keepTags, precision: 'ns' });
    push(lines, index);
    if (skipped.length) {
      const first = skipped[0]!;
      const reasons = [...new Set(skipped.map((s) => s.reason))];
      out.rejections.push({
        message: index,
        reason: `encode:${first.reason}`,
        error: `${skipped.length} of ${batch.points.length} points not storable (${reasons.join(', ')}); first: ${first.point.metric}=${first.point.value}`,
      });
    }
  }
}
