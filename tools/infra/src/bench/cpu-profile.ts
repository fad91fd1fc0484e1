/** The parts of a V8 `.cpuprofile` (Node's --cpu-prof) this summary reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self time per function (name and file:line), the top `limit` as a table with their share
 * of the profile, and the self time of idle, GC and program (V8's own buckets).
 */
export function summarizeCpuProfile(profile: CpuProfile, limit = 20): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\/.*?\/(node_modules|dist|services|libs|tools)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const idle = self.get('(idle)') ?? 0;
  const busy = total - idle;
  const rows = [...self].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, limit);
  const lines = rows.map(([k, us]) => `${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}`);
  return [`busy ${(busy / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s profiled; self time:`, ...lines].join('\n');
}

// npx tsx tools/infra/src/bench/cpu-profile.ts <file.cpuprofile>... [--top N]
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync } = await import('node:fs');
  const args = process.argv.slice(2);
  const at = args.indexOf('--top');
  const top = at >= 0 ? Number(args.splice(at, 2)[1]) : 25;
  for (const file of args) console.log(`${file}\n${summarizeCpuProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top)}\n`);
}
