import { z } from 'zod';

/** Kafka connection settings shared by every service. */
export const kafkaConfigSchema = z.object({
  KAFKA_BROKERS: z
    .string({ message: 'required: comma-separated host:port list, e.g. 127.0.0.1:9092' })
    .min(1)
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
    .refine((list) => list.every((b) => /^[^\s:]+:\d+$/.test(b)), 'each broker must be host:port'),
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  KAFKA_SSL: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  KAFKA_COMPRESSION: z.enum(['none', 'gzip', 'zstd']).default('gzip'),
  KAFKA_COMPRESSION_LEVEL: z.coerce
    .number()
    .int()
    .optional()
    .describe("gzip 1-9 (unset: 1), zstd 1-19 (unset: 3); for every producer of the service"),
});
export type KafkaConfig = z.infer<typeof kafkaConfigSchema>;
