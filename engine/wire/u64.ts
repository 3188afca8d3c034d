/**
 * Little-endian integer fields read and written byte by byte on any `Uint8Array` (a Node `Buffer` included),
 * without DataView, BigInt or allocation, so they inline on the hot path.
 *
 * u64 values travel in JS as plain numbers, `lo + hi * 2^32`. Guarantees:
 * - every integer 0..2^53 (`MAX_EXACT_U64`) round-trips exactly;
 * - a wire value above 2^53 reads as the nearest double (one IEEE addition of two exact terms, so correctly
 *   rounded): an epoch-nanosecond timestamp today (~1.8e18) reads to within 128 ns, a monotonic clock past 2^53 ns
 *   (104 days of uptime) to within 1 ns; writing such a number back writes that rounded value;
 * - `writeU64` is exact for any integer-valued number in [0, 2^64).
 * Writers on the hot path trust their input; validate at the edge with `isWireU64` / `assertWireU64`.
 *
 * The frame decoders and writers spell these reads and writes out inline instead of calling the helpers (see
 * f64.ts for why: a non-inlined helper that returns or takes a double allocates); the helpers are the reference
 * the tests check that arithmetic against, and serve cold code.
 */

/** 2^32, the weight of the high word. */
const TWO_POW_32 = 4294967296;

/** Largest u64 that every step of the JS representation carries exactly (2^53, one above MAX_SAFE_INTEGER). */
export const MAX_EXACT_U64 = 9007199254740992;

/** Exclusive upper bound of a u64 (2^64). */
export const U64_LIMIT = 18446744073709551616;

export function readU16(bytes: Uint8Array, off: number): number {
  return bytes[off] | (bytes[off + 1] << 8);
}

export function writeU16(bytes: Uint8Array, off: number, value: number): void {
  bytes[off] = value;
  bytes[off + 1] = value >>> 8;
}

/** Reads a u32; the top byte is added arithmetically so the result is never negative. */
export function readU32(bytes: Uint8Array, off: number): number {
  return (bytes[off] | (bytes[off + 1] << 8) | (bytes[off + 2] << 16)) + bytes[off + 3] * 0x1000000;
}

export function writeU32(bytes: Uint8Array, off: number, value: number): void {
  bytes[off] = value;
  bytes[off + 1] = value >>> 8;
  bytes[off + 2] = value >>> 16;
  bytes[off + 3] = value >>> 24;
}

/** Reads a u64 as `lo + hi * 2^32`: exact up to 2^53, correctly rounded above. */
export function readU64(bytes: Uint8Array, off: number): number {
  return readU32(bytes, off) + readU32(bytes, off + 4) * TWO_POW_32;
}

/**
 * Writes an integer 0 <= value < 2^64 as a u64. Trusts its input (hot path): a fraction, negative, NaN or
 * out-of-range value writes garbage, never throws. Check with `assertWireU64` where input is untrusted.
 */
export function writeU64(bytes: Uint8Array, off: number, value: number): void {
  // value / 2^32 is exact (power of two); >>> 0 truncates it to the high word, and the remainder is exact.
  const hi = (value / TWO_POW_32) >>> 0;
  const lo = value - hi * TWO_POW_32;
  writeU32(bytes, off, lo);
  writeU32(bytes, off + 4, hi);
}

/** True when `value` can be written as a u64 field: an integer in [0, 2^64). Exact when also <= 2^53. */
export function isWireU64(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < U64_LIMIT;
}

/** Throws a RangeError naming `field` unless `isWireU64(value)`; for edges that take numbers from config or users. */
export function assertWireU64(value: number, field: string): void {
  if (!isWireU64(value)) {
    throw new RangeError(`${field} must be an integer in [0, 2^64) to fit a u64 wire field, got ${value}`);
  }
}

/** True when `value` is an integer in [0, 2^53]: a u64 that round-trips exactly (sequences, ids, counters). */
export function isExactU64(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_EXACT_U64;
}
