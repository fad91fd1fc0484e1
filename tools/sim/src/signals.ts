import { hashInts, unit, valueNoise } from './random.js';

/**
 * Closed-form time series. A counter's rate is
 *   rate(t) = mean * (1 + A1 sin(w1 t + p1) + A2 sin(w2 t + p2) + NOISE_KNOT * AN * n'(t))
 * with A1 + A2 + 2 AN < 1, so the rate stays positive and the counter, its integral,
 * is strictly increasing. Integrals are exact, so a value at any time is O(1).
 */
const A1 = 0.25;
const A2 = 0.15;
const AN = 0.25;
const NOISE_KNOT_SECONDS = 30;

interface Wave {
  w1: number;
  p1: number;
  w2: number;
  p2: number;
}

function wave(key: number): Wave {
  const period1 = 60 + 540 * unit(hashInts(key, 1));
  const period2 = 1800 + 5400 * unit(hashInts(key, 2));
  return {
    w1: (2 * Math.PI) / period1,
    p1: 2 * Math.PI * unit(hashInts(key, 3)),
    w2: (2 * Math.PI) / period2,
    p2: 2 * Math.PI * unit(hashInts(key, 4)),
  };
}

/** Integral of the normalised rate (mean 1) from `fromSeconds` to `toSeconds`. */
function integral(key: number, fromSeconds: number, toSeconds: number): number {
  if (toSeconds <= fromSeconds) return 0;
  const w = wave(key);
  const elapsed = toSeconds - fromSeconds;
  const s1 = (A1 / w.w1) * (Math.cos(w.w1 * fromSeconds + w.p1) - Math.cos(w.w1 * toSeconds + w.p1));
  const s2 = (A2 / w.w2) * (Math.cos(w.w2 * fromSeconds + w.p2) - Math.cos(w.w2 * toSeconds + w.p2));
  const noise =
    NOISE_KNOT_SECONDS * AN * (valueNoise(key, toSeconds, NOISE_KNOT_SECONDS) - valueNoise(key, fromSeconds, NOISE_KNOT_SECONDS));
  return elapsed + s1 + s2 + noise;
}

/**
 * A cumulative counter that started at 0 at `startMs` and grows at `meanPerSecond`
 * on average; value at `atMs`, rounded to an integer.
 */
export function counter(key: number, meanPerSecond: number, startMs: number, atMs: number): number {
  if (meanPerSecond <= 0 || atMs <= startMs) return 0;
  return Math.round(meanPerSecond * integral(key, startMs / 1000, atMs / 1000));
}

/** Average rate of `counter` over the window ending at `atMs` (what cAdvisor reports as usage). */
export function rate(key: number, meanPerSecond: number, startMs: number, atMs: number, windowMs: number): number {
  const from = Math.max(startMs, atMs - windowMs);
  if (atMs <= from || meanPerSecond <= 0) return 0;
  return (meanPerSecond * integral(key, from / 1000, atMs / 1000)) / ((atMs - from) / 1000);
}

/** A gauge wandering around `mean` by roughly ±`spread` (fraction), never below 0. */
export function gauge(key: number, mean: number, spread: number, atMs: number): number {
  const t = atMs / 1000;
  const w = wave(key);
  const x = 0.6 * Math.sin(w.w1 * t + w.p1) + 0.4 * valueNoise(key ^ 0x5bd1e995, t, NOISE_KNOT_SECONDS);
  return Math.max(0, Math.round(mean * (1 + spread * x)));
}

/** A slowly growing amount (log files, scratch space) that drops back on rotation every `periodMs`. */
export function sawtooth(key: number, min: number, max: number, periodMs: number, atMs: number): number {
  const phase = unit(hashInts(key, 7)) * periodMs;
  const f = (((atMs + phase) % periodMs) + periodMs) % periodMs / periodMs;
  return Math.round(min + (max - min) * f);
}
