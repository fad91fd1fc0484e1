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
 * Cuts topic messages into consecutive sends of at most `maxBytes` of keys and values
 * each (a single larger message goes alone), keeping every topic's message order.
 */
export function splitSends(topicMessages: readonly TopicMessages[], maxBytes = DEFAULT_MAX_SEND_BYTES): TopicMessages[][] {
  const sends: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    let group: TopicMessages | undefined;
    for (const m of messages) {
      const size = sizeOf(m);
      if (bytes > 0 && bytes + size > maxBytes) {
        sends.push(current);
        current = [];
        bytes = 0;
        group = undefined;
      }
      if (!group) current.push((group = { topic, messages: [] }));
      group.messages.push(m);
      bytes += size;
    }
  }
  if (current.length > 0) sends.push(current);
  return sends;
}
