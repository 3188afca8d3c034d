import { describe, expect, it } from 'vitest';
import {
  MAX_EXACT_U64,
  assertWireU64,
  isExactU64,
  isWireU64,
  readU16,
  readU32,
  readU64,
  writeU16,
  writeU32,
  writeU64,
} from './u64.ts';

function bigU64(bytes: Uint8Array, off: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(off, true);
}

describe('u16 and u32 fields', () => {
  it('round-trip their extremes little-endian', () => {
    const bytes = new Uint8Array(8);
    writeU16(bytes, 0, 0xfffe);
    writeU32(bytes, 2, 0xfffffffe);
    expect([...bytes.subarray(0, 6)]).toEqual([0xfe, 0xff, 0xfe, 0xff, 0xff, 0xff]);
    expect(readU16(bytes, 0)).toBe(0xfffe);
    expect(readU32(bytes, 2)).toBe(0xfffffffe);
  });

  it('read u32 with the top bit set as a positive number', () => {
    expect(readU32(Uint8Array.of(0, 0, 0, 0x80), 0)).toBe(2 ** 31);
    expect(readU32(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0)).toBe(0xffffffff);
  });
});

describe('u64 fields', () => {
  const exact = [0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52 + 1, 2 ** 53 - 1, 2 ** 53];

  it.each(exact)('round-trip %d exactly and agree with BigInt', (value) => {
    const bytes = new Uint8Array(12).fill(0xaa);
    writeU64(bytes, 3, value);
    expect(readU64(bytes, 3)).toBe(value);
    expect(bigU64(bytes, 3)).toBe(BigInt(value));
    expect(bytes[2]).toBe(0xaa);
    expect(bytes[11]).toBe(0xaa);
  });

  it('writes any integer-valued number below 2^64 exactly', () => {
    for (const value of [2 ** 60, 1.7e18, 2 ** 64 - 2048, 2 ** 63 + 2 ** 40]) {
      const bytes = new Uint8Array(8);
      writeU64(bytes, 0, value);
      expect(bigU64(bytes, 0)).toBe(BigInt(value));
      expect(readU64(bytes, 0)).toBe(value);
    }
  });

  it('reads values above 2^53 as the correctly rounded double', () => {
    const view = new DataView(new ArrayBuffer(8));
    const bytes = new Uint8Array(view.buffer);
    for (const exactValue of [2n ** 53n + 1n, 2n ** 53n + 3n, 1_700_000_000_123_456_789n, 2n ** 64n - 1n]) {
      view.setBigUint64(0, exactValue, true);
      expect(readU64(bytes, 0)).toBe(Number(exactValue));
    }
  });

  it('works on a Buffer view at a non-zero byte offset', () => {
    const backing = Buffer.alloc(32);
    const view = backing.subarray(5, 21);
    writeU64(view, 3, 2 ** 53 - 1);
    expect(backing.readBigUInt64LE(8)).toBe(2n ** 53n - 1n);
    expect(readU64(view, 3)).toBe(2 ** 53 - 1);
  });
});

describe('u64 validators', () => {
  it('accept integers in [0, 2^64) and tell exact ones apart', () => {
    expect(isWireU64(0)).toBe(true);
    expect(isWireU64(1.7e18)).toBe(true);
    expect(isExactU64(1.7e18)).toBe(false);
    expect(isExactU64(MAX_EXACT_U64)).toBe(true);
    expect(isExactU64(MAX_EXACT_U64 + 2)).toBe(false);
    for (const bad of [-1, 0.5, NaN, Infinity, 2 ** 64, -0.1]) expect(isWireU64(bad)).toBe(false);
  });

  it('throw a RangeError naming the field', () => {
    expect(() => assertWireU64(-1, 'firstSequence')).toThrow(/firstSequence must be an integer/);
    expect(() => assertWireU64(12, 'firstSequence')).not.toThrow();
  });
});
