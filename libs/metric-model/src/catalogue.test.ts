import { describe, expect, it } from 'vitest';
import { ENTITY_TYPES } from '@heapstream/contracts';
import { findMetric, METRICS, metric, splitMetricName } from './catalogue.js';
import { TAGS } from './tags.js';

// Every metric of Heapster's storage schema (shared guide METRICS.md).
const HEAPSTER = [
  'uptime',
  ...['usage', 'usage_rate', 'request', 'limit'].map((m) => `cpu/${m}`),
  ...['usage', 'working_set', 'rss', 'page_faults', 'major_page_faults', 'page_faults_rate', 'major_page_faults_rate', 'request', 'limit'].map((m) => `memory/${m}`),
  ...['rx', 'tx', 'rx_errors', 'tx_errors'].flatMap((m) => [`network/${m}`, `network/${m}_rate`]),
  ...['usage', 'limit', 'available', 'inodes', 'inodes_free'].map((m) => `filesystem/${m}`),
  ...['usage', 'request', 'limit'].map((m) => `ephemeral_storage/${m}`),
  ...['cpu', 'memory', 'ephemeral_storage'].flatMap((r) => ['capacity', 'allocatable', 'utilization', 'reservation'].map((s) => `${r}/node_${s}`)),
  ...['memory_total', 'memory_used', 'duty_cycle'].map((m) => `accelerator/${m}`),
  'restart_count',
];

describe('metric catalogue', () => {
  it('has every Heapster metric', () => {
    for (const name of HEAPSTER) expect(findMetric(name), name).toBeDefined();
  });

  it('has unique names, known entity types and a unit for every metric', () => {
    expect(new Set(METRICS.map((m) => m.name)).size).toBe(METRICS.length);
    for (const m of METRICS) {
      expect(m.unit, m.name).not.toBe('');
      for (const e of m.entities) expect(ENTITY_TYPES).toContain(e);
    }
  });

  it('makes cumulative metrics ints and derives every rate from a cumulative metric as a float', () => {
    for (const m of METRICS.filter((x) => x.kind === 'cumulative')) expect(m.valueType, m.name).toBe('int');
    for (const m of METRICS.filter((x) => x.rateOf)) {
      expect(metric(m.rateOf!).kind, m.name).toBe('cumulative');
      expect(m.valueType, m.name).toBe('float');
      expect(m.name).toBe(`${m.rateOf}_rate`);
    }
  });

  // A changed value type means InfluxDB rejects every write after the change.
  it('keeps the value types stable', () => {
    const floats = METRICS.filter((m) => m.valueType === 'float').map((m) => m.name);
    expect(floats).toMatchInlineSnapshot(`
      [
        "cpu/usage_rate",
        "memory/page_faults_rate",
        "memory/major_page_faults_rate",
        "network/rx_rate",
        "network/tx_rate",
        "network/rx_errors_rate",
        "network/tx_errors_rate",
        "network/interface_rx_rate",
        "network/interface_tx_rate",
        "network/interface_rx_errors_rate",
        "network/interface_tx_errors_rate",
        "cpu/node_utilization",
        "cpu/node_reservation",
        "memory/node_utilization",
        "memory/node_reservation",
        "ephemeral_storage/node_utilization",
        "ephemeral_storage/node_reservation",
      ]
    `);
  });

  it('only names extra tags that are tag constants', () => {
    const known = new Set<string>(Object.values(TAGS));
    for (const m of METRICS) for (const t of m.extraTags ?? []) expect(known.has(t), `${m.name} ${t}`).toBe(true);
  });

  it('splits names like Heapster withfields', () => {
    expect(splitMetricName('cpu/usage_rate')).toEqual(['cpu', 'usage_rate']);
    expect(splitMetricName('uptime')).toEqual(['uptime', 'value']);
    expect(() => metric('nope')).toThrow(/not in the catalogue/);
  });
});
