import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@heapstream/observability';
import { createKafka } from './client.js';
import { kafkaConfigSchema } from './config.js';

describe('kafkajs log lines', () => {
  const lines: { level: string; msg: string }[] = [];
  const logger = createLogger('t', 'info', new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c)) as { level: string; msg: string }); cb(); } }));
  const kafka = createKafka(kafkaConfigSchema.parse({ KAFKA_BROKERS: '127.0.0.1:1' }), logger);

  it('keep their level, except errors kafkajs retries and that clear on their own', () => {
    // Lines kafkajs 2.2.4 wrote on healthy starts of heapstream up.
    kafka.logger().error('Response Metadata(key: 3, version: 6)', { error: 'This server does not host this topic-partition', retryCount: 0 });
    kafka.logger().error('Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing');
    kafka.logger().error('Response AddPartitionsToTxn(key: 24, version: 1)', { error: 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing' });
    kafka.logger().error('Response Produce(key: 0, version: 7)', { error: 'The request included a message larger than the max message size the server will accept' });
    kafka.logger().error('Connection error', { error: 'connect ECONNREFUSED 127.0.0.1:1' });
    kafka.logger().warn('Broker is slow');
    expect(lines.map((l) => l.level)).toEqual(['info', 'error', 'info', 'error', 'error', 'warn']);
    expect(lines[0]!.msg).toBe('kafka: Response Metadata(key: 3, version: 6)');
  });
});
