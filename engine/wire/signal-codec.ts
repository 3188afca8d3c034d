import { scratchBytes, scratchFloat } from './f64.ts';
import type { FrameHeader } from './frame-header.ts';
import { FrameWriter } from './frame-writer.ts';
import {
  DECODE_OK,
  type DecodeStatus,
  HEADER_BYTES,
  MAX_RECORDS_PER_FRAME,
  MessageType,
  RejectReason,
  SIGNAL_BYTES,
} from './layout.ts';

/**
 * Strategy signal records (SignalBatch frames, 40 bytes each):
 * ```
 *  off  0  u32  symbolId
 *  off  4  u16  strategyId
 *  off  6  i8   side                +1 buy, -1 sell
 *  off  7  u8   reserved            written 0, ignored on read
 *  off  8  f64  price               finite, > 0 (the price the strategy acted on)
 *  off 16  f64  strength            finite, >= 0 (magnitude; direction is `side`)
 *  off 24  u64  tickPublishMonoNs   publishMonoNs of the tick that caused the signal
 *  off 32  u64  signalMonoNs        engine CLOCK_MONOTONIC ns when the signal was made
 * ```
 */

/** One decoded signal; a reusable mutable slot overwritten by `decodeSignal`. */
export class SignalSlot {
  symbolId = 0;
  strategyId = 0;
  /** +1 buy, -1 sell (`SignalSide`). */
  side = 0;
  price = 0;
  strength = 0;
  tickPublishMonoNs = 0;
  signalMonoNs = 0;
  /** firstSequence of the frame + the record's index. */
  sequence = 0;
}

/**
 * Decodes record `index` of a signal frame whose header was accepted into `out`. Returns `DECODE_OK`, or
 * `unknown_kind` (side not +1/-1), `bad_price` (NaN, infinite, <= 0) or `bad_size` (strength NaN, infinite, < 0),
 * in that order; `out` holds the raw fields either way. Never throws, never allocates.
 */
export function decodeSignal(frame: Uint8Array, index: number, header: FrameHeader, out: SignalSlot): DecodeStatus {
  // Field reads are written out inline on purpose (see f64.ts): no helper call that could return a boxed double.
  const off = HEADER_BYTES + index * SIGNAL_BYTES;
  const side = (frame[off + 6] << 24) >> 24; // sign-extend the i8
  scratchBytes[0] = frame[off + 8];
  scratchBytes[1] = frame[off + 9];
  scratchBytes[2] = frame[off + 10];
  scratchBytes[3] = frame[off + 11];
  scratchBytes[4] = frame[off + 12];
  scratchBytes[5] = frame[off + 13];
  scratchBytes[6] = frame[off + 14];
  scratchBytes[7] = frame[off + 15];
  const price = scratchFloat[0];
  scratchBytes[0] = frame[off + 16];
  scratchBytes[1] = frame[off + 17];
  scratchBytes[2] = frame[off + 18];
  scratchBytes[3] = frame[off + 19];
  scratchBytes[4] = frame[off + 20];
  scratchBytes[5] = frame[off + 21];
  scratchBytes[6] = frame[off + 22];
  scratchBytes[7] = frame[off + 23];
  const strength = scratchFloat[0];
  out.symbolId = (frame[off] | (frame[off + 1] << 8) | (frame[off + 2] << 16)) + frame[off + 3] * 0x1000000;
  out.strategyId = frame[off + 4] | (frame[off + 5] << 8);
  out.side = side;
  out.price = price;
  out.strength = strength;
  out.tickPublishMonoNs =
    (frame[off + 24] | (frame[off + 25] << 8) | (frame[off + 26] << 16)) +
    frame[off + 27] * 0x1000000 +
    ((frame[off + 28] | (frame[off + 29] << 8) | (frame[off + 30] << 16)) + frame[off + 31] * 0x1000000) * 4294967296;
  out.signalMonoNs =
    (frame[off + 32] | (frame[off + 33] << 8) | (frame[off + 34] << 16)) +
    frame[off + 35] * 0x1000000 +
    ((frame[off + 36] | (frame[off + 37] << 8) | (frame[off + 38] << 16)) + frame[off + 39] * 0x1000000) * 4294967296;
  out.sequence = header.firstSequence + index;
  if (side !== 1 && side !== -1) return RejectReason.UnknownKind;
  if (!(price > 0 && price < Infinity)) return RejectReason.BadPrice;
  if (!(strength >= 0 && strength < Infinity)) return RejectReason.BadSize;
  return DECODE_OK;
}

/** Builds SignalBatch frames of up to `capacity` signals (see `FrameWriter`); `append` trusts its arguments. */
export class SignalFrameWriter extends FrameWriter {
  constructor(capacity: number = MAX_RECORDS_PER_FRAME) {
    super(MessageType.SignalBatch, SIGNAL_BYTES, capacity);
  }

  append(
    symbolId: number,
    strategyId: number,
    side: number,
    price: number,
    strength: number,
    tickPublishMonoNs: number,
    signalMonoNs: number,
  ): void {
    const off = this.claim();
    const view = this.view;
    view.setUint32(off, symbolId, true);
    view.setUint16(off + 4, strategyId, true);
    view.setUint16(off + 6, side & 0xff, true); // i8 side (-1 is 0xff), then the reserved byte as 0
    view.setFloat64(off + 8, price, true);
    view.setFloat64(off + 16, strength, true);
    let hi = (tickPublishMonoNs / 4294967296) >>> 0;
    view.setUint32(off + 24, tickPublishMonoNs - hi * 4294967296, true);
    view.setUint32(off + 28, hi, true);
    hi = (signalMonoNs / 4294967296) >>> 0;
    view.setUint32(off + 32, signalMonoNs - hi * 4294967296, true);
    view.setUint32(off + 36, hi, true);
  }

  /** Appends a decoded signal; allocation-free in every case (repeats `append`'s body so no double crosses a call). */
  appendSlot(signal: SignalSlot): void {
    const off = this.claim();
    const view = this.view;
    view.setUint32(off, signal.symbolId, true);
    view.setUint16(off + 4, signal.strategyId, true);
    view.setUint16(off + 6, signal.side & 0xff, true);
    view.setFloat64(off + 8, signal.price, true);
    view.setFloat64(off + 16, signal.strength, true);
    const tickPublishMonoNs = signal.tickPublishMonoNs;
    let hi = (tickPublishMonoNs / 4294967296) >>> 0;
    view.setUint32(off + 24, tickPublishMonoNs - hi * 4294967296, true);
    view.setUint32(off + 28, hi, true);
    const signalMonoNs = signal.signalMonoNs;
    hi = (signalMonoNs / 4294967296) >>> 0;
    view.setUint32(off + 32, signalMonoNs - hi * 4294967296, true);
    view.setUint32(off + 36, hi, true);
  }
}
