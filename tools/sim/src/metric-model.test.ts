import { parseSummary } from '@heapstream/metric-model';
import { describe, expect, it } from 'vitest';
import { SimulatedCluster } from './cluster.js';

/** The pipeline's own parser must read simulator payloads without a single issue. */
describe('simulator payloads through @heapstream/metric-model parseSummary', () => {
  it('parse with zero issues on every node shape, including churn, restarts and skew', () => {
    const epoch = Date.UTC(2026, 0, 1);
    const c = SimulatedCluster.create(
      { nodes: 16, podsPerNode: 10, seed: 7, namePrefix: 'mm', legacyFraction: 0.3, churn: 120, restartRate: 1, clockSkew: ['3=+90s'] },
      epoch,
    );
    let parsed = 0;
    for (const at of [epoch + 30_000, epoch + 600_000, epoch + 3_600_000]) {
      c.advanceTo(at);
      for (const n of c.nodes) {
        for (const only of [false, true]) {
          const body = JSON.stringify(c.summary(n, c.sampleTimeAt(n, at), { onlyCpuAndMemory: only }));
          const { issues, scrape } = parseSummary(body, { cluster: 'sim', node: n.spec.name });
          expect(issues, `${n.spec.name} only=${only}`).toEqual([]);
          expect(scrape.node).toBe(n.spec.name);
          parsed++;
        }
      }
    }
    expect(parsed).toBe(96);
  });
});
