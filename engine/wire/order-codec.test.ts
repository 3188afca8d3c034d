import { describe, expect, it } from 'vitest';
import { FrameHeader } from './frame-header.ts';
import { DECODE_OK, OrderType, RejectReason, Side } from './layout.ts';
import { OrderFrameWriter, OrderSlot, decodeOrder, decodeOrderFrameHeader } from './order-codec.ts';

function decodeAll(frame: Uint8Array): { statuses: number[]; orders: OrderSlot[] } {
  const header = new FrameHeader();
  expect(decodeOrderFrameHeader(frame, header)).toBe(DECODE_OK);
  const orders: OrderSlot[] = [];
  const statuses: number[] = [];
  for (let i = 0; i < header.recordCount; i++) {
    orders.push(new OrderSlot());
    statuses.push(decodeOrder(frame, i, header, orders[i]));
  }
  return { statuses, orders };
}

function oneOrder(side: number, orderType: number, price: number, quantity: number): Buffer {
  const writer = new OrderFrameWriter(1);
  writer.begin(1, 1);
  writer.append(1, 2, 3, side, orderType, price, quantity, 4, 5);
  return writer.finish(6);
}

describe('order frames', () => {
  it('round-trip edge values', () => {
    const writer = new OrderFrameWriter(2);
    writer.begin(0xffffffff, 2 ** 53 - 1);
    writer.append(2 ** 53 - 1, 0xffffffff, 0xffff, Side.Sell, OrderType.Limit, 1e-300, Number.MAX_VALUE, 2 ** 53, 0, 0xffff, 0xffffffff, 0xfffe);
    writer.append(0, 0, 0, Side.Buy, OrderType.Market, -0, Number.MIN_VALUE, 0, 2 ** 32);
    const frame = writer.finish(123);
    expect(frame[0]).toBe(2);
    expect(frame.length).toBe(24 + 2 * 56);
    const { statuses, orders } = decodeAll(frame);
    expect(statuses).toEqual([DECODE_OK, DECODE_OK]);
    expect({ ...orders[0] }).toEqual({
      orderId: 2 ** 53 - 1,
      symbolId: 0xffffffff,
      strategyId: 0xffff,
      side: Side.Sell,
      orderType: OrderType.Limit,
      price: 1e-300,
      quantity: Number.MAX_VALUE,
      tickPublishMonoNs: 2 ** 53,
      orderMonoNs: 0,
      shard: 0xffff,
      shardEpoch: 0xffffffff,
      book: 0xfffe,
      sequence: 2 ** 53 - 1,
    });
    expect([orders[1].shard, orders[1].shardEpoch, orders[1].book]).toEqual([0, 0, 0]);
    expect(Object.is(orders[1].price, -0)).toBe(true);
    expect(orders[1].quantity).toBe(Number.MIN_VALUE);
    expect(orders[1].orderMonoNs).toBe(2 ** 32);

    const copy = new OrderFrameWriter(2);
    copy.begin(0xffffffff, 2 ** 53 - 1);
    orders.forEach((order) => copy.appendSlot(order));
    expect(copy.finish(123).equals(frame)).toBe(true);
  });

  it('decode a version 1 frame (48-byte records, from an engine before ownership) as shard 0 at epoch 0', () => {
    const v2 = oneOrder(Side.Buy, OrderType.Limit, 101.5, 3);
    // The same order as version 1: the first 48 bytes of the record, version byte 1.
    const v1 = Buffer.concat([v2.subarray(0, 24), v2.subarray(24, 24 + 48)]);
    v1[0] = 1;
    const { statuses, orders } = decodeAll(v1);
    expect(statuses).toEqual([DECODE_OK]);
    expect(orders[0]).toMatchObject({ orderId: 1, symbolId: 2, strategyId: 3, price: 101.5, quantity: 3, shard: 0, shardEpoch: 0 });
    // A 56-byte record under version byte 1, or a version 3, is refused by the header.
    const header = new FrameHeader();
    expect(decodeOrderFrameHeader(Buffer.concat([Buffer.from([1]), v2.subarray(1)]), header)).toBe(RejectReason.BadLength);
    expect(decodeOrderFrameHeader(Buffer.concat([Buffer.from([3]), v2.subarray(1)]), header)).toBe(RejectReason.UnknownVersion);
  });

  it('accept a market order with price 0', () => {
    expect(decodeAll(oneOrder(Side.Buy, OrderType.Market, 0, 1)).statuses).toEqual([DECODE_OK]);
  });

  it.each([
    ['side 0', oneOrder(0, OrderType.Limit, 1, 1), RejectReason.UnknownKind],
    ['side 3', oneOrder(3, OrderType.Limit, 1, 1), RejectReason.UnknownKind],
    ['order type 0', oneOrder(Side.Buy, 0, 1, 1), RejectReason.UnknownKind],
    ['order type 3', oneOrder(Side.Buy, 3, 1, 1), RejectReason.UnknownKind],
    ['a limit price of 0', oneOrder(Side.Buy, OrderType.Limit, 0, 1), RejectReason.BadPrice],
    ['a market price of -1', oneOrder(Side.Buy, OrderType.Market, -1, 1), RejectReason.BadPrice],
    ['a market price of NaN', oneOrder(Side.Buy, OrderType.Market, NaN, 1), RejectReason.BadPrice],
    ['a limit price of Infinity', oneOrder(Side.Sell, OrderType.Limit, Infinity, 1), RejectReason.BadPrice],
    ['quantity 0', oneOrder(Side.Sell, OrderType.Limit, 1, 0), RejectReason.BadSize],
    ['quantity NaN', oneOrder(Side.Sell, OrderType.Limit, 1, NaN), RejectReason.BadSize],
    ['quantity -Infinity', oneOrder(Side.Sell, OrderType.Limit, 1, -Infinity), RejectReason.BadSize],
  ])('reject an order with %s', (_name, frame, reason) => {
    expect(decodeAll(frame).statuses).toEqual([reason]);
  });
});
