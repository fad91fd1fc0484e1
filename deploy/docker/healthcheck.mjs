// Docker HEALTHCHECK: the service's liveness endpoint on its own HTTP port.
const port = process.env.HEAPSTREAM_HTTP_PORT || '8080';
const path = process.argv[2] || '/healthz';
try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
