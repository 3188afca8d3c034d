import { curveKeyPair } from 'zeromq';
import { describe, expect, it } from 'vitest';
import { isZ85Key, z85Decode, z85Encode } from './z85.ts';

describe('z85', () => {
  it('matches the RFC 32 test vector', () => {
    const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    expect(z85Encode(bytes)).toBe('HelloWorld');
    expect(z85Decode('HelloWorld')).toEqual(bytes);
  });

  it('round-trips libzmq keys', () => {
    const { publicKey, secretKey } = curveKeyPair();
    for (const key of [publicKey, secretKey]) {
      expect(isZ85Key(key)).toBe(true);
      expect(z85Encode(z85Decode(key) ?? new Uint8Array())).toBe(key);
    }
  });

  it('rejects text that is not Z85', () => {
    expect(z85Decode('Hello')).toBeDefined();
    expect(z85Decode('Hell')).toBeUndefined();
    expect(z85Decode('Hell"')).toBeUndefined();
    expect(z85Decode('#####')).toBeUndefined(); // 85^5 - 1 overflows 32 bits
    expect(isZ85Key('HelloWorld')).toBe(false);
    expect(() => z85Encode(new Uint8Array(3))).toThrow(/4-byte groups/);
  });
});
