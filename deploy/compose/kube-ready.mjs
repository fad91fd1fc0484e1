// docker compose only: exits 0 once the local kube-apiserver answers /readyz (the
// apiserver image has no shell or HTTP client for a healthcheck of its own).
const url = process.env.KUBE_READYZ ?? 'https://kube-apiserver:6443/readyz';
const deadline = Date.now() + Number(process.env.KUBE_READY_TIMEOUT_MS ?? 180_000);
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // self-signed serving certificate
for (;;) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (res.ok) {
      console.log(`kube-ready: ${url} answered ${res.status}`);
      process.exit(0);
    }
  } catch {
    // not up yet
  }
  if (Date.now() > deadline) {
    console.error(`kube-ready: ${url} did not become ready`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 1000));
}
