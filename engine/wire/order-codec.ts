import { scratchBytes, scratchFloat } from './f64.ts';
import { decodeFrameHeader, type FrameHeader } from './frame-header.ts';
import { FrameWriter } from './frame-writer.ts';
import {
  DECODE_OK,
  type DecodeStatus,
  HEADER_BYTES,
  MAX_RECORDS_PER_FRAME,
  MessageType,
  ORDER_BYTES,
  ORDER_BYTES_V1,
  ORDER_WIRE_VERSION,
  OrderType,
  RejectReason,
  Side,
} from './layout.ts';

/**
 * Order records (OrderBatch frames, version 2, 56 bytes each; version 1 records are the first 48 bytes):
 * ```
 *  off  0  u64  orderId             engine-unique, exact up to 2^53
 *  off  8  u32  symbolId
 *  off 12  u16  strategyId
 *  off 14  u8   side                1 Buy, 2 Sell
 *  off 15  u8   orderType           1 Limit, 2 Market
 *  off 16  f64  price               Limit: finite, > 0; Market: finite, >= 0 (0 = none)
 *  off 24  f64  quantity            finite, > 0
 *  off 32  u64  tickPublishMonoNs   publishMonoNs of the tick that caused the order
 *  off 40  u64  orderMonoNs         engine CLOCK_MONOTONIC ns when the order was released
 *  off 48  u32  shardEpoch          the ownership epoch of the order's shard; 0 = not under ownership (unfenced)
 *  off 52  u16  shard               the shard the order's symbol belongs to (0 when shardEpoch is 0)
 *  off 54  u16  book                the order flow the shard belongs to (one per TradingEngine); 0 when unfenced
 * ```
 * An order gateway fences on (book, shard, shardEpoch): docs/wire.md, "Fencing by shard epoch".
 */

/** One decoded order; a reusable mutable slot overwritten by `decodeOrder`. */
export class OrderSlot {
  orderId = 0;
  symbolId = 0;
  strategyId = 0;
  /** `Side`: 1 Buy, 2 Sell. */
  side = 0;
  /** `OrderType`: 1 Limit, 2 Market. */
  orderType = 0;
  price = 0;
  quantity = 0;
  tickPublishMonoNs = 0;
  orderMonoNs = 0;
  /** The ownership epoch of the order's shard; 0 when the engine trades under no ownership (and in v1 frames). */
  shardEpoch = 0;
  shard = 0;
  /** The order flow (a TradingEngine's) the shard belongs to; shards are numbered within it. 0 in v1 frames. */
  book = 0;
  /** firstSequence of the frame + the record's index. */
  sequence = 0;
}

/**
 * Decodes an order frame's header into `out` for either order version: 2 (56-byte records) or 1 (48-byte records,
 * from engines before ownership; their orders decode with shard 0 at epoch 0). Otherwise as `decodeFrameHeader`.
 */
export function decodeOrderFrameHeader(frame: Uint8Array, out: FrameHeader): DecodeStatus {
  return frame.length > 0 && frame[0] === 1
    ? decodeFrameHeader(frame, MessageType.OrderBatch, ORDER_BYTES_V1, out, 1)
    : decodeFrameHeader(frame, MessageType.OrderBatch, ORDER_BYTES, out, ORDER_WIRE_VERSION);
}

/**
 * Decodes record `index` of an order frame whose header was accepted into `out`. Returns `DECODE_OK`, or
 * `unknown_kind` (side or order type not in its table), `bad_price` (NaN, infinite, <= 0 for Limit, < 0 for
 * Market) or `bad_size` (quantity NaN, infinite, <= 0), in that order; `out` holds the raw fields either way.
 * Never throws, never allocates.
 */
