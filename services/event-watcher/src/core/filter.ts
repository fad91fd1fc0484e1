import type { NormalizedEvent } from './normalize.js';

/** Include/exclude lists; empty include means "everything". Matching ignores case. */
export interface EventFilterRules {
  includeTypes?: string[];
  excludeTypes?: string[];
  includeReasons?: string[];
  excludeReasons?: string[];
  includeKinds?: string[];
  excludeKinds?: string[];
}

export type FilterVerdict = { keep: true } | { keep: false; reason: 'type' | 'reason' | 'kind' };

const lower = (xs: string[] | undefined): Set<string> => new Set((xs ?? []).map((x) => x.toLowerCase()));

/** Builds the client-side filter; field/label selectors are applied by the API server before this. */
export function eventFilter(rules: EventFilterRules): (ev: NormalizedEvent) => FilterVerdict {
  const checks = [
    { reason: 'type' as const, include: lower(rules.includeTypes), exclude: lower(rules.excludeTypes), value: (e: NormalizedEvent) => e.type },
    { reason: 'reason' as const, include: lower(rules.includeReasons), exclude: lower(rules.excludeReasons), value: (e: NormalizedEvent) => e.reason },
    { reason: 'kind' as const, include: lower(rules.includeKinds), exclude: lower(rules.excludeKinds), value: (e: NormalizedEvent) => e.involvedObject.kind },
  ];
  return (ev) => {
    for (const c of checks) {
      const v = (c.value(ev) ?? '').toLowerCase();
      if (c.include.size > 0 && !c.include.has(v)) return { keep: false, reason: c.reason };
      if (c.exclude.has(v)) return { keep: false, reason: c.reason };
    }
    return { keep: true };
  };
}
