import { describe, expect, it } from 'vitest';
import { FrameHeader, decodeFrameHeader } from './frame-header.ts';
import { DECODE_OK, HEADER_BYTES, MessageType, RejectReason, TICK_BYTES, TickKind } from './layout.ts';
import { symbolId } from './symbol-id.ts';
import { TickFrameWriter, TickSlot, decodeTick } from './tick-codec.ts';

/** One Trade of BTC-USD, 100.5 x 2.25, stream 7, sequence 42; the layout in docs/wire.md, byte for byte. */
const GOLDEN_TICK_FRAME =
  '0101010007000000' + // version 1, type 1 MarketDataBatch, recordCount 1, streamId 7
  '2a00000000000000' + // firstSequence 42
  '7bca9a3b00000000' + // sentMonoNs 1,000,000,123
  '3109ed7601000000' + // symbolId 0x76ed0931 (BTC-USD), kind 1 Trade, flags 0, reserved 0
  '0000000000205940' + // price 100.5
  '0000000000000240' + // size 2.25
  '00002a36fe9c9717' + // exchangeTsNs 1,700,000,000,000,000,000
  '79df0d8648700000'; //  publishMonoNs 123,456,789,012,345

function decodeAll(frame: Uint8Array): { status: number; header: FrameHeader; ticks: TickSlot[]; statuses: number[] } {
  const header = new FrameHeader();
  const status = decodeFrameHeader(frame, MessageType.MarketDataBatch, TICK_BYTES, header);
  const ticks: TickSlot[] = [];
  const statuses: number[] = [];
  if (status === DECODE_OK) {
    for (let i = 0; i < header.recordCount; i++) {
      const tick = new TickSlot();
      statuses.push(decodeTick(frame, i, header, tick));
      ticks.push(tick);
    }
  }
  return { status, header, ticks, statuses };
}

describe('tick frames', () => {
  it('encode to the golden bytes', () => {
    const writer = new TickFrameWriter(4);
    writer.begin(7, 42);
    writer.append(symbolId('BTC-USD'), TickKind.Trade, 100.5, 2.25, 1_700_000_000_000_000_000, 123_456_789_012_345);
    expect(writer.finish(1_000_000_123).toString('hex')).toBe(GOLDEN_TICK_FRAME);
  });

  it('decode the golden bytes', () => {
    const { status, header, ticks, statuses } = decodeAll(Uint8Array.from(Buffer.from(GOLDEN_TICK_FRAME, 'hex')));
    expect(status).toBe(DECODE_OK);
    expect(statuses).toEqual([DECODE_OK]);
    expect(header.streamId).toBe(7);
    expect(header.sentMonoNs).toBe(1_000_000_123);
    expect({ ...ticks[0] }).toEqual({
      symbolId: 0x76ed0931,
      kind: TickKind.Trade,
      price: 100.5,
      size: 2.25,
      exchangeTsNs: 1_700_000_000_000_000_000,
      publishMonoNs: 123_456_789_012_345,
      sequence: 42,
    });
  });

  it('round-trip edge values', () => {
    const rows: [number, number, number, number, number, number][] = [
      [0xffffffff, TickKind.Ask, Number.MAX_VALUE, 0, 2 ** 53 - 1, 2 ** 53],
      [0, TickKind.Bid, Number.MIN_VALUE, -0, 0, 0],
      [1, TickKind.Trade, 1e-300, 1e300, 2 ** 32, 2 ** 32 - 1],
    ];
    const writer = new TickFrameWriter(3);
    writer.begin(0xffffffff, 2 ** 53 - 3);
    for (const row of rows) writer.append(...row);
    const { status, header, ticks, statuses } = decodeAll(writer.finish(2 ** 53));
    expect(status).toBe(DECODE_OK);
    expect(statuses).toEqual([DECODE_OK, DECODE_OK, DECODE_OK]);
    expect(header.streamId).toBe(0xffffffff);
    expect(header.sentMonoNs).toBe(2 ** 53);
    ticks.forEach((tick, i) => {
      const [id, kind, price, size, exchangeTsNs, publishMonoNs] = rows[i];
      expect(tick.symbolId).toBe(id);
      expect(tick.kind).toBe(kind);
      expect(Object.is(tick.price, price)).toBe(true);
      expect(Object.is(tick.size, size)).toBe(true);
      expect(tick.exchangeTsNs).toBe(exchangeTsNs);
      expect(tick.publishMonoNs).toBe(publishMonoNs);
      expect(tick.sequence).toBe(2 ** 53 - 3 + i);
    });
  });

  it.each([
    ['kind 0', 4, 0, RejectReason.UnknownKind],
    ['kind 4', 4, 4, RejectReason.UnknownKind],
  ])('reject a tick with %s', (_name, offset, value, reason) => {
    const frame = oneTick(100, 1);
    frame[HEADER_BYTES + offset] = value;
    expect(decodeAll(frame).statuses).toEqual([reason]);
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['0', 0],
    ['-0', -0],
    ['-1', -1],
  ])('reject a price of %s', (_name, price) => {
    expect(decodeAll(oneTick(price, 1)).statuses).toEqual([RejectReason.BadPrice]);
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-1e-300', -1e-300],
  ])('reject a size of %s', (_name, size) => {
    expect(decodeAll(oneTick(100, size)).statuses).toEqual([RejectReason.BadSize]);
  });

  it('ignore the flags and reserved bytes on read', () => {
    const frame = oneTick(100, 1);
    frame.fill(0xff, HEADER_BYTES + 5, HEADER_BYTES + 8);
    expect(decodeAll(frame).statuses).toEqual([DECODE_OK]);
  });

  it('decode plain Uint8Array views inside a larger buffer', () => {
    const frame = oneTick(99.25, 3);
    const backing = new Uint8Array(frame.length + 13);
    backing.set(frame, 5);
    const { statuses, ticks } = decodeAll(backing.subarray(5, 5 + frame.length));
    expect(statuses).toEqual([DECODE_OK]);
    expect(ticks[0].price).toBe(99.25);
  });
});

