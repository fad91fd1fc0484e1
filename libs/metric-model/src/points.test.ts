import { describe, expect, it } from 'vitest';
import type { RawScrape } from '@heapstream/contracts';
import { findMetric } from './catalogue.js';
import { scrapeToPoints } from './points.js';
import { toLineProtocol } from './storage-schema.js';

// The modern kubelet blocks the fixtures predate: swap, rlimit, containerFs, PVC volumes,
// process stats and accelerators.
const scrape: RawScrape = {
  schemaVersion: '1.0',
  cluster: 'c',
  node: 'n',
  scrape: { startedAt: 9000, finishedAt: 9500 },
  nodeStats: {
    startTime: 1000,
    swap: { time: 5000, swapUsageBytes: 0, swapAvailableBytes: 100 },
    containerFs: { time: 5000, usedBytes: 7 },
    rlimit: { time: 5000, maxpid: 4096, curproc: 12 },
    systemContainers: [],
  },
  pods: [
    {
      namespace: 'ns',
      name: 'p',
      uid: 'u',
      startTime: 2000,
      processCount: 3,
      cpu: { time: 6000, usageCoreNanoSeconds: 10 },
      volumes: [{ name: 'data', time: 6000, usedBytes: 1, pvcRef: { name: 'claim', namespace: 'ns' } }],
      containers: [
        {
          name: 'gpu',
          cpu: { time: 6000, usageCoreNanoSeconds: 10 },
          accelerators: [{ make: 'nvidia', model: 'tesla', id: 'GPU-1', memoryTotal: 16, memoryUsed: 4, dutyCycle: 50 }],
        },
      ],
    },
  ],
};

describe('scrapeToPoints on modern blocks', () => {
  const points = scrapeToPoints(scrape);
  const find = (metric: string, tag?: [string, string]) => points.filter((p) => p.metric === metric && (!tag || p.tags[tag[0]] === tag[1]));

  it('maps every block to catalogue metrics, with the owner start time on counters', () => {
    for (const p of points) expect(findMetric(p.metric), p.metric).toBeDefined();
    expect(find('swap/usage')[0]).toMatchObject({ entityType: 'node', value: 0, timestamp: 5000 });
    expect(find('filesystem/usage', ['resource_id', 'containerfs'])[0]?.value).toBe(7);
    expect(find('process/max')[0]?.value).toBe(4096);
    expect(find('process/count').map((p) => [p.entityType, p.value])).toEqual([['node', 12], ['pod', 3]]);
    expect(find('cpu/usage', ['container_name', 'gpu'])[0]?.startTime).toBeUndefined();
    // No cpu or memory sample on this node: uptime is taken at the scrape's finishedAt.
    expect(find('uptime')[0]).toMatchObject({ entityType: 'node', value: 8500, timestamp: 9500, startTime: 1000 });
  });

  it('tags volumes with their PVC and accelerators with id, make and model', () => {
    expect(find('filesystem/usage', ['resource_id', 'Volume:data'])[0]?.tags.pvc_name).toBe('claim');
    expect(find('accelerator/duty_cycle')[0]).toMatchObject({
      entityType: 'pod_container',
      value: 50,
      timestamp: 6000,
      tags: { accelerator_id: 'GPU-1', accelerator_make: 'nvidia', accelerator_model: 'tesla' },
    });
  });

  it('writes all of them', () => {
    expect(toLineProtocol(points, { schema: 'heapster' }).skipped).toEqual([]);
    expect(toLineProtocol(points, { schema: 'wide' }).lines).toContain(
      'accelerator,accelerator_id=GPU-1,accelerator_make=nvidia,accelerator_model=tesla,cluster_name=c,container_name=gpu,namespace_name=ns,nodename=n,pod_name=p,type=pod_container memory_total=16i,memory_used=4i,duty_cycle=50i 6000000000',
    );
  });
});
