import { createHash } from 'node:crypto';

/** A stable 64-bit score for (key, member): highest random weight (rendezvous) hashing. */
function score(key: string, member: string): bigint {
  return createHash('sha1').update(member).update('\u0000').update(key).digest().readBigUInt64BE(0);
}

/**
 * The member that owns `key`. When a member leaves, only its keys move; when one
 * joins, it takes about 1/n of the keys from the others and nothing else moves.
 */
export function ownerOf(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const m of members) {
    const s = score(key, m);
    if (s > bestScore) {
      best = m;
      bestScore = s;
    }
  }
  return best;
}

/** The virtual shard (0..shards-1) of a key, stable across processes. */
export function shardOf(key: string, shards: number): number {
  return Number(createHash('sha1').update(key).digest().readUInt32BE(0) % shards);
}