export function decodeOrder(frame: Uint8Array, index: number, header: FrameHeader, out: OrderSlot): DecodeStatus {
  // Field reads are written out inline on purpose (see f64.ts): no helper call that could return a boxed double.
  const v1 = header.version === 1;
  const off = HEADER_BYTES + index * (v1 ? ORDER_BYTES_V1 : ORDER_BYTES);
  const side = frame[off + 14];
  const orderType = frame[off + 15];
  scratchBytes[0] = frame[off + 16];
  scratchBytes[1] = frame[off + 17];
  scratchBytes[2] = frame[off + 18];
  scratchBytes[3] = frame[off + 19];
  scratchBytes[4] = frame[off + 20];
  scratchBytes[5] = frame[off + 21];
  scratchBytes[6] = frame[off + 22];
  scratchBytes[7] = frame[off + 23];
  const price = scratchFloat[0];
  scratchBytes[0] = frame[off + 24];
  scratchBytes[1] = frame[off + 25];
  scratchBytes[2] = frame[off + 26];
  scratchBytes[3] = frame[off + 27];
  scratchBytes[4] = frame[off + 28];
  scratchBytes[5] = frame[off + 29];
  scratchBytes[6] = frame[off + 30];
  scratchBytes[7] = frame[off + 31];
  const quantity = scratchFloat[0];
  out.orderId =
    (frame[off] | (frame[off + 1] << 8) | (frame[off + 2] << 16)) +
    frame[off + 3] * 0x1000000 +
    ((frame[off + 4] | (frame[off + 5] << 8) | (frame[off + 6] << 16)) + frame[off + 7] * 0x1000000) * 4294967296;
  out.symbolId = (frame[off + 8] | (frame[off + 9] << 8) | (frame[off + 10] << 16)) + frame[off + 11] * 0x1000000;
  out.strategyId = frame[off + 12] | (frame[off + 13] << 8);
  out.side = side;
  out.orderType = orderType;
  out.price = price;
  out.quantity = quantity;
  out.tickPublishMonoNs =
    (frame[off + 32] | (frame[off + 33] << 8) | (frame[off + 34] << 16)) +
    frame[off + 35] * 0x1000000 +
    ((frame[off + 36] | (frame[off + 37] << 8) | (frame[off + 38] << 16)) + frame[off + 39] * 0x1000000) * 4294967296;
  out.orderMonoNs =
    (frame[off + 40] | (frame[off + 41] << 8) | (frame[off + 42] << 16)) +
    frame[off + 43] * 0x1000000 +
    ((frame[off + 44] | (frame[off + 45] << 8) | (frame[off + 46] << 16)) + frame[off + 47] * 0x1000000) * 4294967296;
  out.shardEpoch = v1 ? 0 : (frame[off + 48] | (frame[off + 49] << 8) | (frame[off + 50] << 16)) + frame[off + 51] * 0x1000000;
  out.shard = v1 ? 0 : frame[off + 52] | (frame[off + 53] << 8);
  out.book = v1 ? 0 : frame[off + 54] | (frame[off + 55] << 8);
  out.sequence = header.firstSequence + index;
  if ((side !== Side.Buy && side !== Side.Sell) || (orderType !== OrderType.Limit && orderType !== OrderType.Market)) {
    return RejectReason.UnknownKind;
  }
  if (orderType === OrderType.Limit ? !(price > 0 && price < Infinity) : !(price >= 0 && price < Infinity)) {
    return RejectReason.BadPrice;
  }
  if (!(quantity > 0 && quantity < Infinity)) return RejectReason.BadSize;
  return DECODE_OK;
}

/** Builds OrderBatch frames of up to `capacity` orders (see `FrameWriter`); `append` trusts its arguments. */
export class OrderFrameWriter extends FrameWriter {
  constructor(capacity: number = MAX_RECORDS_PER_FRAME) {
    super(MessageType.OrderBatch, ORDER_BYTES, capacity, ORDER_WIRE_VERSION);
  }

  append(
    orderId: number,
    symbolId: number,
    strategyId: number,
    side: number,
    orderType: number,
    price: number,
    quantity: number,
    tickPublishMonoNs: number,
    orderMonoNs: number,
    shard = 0,
    shardEpoch = 0,
    book = 0,
  ): void {
    const off = this.claim();
    const view = this.view;
    let hi = (orderId / 4294967296) >>> 0;
    view.setUint32(off, orderId - hi * 4294967296, true);
    view.setUint32(off + 4, hi, true);
    view.setUint32(off + 8, symbolId, true);
    view.setUint16(off + 12, strategyId, true);
    view.setUint8(off + 14, side);
    view.setUint8(off + 15, orderType);
    view.setFloat64(off + 16, price, true);
    view.setFloat64(off + 24, quantity, true);
    hi = (tickPublishMonoNs / 4294967296) >>> 0;
    view.setUint32(off + 32, tickPublishMonoNs - hi * 4294967296, true);
    view.setUint32(off + 36, hi, true);
    hi = (orderMonoNs / 4294967296) >>> 0;
    view.setUint32(off + 40, orderMonoNs - hi * 4294967296, true);
    view.setUint32(off + 44, hi, true);
    view.setUint32(off + 48, shardEpoch, true);
    view.setUint16(off + 52, shard, true);
    view.setUint16(off + 54, book, true);
  }

  /** Appends a decoded order; allocation-free in every case (repeats `append`'s body so no double crosses a call). */
  appendSlot(order: OrderSlot): void {
    const off = this.claim();
    const view = this.view;
    const orderId = order.orderId;
    let hi = (orderId / 4294967296) >>> 0;
    view.setUint32(off, orderId - hi * 4294967296, true);
    view.setUint32(off + 4, hi, true);
    view.setUint32(off + 8, order.symbolId, true);
    view.setUint16(off + 12, order.strategyId, true);
    view.setUint8(off + 14, order.side);
    view.setUint8(off + 15, order.orderType);
    view.setFloat64(off + 16, order.price, true);
    view.setFloat64(off + 24, order.quantity, true);
    const tickPublishMonoNs = order.tickPublishMonoNs;
    hi = (tickPublishMonoNs / 4294967296) >>> 0;
    view.setUint32(off + 32, tickPublishMonoNs - hi * 4294967296, true);
    view.setUint32(off + 36, hi, true);
    const orderMonoNs = order.orderMonoNs;
    hi = (orderMonoNs / 4294967296) >>> 0;
    view.setUint32(off + 40, orderMonoNs - hi * 4294967296, true);
    view.setUint32(off + 44, hi, true);
    view.setUint32(off + 48, order.shardEpoch, true);
    view.setUint16(off + 52, order.shard, true);
    view.setUint16(off + 54, order.book, true);
  }
}
