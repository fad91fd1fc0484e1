import { total, type Sample } from './prometheus-text.js';

export interface ServiceSnapshot {
  name: string;
  at: number;
  alive: boolean;
  ready: boolean;
  readyDetail?: string;
  samples: Sample[];
}

export interface ServiceRow {
  name: string;
  state: string;
  inPerSec: number;
  outPerSec: number;
  /** What the service counts in and out (heapstream_received_total, heapstream_sent_total). */
  inUnit: string;
  outUnit: string;
  errors: number;
  discarded: number;
  lag: number;
  note: string;
}

/** What each service's received and sent counters count. */
const UNITS: Record<string, [inUnit: string, outUnit: string]> = {
  scraper: ['scrapes', 'records'],
  'event-watcher': ['watch events', 'records'],
  aggregator: ['records', 'points'],
  'storage-writer': ['points', 'lines'],
};

const perSecond = (now: number, before: number, ms: number) => (ms > 0 ? Math.max(0, ((now - before) * 1000) / ms) : 0);

/**
 * One status row per service from two consecutive /metrics snapshots: every service
 * exports the same stage counters (received, sent, errors, discarded, lag), so the
 * rows read the same for all of them.
 */
export function serviceRow(now: ServiceSnapshot, before?: ServiceSnapshot): ServiceRow {
  const s = now.samples;
  const p = before?.samples ?? [];
  const ms = before ? now.at - before.at : 0;
  let note = '';
  if (now.name === 'scraper') {
    const known = total(s, 'heapstream_scraper_nodes', { state: 'known' });
    const owned = total(s, 'heapstream_scraper_nodes', { state: 'owned' });
    const ages = s.filter((x) => x.name === 'heapstream_scraper_last_success_age_seconds').map((x) => x.value);
    note = `nodes ${owned}/${known} scraped, oldest scrape ${ages.length ? Math.max(...ages).toFixed(0) : '-'} s ago`;
  } else if (!now.ready && now.readyDetail) note = now.readyDetail.slice(0, 60);
  else note = mostDropped(s);
  return {
    name: now.name,
    state: !now.alive ? 'stopped' : now.ready ? 'ready' : 'not ready',
    inPerSec: perSecond(total(s, 'heapstream_received_total'), total(p, 'heapstream_received_total'), ms),
    outPerSec: perSecond(total(s, 'heapstream_sent_total'), total(p, 'heapstream_sent_total'), ms),
    inUnit: UNITS[now.name]?.[0] ?? 'items',
    outUnit: UNITS[now.name]?.[1] ?? 'items',
    errors: total(s, 'heapstream_errors_total'),
    discarded: total(s, 'heapstream_discarded_total'),
    lag: total(s, 'heapstream_consumer_lag'),
    note,
  };
}

/** The reason most values were dropped for, so a growing "dropped" column explains itself. */
function mostDropped(samples: Sample[]): string {
  const byReason = new Map<string, number>();
  for (const x of samples) if (x.name === 'heapstream_discarded_total' && x.value > 0) byReason.set(x.labels.reason ?? '?', (byReason.get(x.labels.reason ?? '?') ?? 0) + x.value);
  const [top] = [...byReason].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return top ? `dropped mostly ${top[0]} (${top[1]})` : '';
}

export function renderRows(rows: ServiceRow[]): string[] {
  const header = ['service', 'state', 'in/s', 'out/s', 'errors', 'dropped', 'lag', ''];
  const cells = rows.map((r) => [r.name, r.state, `${r.inPerSec.toFixed(1)} ${r.inUnit}`, `${r.outPerSec.toFixed(1)} ${r.outUnit}`, String(r.errors), String(r.discarded), String(r.lag), r.note]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i >= 2 && i <= 6 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)];
}
