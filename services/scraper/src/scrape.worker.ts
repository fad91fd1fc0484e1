/*
 * A scrape worker thread (see node-scrapers.ts): scrapes the nodes it is sent, one
 * message per scrape, and answers with the encoded record, whose bytes are transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KubeletClient } from './kubelet/kubelet-client.js';
import { scrapeNode } from './kubelet/scrape-node.js';
import { serializeError, type ScrapeReply, type ScrapeRequest, type ScrapeWorkerData } from './scrape-protocol.js';

const port = parentPort;
if (!port) throw new Error('scrape.worker runs as a worker thread of the scraper');
const data = workerData as ScrapeWorkerData;
const client = new KubeletClient(data.access, data.client);

/** The record's own ArrayBuffer when it has one to itself (large Buffers do), else a copy. */
function ownBytes(value: Buffer): Uint8Array {
  return value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : new Uint8Array(value);
}

port.on('message', (req: ScrapeRequest) => {
  scrapeNode(client, req.target, { cluster: data.cluster, timeoutMs: req.timeoutMs }).then(
    (record) => {
      const value = ownBytes(record.value);
      port.postMessage({ id: req.id, ok: true, record: { ...record, value } } satisfies ScrapeReply, [value.buffer as ArrayBuffer]);
    },
    (err: unknown) => port.postMessage({ id: req.id, ok: false, error: serializeError(err) } satisfies ScrapeReply),
  );
});
port.postMessage('ready');
