import type { TopicMessages } from 'kafkajs';

/**
 * Kafka's default broker limit on one record batch (`message.max.bytes`, 1 MiB). kafkajs
 * puts all of one call's messages for a partition in one record batch, so a large
 * transaction (an aggregator snapshot is ~140 KiB per node) must be sent in several
 * calls, each under the limit.
 */
export const DEFAULT_MAX_SEND_BYTES = 1024 * 1024;

const sizeOf = (m: TopicMessages['messages'][number]): number => (m.value?.length ?? 0) + (m.key?.length ?? 0);

/**
 * Cuts `items` into consecutive runs of at most `maxBytes` (by `bytes`) and `maxCount`
 * items each; a single larger item makes a run of its own. Order is kept.
 */
export function chunkBySize<T>(items: readonly T[], bytes: (item: T) => number, maxBytes: number, maxCount = Number.POSITIVE_INFINITY): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const item of items) {
    const size = bytes(item);
    if (current.length > 0 && (total + size > maxBytes || current.length >= maxCount)) {
      chunks.push(current);
      current = [];
      total = 0;
    }
    current.push(item);
    total += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Cuts topic messages into consecutive sends of at most `maxBytes` of keys and values
 * each (a single larger message goes alone), keeping every topic's message order.
 */
export function splitSends(topicMessages: readonly TopicMessages[], maxBytes = DEFAULT_MAX_SEND_BYTES): TopicMessages[][] {
  const flat = topicMessages.flatMap(({ topic, messages }) => messages.map((message) => ({ topic, message })));
  return chunkBySize(flat, (m) => sizeOf(m.message), maxBytes).map((chunk) => {
    const send: TopicMessages[] = [];
    for (const { topic, message } of chunk) {
      const last = send.at(-1);
      if (last?.topic === topic) last.messages.push(message);
      else send.push({ topic, messages: [message] });
    }
    return send;
  });
}
