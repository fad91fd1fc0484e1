import { Backoff, KubeApiError, sleep, type KubeHttp } from '@heapstream/kube';
import type { EventStream } from './watcher.js';

export type EventsApi = 'events.k8s.io/v1' | 'v1';

/** One stream for all namespaces, or one per configured namespace. */
export function eventStreams(api: EventsApi, namespaces: string[]): EventStream[] {
  const base = api === 'v1' ? '/api/v1' : '/apis/events.k8s.io/v1';
  if (namespaces.length === 0) return [{ id: `${api} *`, path: `${base}/events`, api }];
  return [...new Set(namespaces)].map((ns) => ({ id: `${api} ${ns}`, path: `${base}/namespaces/${ns}/events`, namespace: ns, api }));
}

/**
 * events.k8s.io/v1 where the server has it (1.19+), core v1 when it answers 404. Other
 * failures are retried: guessing during an outage would switch streams (and positions).
 */
export async function detectEventsApi(http: Pick<KubeHttp, 'request'>, wanted: 'auto' | EventsApi, signal?: AbortSignal): Promise<EventsApi> {
  if (wanted !== 'auto') return wanted;
  const backoff = new Backoff(500, 10_000);
  for (;;) {
    try {
      await http.request('GET', '/apis/events.k8s.io/v1', { timeoutMs: 5_000 });
      return 'events.k8s.io/v1';
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) return 'v1';
      if (signal?.aborted) throw err;
      await sleep(backoff.next(), signal);
    }
  }
}
