import { Counter, Gauge, Histogram } from 'prom-client';
import type { StageMetrics } from '@heapstream/observability';
import type { WatcherMetrics } from './watcher.js';

const STAGE = 'event-watcher';

/** The watcher's counters on the service registry, next to the shared stage metrics. */
export function prometheusWatcherMetrics(stage: StageMetrics, status: () => { lastCheckpointAt: number | undefined; leader: boolean }): WatcherMetrics {
  const registers = [stage.registry];
  const seen = new Counter({ name: 'heapstream_event_watcher_events_seen_total', help: 'Watch notifications and listed Events, by type', labelNames: ['type'], registers });
  const emitted = new Counter({ name: 'heapstream_event_watcher_records_emitted_total', help: 'Event occurrence records written', registers });
  const filtered = new Counter({ name: 'heapstream_event_watcher_events_filtered_total', help: 'Events dropped by include/exclude rules', labelNames: ['reason'], registers });
  const outcomes = new Counter({ name: 'heapstream_event_watcher_outcomes_total', help: 'What happened to each observed Event: emit, duplicate, baseline, filtered, invalid', labelNames: ['outcome'], registers });
  const relists = new Counter({ name: 'heapstream_event_watcher_relists_total', help: 'Full lists after the first (410 Gone or a lost position)', labelNames: ['stream'], registers });
  const restarts = new Counter({ name: 'heapstream_event_watcher_watch_restarts_total', help: 'Watch streams that ended, by reason (closed, silent, gone, error)', labelNames: ['reason'], registers });
  const terms = new Counter({ name: 'heapstream_event_watcher_term_failures_total', help: 'Watch terms ended by an output or handler failure (state restored from the checkpoint)', registers });
  const delay = new Histogram({
    name: 'heapstream_event_watcher_emit_delay_seconds',
    help: 'From the occurrence time the Event reports to the record being staged',
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers,
  });
  new Gauge({
    name: 'heapstream_event_watcher_checkpoint_age_seconds',
    help: 'Time since the last committed checkpoint (leader only)',
    registers,
    collect() {
      const s = status();
      this.set(s.leader && s.lastCheckpointAt !== undefined ? (Date.now() - s.lastCheckpointAt) / 1000 : 0);
    },
  });
  new Gauge({
    name: 'heapstream_event_watcher_leader',
    help: '1 when this replica holds the Lease and watches',
    registers,
    collect() {
      this.set(status().leader ? 1 : 0);
    },
  });
  return {
    seen(type) {
      seen.inc({ type });
      stage.received.inc({ stage: STAGE });
    },
    outcome(kind, reason) {
      outcomes.inc({ outcome: kind });
      if (kind === 'filtered') {
        filtered.inc({ reason: reason ?? 'unknown' });
        stage.discarded.inc({ stage: STAGE, reason: `filtered:${reason}` });
      }
      if (kind === 'invalid') stage.discarded.inc({ stage: STAGE, reason: 'invalid:no-identity' });
    },
    emitted(records, delaysMs) {
      emitted.inc(records);
      stage.sent.inc({ stage: STAGE }, records);
      for (const d of delaysMs) delay.observe(Math.max(0, d) / 1000);
    },
    listed(stream, _items, relist) {
      if (relist) relists.inc({ stream });
    },
    watchEnded(reason) {
      restarts.inc({ reason });
    },
    committed(records, _messages, durationMs) {
      stage.batchSize.observe({ stage: STAGE }, records);
      stage.duration.observe({ stage: STAGE }, durationMs / 1000);
    },
    termFailed(err) {
      terms.inc();
      stage.errors.inc({ stage: STAGE, type: err.name || 'Error' });
    },
  };
}
