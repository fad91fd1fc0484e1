import { z } from 'zod';

/**
 * Heapster's Kafka events sink message (events/sinks/kafka): the core/v1 Event as an
 * indented JSON string, its last timestamp (RFC 3339) and a few tags.
 */
export const heapsterEventSchema = z
  .object({
    EventValue: z.string(),
    EventTimestamp: z.string(),
    EventTags: z.record(z.string(), z.string()),
  })
  .meta({ title: 'HeapsterEvent', description: 'Heapster-compatible event message (topic heapster-events)' });

export type HeapsterEvent = z.infer<typeof heapsterEventSchema>;
