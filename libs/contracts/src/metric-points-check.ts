import { ENTITY_TYPES, RESOLUTIONS, type MetricPointBatch } from './metric-points.js';

/*
 * A hand-written check of the MetricPointBatch shape, for the decode hot path: the
 * storage-writer reads hundreds of thousands of points per second, and walking them
 * with zod costs more than JSON.parse. It accepts exactly what the zod schema accepts
 * with nothing stripped (an unknown key, e.g. from a newer minor version, makes it say
 * no), so a `true` lets the codec skip zod and a `false` falls back to zod, which then
 * accepts (stripping unknown keys) or explains the error. Kept in step with
 * metric-points.ts by metric-points-check.test.ts.
 */

/* The value checks below are shared with the version 2 reader (metric-points-v2.ts). */
export const entityTypes: ReadonlySet<unknown> = new Set(ENTITY_TYPES);
export const resolutions: ReadonlySet<unknown> = new Set(RESOLUTIONS);

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const isEpochMs = (v: unknown): v is number => Number.isSafeInteger(v);
export const isUint = (v: unknown): v is number => isNumber(v) && v >= 0 && Number.isInteger(v);
export const isNonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

export function isTags(v: unknown): v is Record<string, string> {
  if (!isObject(v)) return false;
  for (const k in v) if (typeof v[k] !== 'string') return false;
  return true;
}

export function isWindow(v: unknown): v is NonNullable<MetricPointBatch['points'][number]['window']> {
  if (!isObject(v)) return false;
  let n = 0;
  for (const k in v) {
    n++;
    const x = v[k];
    switch (k) {
      case 'start':
      case 'end':
        if (!isEpochMs(x)) return false;
        break;
      case 'min':
      case 'max':
      case 'sum':
      case 'last':
        if (!isNumber(x)) return false;
        break;
      case 'count':
        if (!isUint(x)) return false;
        break;
      default:
        return false;
    }
  }
  return n === 7;
}

function isPoint(v: unknown): boolean {
  if (!isObject(v)) return false;
  let required = 0;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'metric':
        if (!isNonEmpty(x)) return false;
        required++;
        break;
      case 'entityType':
        if (!entityTypes.has(x)) return false;
        required++;
        break;
      case 'tags':
        if (!isTags(x)) return false;
        required++;
        break;
      case 'timestamp':
        if (!isEpochMs(x)) return false;
        required++;
        break;
      case 'value':
        if (!isNumber(x)) return false;
        required++;
        break;
      case 'startTime':
        if (x !== undefined && !isEpochMs(x)) return false;
        break;
      case 'members':
        if (x !== undefined && !isUint(x)) return false;
        break;
      case 'window':
        if (x !== undefined && !isWindow(x)) return false;
        break;
      default:
        return false;
    }
  }
  return required === 5;
}

/** True only when `json` is a MetricPointBatch the zod schema accepts unchanged. */
export function isExactMetricPointBatch(json: unknown): json is MetricPointBatch {
  if (!isObject(json)) return false;
  let required = 0;
  for (const k in json) {
    const x = json[k];
    switch (k) {
      case 'schemaVersion':
        if (typeof x !== 'string' || !/^1\.\d+$/.test(x)) return false;
        required++;
        break;
      case 'cluster':
        if (!isNonEmpty(x)) return false;
        required++;
        break;
      case 'resolution':
        if (!resolutions.has(x)) return false;
        required++;
        break;
      case 'producedAt':
        if (!isEpochMs(x)) return false;
        required++;
        break;
      case 'producer':
        if (x !== undefined && typeof x !== 'string') return false;
        break;
      case 'points':
        if (!Array.isArray(x)) return false;
        for (const p of x) if (!isPoint(p)) return false;
        required++;
        break;
      default:
        return false;
    }
  }
  return required === 5;
}
