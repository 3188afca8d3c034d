/**
 * Z85 (ZeroMQ RFC 32), the text form of CURVE keys: 4 bytes <-> 5 characters. Hand-written because zeromq.js
 * exports no Z85 helpers (only `curveKeyPair`, which already returns Z85 text), and the ZAP handler receives the
 * client's public key as 32 raw bytes that must be compared with the configured Z85 key. Pure.
 */
const alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const valueOf = new Int16Array(128).fill(-1);
for (let i = 0; i < alphabet.length; i++) valueOf[alphabet.charCodeAt(i)] = i;

/** A CURVE key in Z85: 40 characters of the Z85 alphabet (32 bytes). */
export const Z85_KEY_LENGTH = 40;

/** Encodes bytes whose length is a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError(`Z85 encodes whole 4-byte groups, got ${bytes.length} bytes`);
  let text = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
    let group = '';
    for (let j = 0; j < 5; j++) {
      group = alphabet[value % 85] + group;
      value = Math.floor(value / 85);
    }
    text += group;
  }
  return text;
}

/** Decodes Z85 text whose length is a multiple of 5; undefined when it is not valid Z85. */
export function z85Decode(text: string): Uint8Array | undefined {
  if (text.length % 5 !== 0) return undefined;
  const bytes = new Uint8Array((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j);
      const digit = code < 128 ? valueOf[code] : -1;
      if (digit < 0) return undefined;
      value = value * 85 + digit;
    }
    if (value > 0xffff_ffff) return undefined;
    const at = (i / 5) * 4;
    bytes[at] = value >>> 24;
    bytes[at + 1] = (value >>> 16) & 0xff;
    bytes[at + 2] = (value >>> 8) & 0xff;
    bytes[at + 3] = value & 0xff;
  }
  return bytes;
}

/** True for a 40-character Z85 CURVE key. */
export function isZ85Key(text: string): boolean {
  return text.length === Z85_KEY_LENGTH && z85Decode(text) !== undefined;
}
