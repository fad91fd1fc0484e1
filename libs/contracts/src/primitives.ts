import { z } from 'zod';

/**
 * Milliseconds since the Unix epoch. Kubelet times have second precision, so
 * milliseconds lose nothing and keep arithmetic on plain numbers.
 */
export const epochMs = z.number().int().describe('milliseconds since the Unix epoch (UTC)');

/**
 * A kubelet counter or gauge: uint64 in Go. `multipleOf(1)` instead of `.int()`
 * because `.int()` caps at 2^53 and real counters (CPU nanoseconds on big nodes)
 * can pass it; above 2^53 the value is rounded, which is harmless for rates.
 */
export const uint = z.number().nonnegative().multipleOf(1);

export const nonEmpty = z.string().min(1);
