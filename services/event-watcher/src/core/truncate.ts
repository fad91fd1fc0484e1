/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes, never inside a character, and marks
 * the cut so a reader knows the message is incomplete. Returns the original size too.
 */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean; bytes: number } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return { text, truncated: false, bytes };
  const marker = `…[truncated, ${bytes} bytes]`;
  const budget = Math.max(0, maxBytes - Buffer.byteLength(marker, 'utf8'));
  const buf = Buffer.from(text, 'utf8');
  let end = budget;
  // Step back over UTF-8 continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return { text: buf.subarray(0, end).toString('utf8') + marker, truncated: true, bytes };
}