describe('TickFrameWriter', () => {
  it('returns from finish a copy that later frames do not touch', () => {
    const writer = new TickFrameWriter(2);
    writer.begin(1, 10);
    writer.append(5, TickKind.Bid, 10, 1, 0, 0);
    const first = writer.finish(1);
    writer.begin(1, 11);
    writer.append(6, TickKind.Ask, 20, 2, 0, 0);
    writer.finish(2);
    expect(decodeAll(first).ticks[0].symbolId).toBe(5);
  });

  it('returns from finishView a view of its own bytes, exactly as long as the frame', () => {
    const writer = new TickFrameWriter(8);
    writer.begin(1, 10);
    writer.append(5, TickKind.Bid, 10, 1, 0, 0);
    writer.append(6, TickKind.Bid, 11, 1, 0, 0);
    const view = writer.finishView(3);
    expect(view.length).toBe(HEADER_BYTES + 2 * TICK_BYTES);
    expect(Buffer.from(view).equals(writer.finish(3))).toBe(true);
  });

  it('hands back the same view object for frames of the same record count', () => {
    const writer = new TickFrameWriter(4);
    const views: Uint8Array[] = [];
    for (let frame = 0; frame < 3; frame++) {
      writer.begin(1, frame);
      writer.append(5, TickKind.Bid, 10 + frame, 1, 0, 0);
      views.push(writer.finishView(frame));
    }
    expect(views[1]).toBe(views[0]);
    expect(views[2]).toBe(views[0]);
    expect(decodeAll(views[2]).ticks[0].price).toBe(12);
  });

  it('counts records, reports full, and refuses one more', () => {
    const writer = new TickFrameWriter(2);
    writer.begin(1, 0);
    expect([writer.count, writer.isFull]).toEqual([0, false]);
    writer.append(1, TickKind.Trade, 1, 1, 0, 0);
    writer.append(1, TickKind.Trade, 1, 1, 0, 0);
    expect([writer.count, writer.isFull, writer.byteLength]).toEqual([2, true, HEADER_BYTES + 2 * TICK_BYTES]);
    expect(() => writer.append(1, TickKind.Trade, 1, 1, 0, 0)).toThrow(/full \(2 records\)/);
    writer.begin(1, 2);
    expect([writer.count, writer.isFull]).toEqual([0, false]);
  });

  it('refuses to finish an empty frame', () => {
    const writer = new TickFrameWriter(2);
    writer.begin(1, 0);
    expect(() => writer.finish(0)).toThrow(/no records/);
  });

  it('refuses a capacity outside 1..4096', () => {
    expect(() => new TickFrameWriter(0)).toThrow(RangeError);
    expect(() => new TickFrameWriter(4097)).toThrow(RangeError);
    expect(new TickFrameWriter().capacity).toBe(4096);
  });

  it('re-encodes a decoded slot', () => {
    const tick = decodeAll(Buffer.from(GOLDEN_TICK_FRAME, 'hex')).ticks[0];
    const writer = new TickFrameWriter(1);
    writer.begin(7, 42);
    writer.appendSlot(tick);
    expect(writer.finish(1_000_000_123).toString('hex')).toBe(GOLDEN_TICK_FRAME);
  });
});

function oneTick(price: number, size: number): Buffer {
  const writer = new TickFrameWriter(1);
  writer.begin(1, 1);
  writer.append(42, TickKind.Trade, price, size, 1, 1);
  return writer.finish(1);
}
