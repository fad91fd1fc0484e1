import { escape } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '@heapstream/contracts';
import { escapeMeasurement, escapeTag, formatFloat, formatInt, quoteFieldString } from './line-protocol.js';
import { toLineProtocol } from './storage-schema.js';

const NASTY = ['plain', 'a b', 'a,b', 'a=b', 'x\\y', 'tab\there', 'new\nline', 'cr\r', 'q"uote', 'Volume:my vol,1=2', 'ünïcødé'];

describe('escaping', () => {
  it.each(NASTY)('agrees with @influxdata/influxdb-client for %j', (s) => {
    expect(escapeMeasurement(s)).toBe(escape.measurement(s));
    expect(escapeTag(s)).toBe(escape.tag(s));
    expect(quoteFieldString(s)).toBe(escape.quoted(s));
  });

  it('formats ints and floats so their types never flip', () => {
    expect(formatInt(774129887054161)).toBe('774129887054161i');
    expect(formatInt(0)).toBe('0i');
    expect(formatInt(1.5)).toBeUndefined();
    expect(formatInt(2 ** 63)).toBeUndefined();
    expect(formatFloat(1000)).toBe('1000');
    expect(formatFloat(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatFloat(Number.NaN)).toBeUndefined();
    expect(formatFloat(Infinity)).toBeUndefined();
  });
});

const tags = { cluster_name: 'c 1', nodename: 'n1', namespace_name: 'ns', pod_name: 'p', pod_id: 'uid-1', labels: 'app:x', container_name: 'c' };
const p = (metric: string, value: number, more: Partial<MetricPoint> = {}): MetricPoint => ({ metric, entityType: 'pod_container', tags, timestamp: 1_700_000_000_000, value, ...more });

describe('toLineProtocol', () => {
  it('heapster: one measurement per metric, field value, sorted tags with type, no high-cardinality tags', () => {
    const { lines } = toLineProtocol([p('memory/usage', 42), p('cpu/usage_rate', 12.5)], { schema: 'heapster' });
    expect(lines).toEqual([
      'memory/usage,cluster_name=c\\ 1,container_name=c,namespace_name=ns,nodename=n1,pod_name=p,type=pod_container value=42i 1700000000000000000',
      'cpu/usage_rate,cluster_name=c\\ 1,container_name=c,namespace_name=ns,nodename=n1,pod_name=p,type=pod_container value=12.5 1700000000000000000',
    ]);
  });

  it('writes float metrics as floats even when whole, and keeps configured high-cardinality tags', () => {
    const { lines } = toLineProtocol([p('cpu/usage_rate', 1000)], { schema: 'heapster', keepTags: ['pod_id'], precision: 'ms' });
    expect(lines).toEqual(['cpu/usage_rate,cluster_name=c\\ 1,container_name=c,namespace_name=ns,nodename=n1,pod_id=uid-1,pod_name=p,type=pod_container value=1000 1700000000000']);
  });

  it('wide: measurement = prefix, one field per suffix, one line per entity and time', () => {
    const { lines } = toLineProtocol(
      [p('memory/usage', 1), p('memory/working_set', 2), p('cpu/usage', 3), p('memory/rss', 4, { timestamp: 1_700_000_001_000 }), p('uptime', 5)],
      { schema: 'wide' },
    );
    const head = ',cluster_name=c\\ 1,container_name=c,namespace_name=ns,nodename=n1,pod_name=p,type=pod_container';
    expect(lines).toEqual([
      `memory${head} usage=1i,working_set=2i 1700000000000000000`,
      `cpu${head} usage=3i 1700000000000000000`,
      `memory${head} rss=4i 1700000001000000000`,
      `uptime${head} value=5i 1700000000000000000`,
    ]);
  });

  it('writes windows as typed summary fields, never changing the type of value', () => {
    const window = { start: 0, end: 60_000, min: 1, max: 5, sum: 9, count: 3, last: 5 };
    const w = p('memory/working_set', 3, { window, timestamp: 0 });
    expect(toLineProtocol([w], { schema: 'heapster' }).lines[0]).toMatch(/ value_mean=3,value_min=1i,value_max=5i 0$/);
    expect(toLineProtocol([w], { schema: 'wide' }).lines[0]).toMatch(/^memory,.* working_set_mean=3,working_set_min=1i,working_set_max=5i 0$/);
  });

  it('stores min only where heapstream top reads it, and only the mean of requests, limits and capacities', () => {
    const window = { start: 0, end: 60_000, min: 1, max: 5, sum: 9, count: 3, last: 5 };
    const line = (metric: string) => toLineProtocol([p(metric, 3, { window, timestamp: 0 })], { schema: 'heapster' }).lines[0];
    expect(line('memory/usage')).toMatch(/ value_mean=3,value_max=5i 0$/);
    expect(line('cpu/usage_rate')).toMatch(/ value_mean=3,value_min=1,value_max=5 0$/);
    expect(line('memory/limit')).toMatch(/ value_mean=3 0$/);
    expect(line('filesystem/inodes')).toMatch(/ value_mean=3 0$/);
    expect(line('filesystem/inodes_free')).toMatch(/ value_mean=3,value_max=5i 0$/);
  });

  it("stores each metric's window summaries from the catalogue: event occurrences only their sum", () => {
    const window = { start: 0, end: 60_000, min: 1, max: 1, sum: 4, count: 4, last: 1 };
    const w = p('event_occurrences', 1, { window, timestamp: 0, entityType: 'ns', tags: { namespace_name: 'a', reason: 'BackOff' }, members: 2 });
    expect(toLineProtocol([w], { schema: 'heapster' }).lines).toEqual(['event_occurrences,namespace_name=a,reason=BackOff,type=ns value_sum=4i,value_members=2i 0']);
  });

  it('skips, with a reason, what InfluxDB would reject or what would flip a type', () => {
    const bad = [p('no/such_metric', 1), p('memory/usage', 1.5), p('cpu/usage_rate', Number.NaN), p('memory/usage', 2 ** 64)];
    const r = toLineProtocol([...bad, p('memory/usage', 1)], { schema: 'heapster' });
    expect(r.skipped.map((s) => s.reason)).toEqual(['unknown-metric', 'not-an-integer', 'not-finite', 'not-an-integer']);
    expect(r.lines).toHaveLength(1);
  });

  it('drops empty tag values, which line protocol cannot carry', () => {
    const { lines } = toLineProtocol([p('memory/usage', 1, { tags: { nodename: 'n', pod_name: '' }, entityType: 'pod' })], { schema: 'heapster' });
    expect(lines).toEqual(['memory/usage,nodename=n,type=pod value=1i 1700000000000000000']);
  });

  it('writes how many members a rollup summed, in both layouts', () => {
    const cluster = p('cpu/usage_rate', 1500.5, { entityType: 'cluster', tags: { cluster_name: 'c' }, members: 3 });
    expect(toLineProtocol([cluster], { schema: 'heapster' }).lines).toEqual(['cpu/usage_rate,cluster_name=c,type=cluster value=1500.5,value_members=3i 1700000000000000000']);
    expect(toLineProtocol([cluster], { schema: 'wide' }).lines).toEqual(['cpu,cluster_name=c,type=cluster usage_rate=1500.5,usage_rate_members=3i 1700000000000000000']);
  });

  it('wide: entities equal but for dropped tags share a line, and a repeated field keeps its first value', () => {
    const other = { ...tags, pod_id: 'uid-2' };
    const { lines } = toLineProtocol([p('memory/usage', 1), p('memory/usage', 2, { tags: other }), p('memory/rss', 3, { tags: other }), p('cpu/usage', 4)], { schema: 'wide' });
    const head = ',cluster_name=c\\ 1,container_name=c,namespace_name=ns,nodename=n1,pod_name=p,type=pod_container';
    expect(lines).toEqual([`memory${head} usage=1i,rss=3i 1700000000000000000`, `cpu${head} usage=4i 1700000000000000000`]);
  });
});
