import type { KubeHttp } from '@heapstream/kube';
import type { EventStream } from './watcher.js';

export type EventsApi = 'events.k8s.io/v1' | 'v1';

/** One stream for all namespaces, or one per configured namespace. */
export function eventStreams(api: EventsApi, namespaces: string[]): EventStream[] {
  const base = api === 'v1' ? '/api/v1' : '/apis/events.k8s.io/v1';
  if (namespaces.length === 0) return [{ id: `${api} *`, path: `${base}/events`, api }];
  return [...new Set(namespaces)].map((ns) => ({ id: `${api} ${ns}`, path: `${base}/namespaces/${ns}/events`, namespace: ns, api }));
}

/** events.k8s.io/v1 where the server has it (1.19+), core v1 otherwise. */
export async function detectEventsApi(http: KubeHttp, wanted: 'auto' | EventsApi): Promise<EventsApi> {
  if (wanted !== 'auto') return wanted;
  try {
    await http.request('GET', '/apis/events.k8s.io/v1', { timeoutMs: 5_000 });
    return 'events.k8s.io/v1';
  } catch {
    return 'v1';
  }
}
