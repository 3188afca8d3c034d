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
  TICK_BYTES,
  TickKind,
} from './layout.ts';

/**
 * Market-data tick records (MarketDataBatch frames, 40 bytes each):
 * ```
 *  off  0  u32  symbolId        FNV-1a 32 of the symbol name
 *  off  4  u8   tickKind        1 Trade, 2 Bid, 3 Ask
 *  off  5  u8   flags           reserved: written 0, ignored on read
 *  off  6  u16  reserved        written 0, ignored on read
 *  off  8  f64  price           finite, > 0
 *  off 16  f64  size            finite, >= 0
 *  off 24  u64  exchangeTsNs    exchange epoch ns
 *  off 32  u64  publishMonoNs   publisher CLOCK_MONOTONIC ns of this tick
 * ```
 */

/**
 * One decoded tick; a reusable mutable slot (a ring slot or a per-receiver scratch), overwritten by `decodeTick`.
 *
 * The number fields start as NaN, not 0, on purpose: a field that starts as a small integer and later receives a
 * double (a 32-bit symbol id above 2^30, a nanosecond time) must change representation, and V8 may settle that by
 * making the field Tagged, after which every such store allocates a HeapNumber. A field that holds a double from
 * the start is a double field from the start. (A precaution: the 6.6 B/tick seen in some runs was the id's lookup
 * call, SymbolTable.indexOfRecord.)
 */
export class TickSlot {
  symbolId = NaN;
  kind = 0;
  price = NaN;
  size = NaN;
  exchangeTsNs = NaN;
  publishMonoNs = NaN;
  /** firstSequence of the frame + the record's index. */
  sequence = NaN;
}

/**
 * Decodes record `index` of a tick frame whose header `decodeFrameHeader` accepted into `out`, straight from the
 * frame bytes. Returns `DECODE_OK`, or `unknown_kind`, `bad_price` (NaN, infinite, <= 0) or `bad_size` (NaN,
 * infinite, < 0), checked in that order; `out` holds the raw fields either way, so a reject can be logged with
 * its symbol. The caller keeps `0 <= index < header.recordCount`. Never throws, never allocates.
 */
export function decodeTick(frame: Uint8Array, index: number, header: FrameHeader, out: TickSlot): DecodeStatus {
  // Field reads are written out inline on purpose (see f64.ts): no helper call that could return a boxed double.
  const off = HEADER_BYTES + index * TICK_BYTES;
  const kind = frame[off + 4];
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
  const size = scratchFloat[0];
  out.symbolId = (frame[off] | (frame[off + 1] << 8) | (frame[off + 2] << 16)) + frame[off + 3] * 0x1000000;
  out.kind = kind;
  out.price = price;
  out.size = size;
  out.exchangeTsNs =
    (frame[off + 24] | (frame[off + 25] << 8) | (frame[off + 26] << 16)) +
    frame[off + 27] * 0x1000000 +
    ((frame[off + 28] | (frame[off + 29] << 8) | (frame[off + 30] << 16)) + frame[off + 31] * 0x1000000) * 4294967296;
  out.publishMonoNs =
    (frame[off + 32] | (frame[off + 33] << 8) | (frame[off + 34] << 16)) +
    frame[off + 35] * 0x1000000 +
    ((frame[off + 36] | (frame[off + 37] << 8) | (frame[off + 38] << 16)) + frame[off + 39] * 0x1000000) * 4294967296;
  out.sequence = header.firstSequence + index;
  if (kind < TickKind.Trade || kind > TickKind.Ask) return RejectReason.UnknownKind;
  if (!(price > 0 && price < Infinity)) return RejectReason.BadPrice;
  if (!(size >= 0 && size < Infinity)) return RejectReason.BadSize;
  return DECODE_OK;
}

/**
 * Builds MarketDataBatch frames of up to `capacity` ticks in one preallocated buffer (see `FrameWriter` for the
 * frame life cycle). `append` trusts its arguments (hot path): publishers are expected to send only what
 * `decodeTick` accepts; reserved bytes are always written as 0.
 */
export class TickFrameWriter extends FrameWriter {
  constructor(capacity: number = MAX_RECORDS_PER_FRAME) {
    super(MessageType.MarketDataBatch, TICK_BYTES, capacity);
  }

  append(
    symbolId: number,
    kind: number,
    price: number,
    size: number,
    exchangeTsNs: number,
    publishMonoNs: number,
  ): void {
    const off = this.claim();
    const view = this.view;
    view.setUint32(off, symbolId, true);
    view.setUint32(off + 4, kind & 0xff, true); // kind, then flags and reserved as 0
    view.setFloat64(off + 8, price, true);
    view.setFloat64(off + 16, size, true);
    let hi = (exchangeTsNs / 4294967296) >>> 0;
    view.setUint32(off + 24, exchangeTsNs - hi * 4294967296, true);
    view.setUint32(off + 28, hi, true);
    hi = (publishMonoNs / 4294967296) >>> 0;
    view.setUint32(off + 32, publishMonoNs - hi * 4294967296, true);
    view.setUint32(off + 36, hi, true);
  }

  /**
   * Appends a decoded tick (its `sequence` is implied by the frame's position, not copied). Allocation-free in every
   * case: it passes no doubles through a call, which is why it repeats `append`'s body instead of calling it.
   */
  appendSlot(tick: TickSlot): void {
    const off = this.claim();
    const view = this.view;
    view.setUint32(off, tick.symbolId, true);
    view.setUint32(off + 4, tick.kind & 0xff, true);
    view.setFloat64(off + 8, tick.price, true);
    view.setFloat64(off + 16, tick.size, true);
    const exchangeTsNs = tick.exchangeTsNs;
    let hi = (exchangeTsNs / 4294967296) >>> 0;
    view.setUint32(off + 24, exchangeTsNs - hi * 4294967296, true);
    view.setUint32(off + 28, hi, true);
    const publishMonoNs = tick.publishMonoNs;
    hi = (publishMonoNs / 4294967296) >>> 0;
    view.setUint32(off + 32, publishMonoNs - hi * 4294967296, true);
    view.setUint32(off + 36, hi, true);
  }
}
