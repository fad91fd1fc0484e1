// Docker HEALTHCHECK: `healthcheck.mjs [/path | http://url]`; by default the service's
// liveness endpoint on its own HTTP port (HEAPSTREAM_HTTP_PORT, 8080).
const arg = process.argv[2] || '/healthz';
const url = arg.startsWith('http') ? arg : `http://127.0.0.1:${process.env.HEAPSTREAM_HTTP_PORT || '8080'}${arg}`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
