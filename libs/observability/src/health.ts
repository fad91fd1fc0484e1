/** One readiness condition: "data is flowing" for the part it watches. */
export interface HealthCheck {
  name: string;
  /** ok=false makes /readyz answer 503 with the detail. */
  check(): Promise<{ ok: boolean; detail?: string }> | { ok: boolean; detail?: string };
}

export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** Readiness is the conjunction of registered checks; liveness never consults them. */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  register(check: HealthCheck): void {
    this.checks.set(check.name, check);
  }

  async report(): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.checks.values()].map(async (c) => {
        try {
          return [c.name, await c.check()] as const;
        } catch (err) {
          return [c.name, { ok: false, detail: (err as Error).message }] as const;
        }
      }),
    );
    return { ok: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
  }
}

/** A check that fails when `lastGood()` is older than maxAgeMs (or never happened). */
export function freshnessCheck(name: string, lastGood: () => number | undefined, maxAgeMs: number): HealthCheck {
  return {
    name,
    check() {
      const at = lastGood();
      if (at === undefined) return { ok: false, detail: 'no success yet' };
      const age = Date.now() - at;
      return age <= maxAgeMs ? { ok: true, detail: `${Math.round(age / 1000)} s ago` } : { ok: false, detail: `last success ${Math.round(age / 1000)} s ago (limit ${maxAgeMs / 1000} s)` };
    },
  };
}
