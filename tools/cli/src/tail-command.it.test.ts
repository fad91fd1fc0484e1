import { describe, expect, it } from 'vitest';
import { rawScrapeCodec, metricPointBatchCodec, TOPICS } from '@heapstream/contracts';
import { createTopics, testEnv, testKafka, uniqueName } from '@heapstream/testing';
import { tail } from './tail-command.js';

describe('heapstream tail', () => {
  it('prints decoded records of a stream, filtered, as lines or JSON, and flags undecodable ones', async () => {
    const prefix = `${uniqueName('tail')}.`;
    const kafka = testKafka();
    await createTopics(kafka, [{ topic: prefix + TOPICS.metricsRaw.name }, { topic: prefix + TOPICS.metrics.name }]);
    const producer = kafka.producer();
    await producer.connect();
    const scrape = (node: string) =>
      rawScrapeCodec.encode({ cluster: 'c', node, scrape: { startedAt: 1_700_000_000_000, finishedAt: 1_700_000_000_050 }, nodeStats: { cpu: { usageCoreNanoSeconds: 42 }, systemContainers: [] }, pods: [] });
    await producer.send({ topic: prefix + TOPICS.metricsRaw.name, messages: [{ key: 'n1', value: scrape('n1') }, { key: 'n2', value: scrape('n2') }, { key: 'bad', value: Buffer.from('{not json') }] });
    await producer.send({
      topic: prefix + TOPICS.metrics.name,
      messages: [{ value: metricPointBatchCodec.encode({ cluster: 'c', resolution: 'native', producedAt: 1, points: [{ metric: 'cpu/usage_rate', entityType: 'node', tags: { nodename: 'n1' }, timestamp: 1_700_000_000_000, value: 1000 }, { metric: 'memory/usage', entityType: 'node', tags: { nodename: 'n2' }, timestamp: 1_700_000_000_000, value: 5 }] }) }],
    });
    await producer.disconnect();
    const { KAFKA_BROKERS: brokers } = testEnv();

    const lines: string[] = [];
    await tail('raw', { brokers, topicPrefix: prefix, fromBeginning: true, filter: [], json: false, limit: 3 }, (l) => lines.push(l));
    expect(lines).toEqual([
      '2023-11-14T22:13:20.050Z node=n1 pods=0 containers=0 cpu_ns=42 working_set=-',
      '2023-11-14T22:13:20.050Z node=n2 pods=0 containers=0 cpu_ns=42 working_set=-',
      expect.stringMatching(/^! .*raw.*@2: raw-scrape: invalid-json/),
    ]);

    const json: string[] = [];
    await tail('raw', { brokers, topicPrefix: prefix, fromBeginning: true, filter: ['node=n2'], json: true, limit: 1 }, (l) => json.push(l));
    expect(JSON.parse(json[0]!)).toMatchObject({ node: 'n2', schemaVersion: '1.0' });

    // Lines are points: a filter prints only the points that match, by tag name or by the
    // short name the other streams use (node, namespace, pod, container), and --limit counts lines.
    const points = async (filter: string[], limit?: number) => {
      const out: string[] = [];
      await tail('metrics', { brokers, topicPrefix: prefix, fromBeginning: true, filter, json: false, idleExitMs: 1_500, ...(limit ? { limit } : {}) }, (l) => out.push(l));
      return out;
    };
    expect(await points(['nodename=n1'])).toEqual(['2023-11-14T22:13:20.000Z cpu/usage_rate node nodename=n1 value=1000']);
    expect(await points(['node=n2'])).toEqual(['2023-11-14T22:13:20.000Z memory/usage node nodename=n2 value=5']);
    expect(await points([], 1)).toEqual(['2023-11-14T22:13:20.000Z cpu/usage_rate node nodename=n1 value=1000']);
  });

  it('rejects an unknown stream and a malformed filter', async () => {
    await expect(tail('nope', { brokers: '127.0.0.1:1', topicPrefix: '', fromBeginning: true, filter: [], json: false })).rejects.toThrow(/unknown stream "nope"; one of: raw, metrics/);
    await expect(tail('raw', { brokers: '127.0.0.1:1', topicPrefix: '', fromBeginning: true, filter: ['node'], json: false })).rejects.toThrow(/must be key=value/);
  });
});
