import { describe, expect, it } from 'vitest';
import { KubeApiError, type RequestOptions } from './http.js';
import { ListWatch, type ListWatchStatus } from './list-watch.js';

type Line = { type: string; object: unknown };
const obj = (name: string, rv: string) => ({ metadata: { name, resourceVersion: rv } });

/** Scripted API: each watch call plays the next script; lists answer from `items`. */
class FakeApi {
  lists: string[] = [];
  watches: string[] = [];
  constructor(
    private readonly listRv: string[],
    private readonly scripts: ((onLine: (l: Line) => Promise<void>, signal?: AbortSignal) => Promise<void>)[],
  ) {}
  async request<T>(_m: string, _p: string, opts: RequestOptions = {}): Promise<T> {
    const rv = this.listRv[this.lists.length] ?? '0';
    this.lists.push(rv);
    return { metadata: { resourceVersion: rv }, items: [obj(`listed-${rv}`, rv)], ...(opts.query?.continue ? {} : {}) } as T;
  }
  async stream(_p: string, opts: RequestOptions, onLine: (json: unknown) => Promise<void> | void, hooks: { onOpen?: () => void } = {}): Promise<void> {
    this.watches.push(String(opts.query?.resourceVersion));
    const script = this.scripts.shift();
    if (!script) return new Promise((_, reject) => opts.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    hooks.onOpen?.();
    return script(async (l) => onLine(l), opts.signal);
  }
}

describe('ListWatch', () => {
  it('lists, watches from the list, resumes after a close, relists on 410', async () => {
    const seen: string[] = [];
    const statuses: ListWatchStatus['type'][] = [];
    const ctl = new AbortController();
    const api = new FakeApi(
      ['10', '50'],
      [
        async (on) => {
          await on({ type: 'ADDED', object: obj('a', '11') });
          await on({ type: 'BOOKMARK', object: obj('', '15') });
        },
        async (on) => {
          await on({ type: 'MODIFIED', object: obj('a', '16') });
          await on({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } });
        },
        async (on) => {
          await on({ type: 'DELETED', object: obj('a', '51') });
          ctl.abort();
        },
      ],
    );
    const lw = new ListWatch({
      http: api,
      path: '/x',
      backoffInitialMs: 1,
      onStatus: (s) => statuses.push(s.type),
      handler: {
        onSnapshot: async (items, rv) => void seen.push(`snapshot ${items.length}@${rv}`),
        onEvent: async (type, o) => void seen.push(`${type} ${(o as { metadata: { resourceVersion: string } }).metadata.resourceVersion}`),
        onBookmark: async (rv) => void seen.push(`bookmark ${rv}`),
      },
    });
    await lw.run(ctl.signal);
    expect(seen).toEqual(['snapshot 1@10', 'ADDED 11', 'bookmark 15', 'MODIFIED 16', 'snapshot 1@50', 'DELETED 51']);
    expect(api.watches).toEqual(['10', '15', '50']);
    expect(statuses).toContain('watch-ended');
  });

  it('resumes from a saved position without listing, and restarts a silent watch', async () => {
    const ctl = new AbortController();
    const reasons: string[] = [];
    const api = new FakeApi(
      [],
      [
        // Opens, then never sends anything: the silence detector must abort it.
        (_on, signal) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
        async (on) => {
          await on({ type: 'ADDED', object: obj('b', '31') });
          ctl.abort();
        },
      ],
    );
    const lw = new ListWatch({
      http: api,
      path: '/x',
      silenceTimeoutMs: 100,
      onStatus: (s) => s.type === 'watch-ended' && reasons.push(s.reason),
      handler: { onSnapshot: async () => {}, onEvent: async () => {}, onBookmark: async () => {} },
    });
    await lw.run(ctl.signal, '30');
    expect(api.lists).toEqual([]);
    expect(api.watches).toEqual(['30', '30']);
    expect(reasons[0]).toBe('silent');
    expect(lw.resourceVersion).toBe('31');
  });

  it('hands handler failures to the caller instead of retrying them', async () => {
    const api = new FakeApi(['1'], []);
    const lw = new ListWatch({
      http: api,
      path: '/x',
      handler: {
        onSnapshot: async () => {
          throw new Error('kafka down');
        },
        onEvent: async () => {},
        onBookmark: async () => {},
      },
    });
    await expect(lw.run(new AbortController().signal)).rejects.toThrow(/kafka down/);
    expect(new KubeApiError(410, undefined, 'x').isGone).toBe(true);
  });
});
