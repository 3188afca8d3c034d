import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal values always give equal text (and equal hashes). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const child = (value as Record<string, unknown>)[key];
    if (child !== undefined) out[key] = sortKeys(child);
  }
  return out;
}

/**
 * A short, label-safe hash of a value: the first 50 bits of SHA-256 over its canonical JSON, as 10 characters of
 * [0-9a-z] from an alphabet without vowels (as Kubernetes' pod-template-hash does), so no hash spells a word.
 */
export function shortHash(value: unknown): string {
  const digest = createHash('sha256').update(canonicalJson(value)).digest();
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  let bits = 0n;
  for (let i = 0; i < 8; i++) bits = (bits << 8n) | BigInt(digest[i] ?? 0);
  for (let i = 0; i < 10; i++) {
    out += alphabet[Number(bits % BigInt(alphabet.length))];
    bits /= BigInt(alphabet.length);
  }
  return out;
}
