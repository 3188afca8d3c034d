/**
 * Little-endian IEEE-754 doubles read from any `Uint8Array` through one module-wide 8-byte scratch (a Float64Array
 * and a Uint8Array over the same ArrayBuffer), the technique Node's own `readDoubleLE` uses.
 *
 * Why a scratch and not a DataView: frames arrive in ever-new Buffers, and a DataView per frame is an allocation;
 * copying 8 bytes through the scratch is a few loads and stores. Measured on the 2-core dev host: ~40 ns per tick
 * decoded, against ~53 ns with a DataView cached per backing buffer and ~100-130 ns with `Buffer#read*LE`.
 * (Writers own their buffer, so they do use one DataView each: see frame-writer.ts.)
 *
 * The decoders copy through `scratchBytes`/`scratchFloat` inline rather than calling `readF64`: a helper that
 * returns a double must box it in a heap number whenever V8 does not inline the call, and with several helpers per
 * record the inlining budget runs out (measured: ~16 bytes allocated per tick, depending on compile order). The
 * helpers below are for tests and cold code.
 *
 * Guarantees: bit-exact (negative zero, subnormals and infinities survive; a NaN may be canonicalised, which is why
 * decoders reject NaN before anything re-encodes); no allocation; single-threaded use (each worker has its own module
 * instance, hence its own scratch). The wire is little-endian and so is every mainstream Node target; on a
 * big-endian host this module refuses to load rather than misread every price.
 */

const scratch = new ArrayBuffer(8);

/** The scratch's bytes, in host order. Decoders copy a field's 8 wire bytes here, then read `scratchFloat[0]`. */
export const scratchBytes = new Uint8Array(scratch);

/** The scratch as one double. */
export const scratchFloat = new Float64Array(scratch);

/** True on little-endian hosts (x86-64, arm64). */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

if (!HOST_IS_LITTLE_ENDIAN) {
  throw new Error('The Nexus wire codecs need a little-endian host; this one is big-endian');
}

/** Reads a little-endian f64 at `off`. */
export function readF64(bytes: Uint8Array, off: number): number {
  scratchBytes[0] = bytes[off];
  scratchBytes[1] = bytes[off + 1];
  scratchBytes[2] = bytes[off + 2];
  scratchBytes[3] = bytes[off + 3];
  scratchBytes[4] = bytes[off + 4];
  scratchBytes[5] = bytes[off + 5];
  scratchBytes[6] = bytes[off + 6];
  scratchBytes[7] = bytes[off + 7];
  return scratchFloat[0];
}

/** Writes `value` as a little-endian f64 at `off`. */
export function writeF64(bytes: Uint8Array, off: number, value: number): void {
  scratchFloat[0] = value;
  bytes[off] = scratchBytes[0];
  bytes[off + 1] = scratchBytes[1];
  bytes[off + 2] = scratchBytes[2];
  bytes[off + 3] = scratchBytes[3];
  bytes[off + 4] = scratchBytes[4];
  bytes[off + 5] = scratchBytes[5];
  bytes[off + 6] = scratchBytes[6];
  bytes[off + 7] = scratchBytes[7];
}
