import { describe, expect, it } from 'vitest';
import { parsePrometheusText, total } from './prometheus-text.js';
import { renderRows, serviceRow } from './service-status.js';

const text = (received: number, sent: number) => `# HELP heapstream_received_total Items received
# TYPE heapstream_received_total counter
heapstream_received_total{stage="scrape",service="scraper"} ${received}
heapstream_sent_total{stage="scrape",service="scraper"} ${sent}
heapstream_errors_total{stage="scrape",type="timeout",service="scraper"} 2
heapstream_errors_total{stage="scrape",type="refused",service="scraper"} 1
heapstream_scraper_nodes{state="known",service="scraper"} 20
heapstream_scraper_nodes{state="owned",service="scraper"} 20
heapstream_scraper_last_success_age_seconds{node="a",service="scraper"} 3.2
heapstream_scraper_last_success_age_seconds{node="b\\"x",service="scraper"} 14.9
heapstream_consumer_lag{topic="t",partition="0",service="scraper"} 5
`;

describe('status', () => {
  it('parses the Prometheus text format, escaped label values included', () => {
    const samples = parsePrometheusText(text(10, 9));
    expect(samples).toContainEqual({ name: 'heapstream_scraper_last_success_age_seconds', labels: { node: 'b"x', service: 'scraper' }, value: 14.9 });
    expect(total(samples, 'heapstream_errors_total')).toBe(3);
    expect(total(samples, 'heapstream_scraper_nodes', { state: 'owned' })).toBe(20);
  });

  it('says what most values were dropped for', () => {
    const samples = parsePrometheusText(`heapstream_discarded_total{stage="aggregate",reason="late:dropped-from-1m",service="aggregator"} 40
heapstream_discarded_total{stage="aggregate",reason="impossible:rate",service="aggregator"} 2
heapstream_discarded_total{stage="event-counts",reason="late:dropped-from-1m",service="aggregator"} 1
`);
    const row = serviceRow({ name: 'aggregator', at: 1_000, alive: true, ready: true, samples });
    expect(row).toMatchObject({ discarded: 43, note: 'dropped mostly late:dropped-from-1m (41)' });
    expect(serviceRow({ name: 'aggregator', at: 1_000, alive: true, ready: true, samples: [] }).note).toBe('');
  });

  it('turns two snapshots into per-second rates and a readable row', () => {
    const before = { name: 'scraper', at: 1_000, alive: true, ready: true, samples: parsePrometheusText(text(100, 90)) };
    const now = { name: 'scraper', at: 3_000, alive: true, ready: true, samples: parsePrometheusText(text(140, 130)) };
    const row = serviceRow(now, before);
    expect(row).toMatchObject({ state: 'ready', inPerSec: 20, outPerSec: 20, errors: 3, lag: 5, note: 'nodes 20/20 scraped, oldest scrape 15 s ago' });
    // Each service says what it counts: a scraper takes in scrapes and puts out records.
    expect(renderRows([row])).toEqual([
      'service  state          in/s         out/s  errors  dropped  lag',
      'scraper  ready  20.0 scrapes  20.0 records       3        0    5  nodes 20/20 scraped, oldest scrape 15 s ago',
    ]);
  });
});
