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

/**
 * Readiness (/readyz) is the conjunction of the `register`ed checks: is data flowing. Liveness
 * (/healthz) is the conjunction of the `registerLiveness` checks, which fail only when a
 * restart would help: a stage that has work and has made no progress for a long time
 * (`stallCheck`). A dependency that is down is a readiness matter, never a liveness one.
 */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private readonly liveChecks = new Map<string, HealthCheck>();

  register(check: HealthCheck): void {
    this.checks.set(check.name, check);
  }

  registerLiveness(check: HealthCheck): void {
    this.liveChecks.set(check.name, check);
  }

  report(): Promise<HealthReport> {
    return HealthRegistry.run(this.checks);
  }

  liveness(): Promise<HealthReport> {
    return HealthRegistry.run(this.liveChecks);
  }

  private static async run(checks: Map<string, HealthCheck>): Promise<HealthReport> {
    const entries = await Promise.all(
      [...checks.values()].map(async (c) => {
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

/**
 * Liveness of a stage: fails when `working()` has been true for longer than `maxStallMs`
 * without progress (`lastProgress()`, the time of its last completed unit of work). The
 * stall is counted from the later of the last progress and when work appeared, so a stage
 * that was idle for hours is not judged by its last progress. `working` must be false
 * while a dependency is known to be down: restarting would not help then.
 */
export function stallCheck(name: string, working: () => boolean, lastProgress: () => number | undefined, maxStallMs: number, now: () => number = Date.now): HealthCheck {
  let workingSince: number | undefined;
  return {
    name,
    check() {
      if (!working()) {
        workingSince = undefined;
        return { ok: true, detail: 'no work' };
      }
      const t = now();
      workingSince ??= t;
      const stalled = t - Math.max(lastProgress() ?? Number.NEGATIVE_INFINITY, workingSince);
      return stalled <= maxStallMs
        ? { ok: true, detail: `progress ${Math.round(stalled / 1000)} s ago` }
        : { ok: false, detail: `no progress for ${Math.round(stalled / 1000)} s while there is work (limit ${Math.round(maxStallMs / 1000)} s)` };
    },
  };
}
