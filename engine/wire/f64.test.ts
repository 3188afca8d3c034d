import { describe, expect, it } from 'vitest';
import { HOST_IS_LITTLE_ENDIAN, readF64, writeF64 } from './f64.ts';

describe('f64 fields', () => {
  const values = [0, -0, 1, -1, 100.5, 5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, -Number.MAX_VALUE, Infinity, -Infinity, 1e-300, 1e300];

  it.each(values)('round-trip %d bit-exactly in the same bytes as writeDoubleLE', (value) => {
    const ours = Buffer.alloc(13, 0x55);
    writeF64(ours, 3, value);
    const reference = Buffer.alloc(13, 0x55);
    reference.writeDoubleLE(value, 3);
    expect(ours.equals(reference)).toBe(true);
    expect(Object.is(readF64(ours, 3), value)).toBe(true);
  });

  it('reads NaN as NaN', () => {
    const bytes = new Uint8Array(8);
    writeF64(bytes, 0, NaN);
    expect(readF64(bytes, 0)).toBeNaN();
  });

  it('reads plain Uint8Array views at odd offsets', () => {
    const backing = new Uint8Array(40);
    const view = backing.subarray(7, 30);
    Buffer.from(backing.buffer).writeDoubleLE(-123.456, 7 + 5);
    expect(readF64(view, 5)).toBe(-123.456);
  });

  it('runs on a little-endian host here', () => {
    expect(HOST_IS_LITTLE_ENDIAN).toBe(true);
  });
});
