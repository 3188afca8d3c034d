import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DenyReason, RiskEngine } from '../risk/risk-engine.ts';
import { FrameHeader, decodeFrameHeader } from '../wire/frame-header.ts';
import { MessageType, ORDER_BYTES, ORDER_WIRE_VERSION, OrderType, RejectReason, SIGNAL_BYTES, Side, TickKind, WIRE_VERSION } from '../wire/layout.ts';
import { OrderSlot, decodeOrder, decodeOrderFrameHeader } from '../wire/order-codec.ts';
import { SignalSlot, decodeSignal } from '../wire/signal-codec.ts';
import { SymbolTable, symbolId } from '../wire/symbol-id.ts';
import { TickFrameWriter } from '../wire/tick-codec.ts';
import { probeConfig } from '../../test/support/engine-config.ts';
import { createIntakeCounters } from './frame-intake.ts';
import { InlinePipeline } from './inline-pipeline.ts';
import { OrderIdSource } from './order.ts';
import { createProcessorCounters } from './tick-processor.ts';

/**
 * The engine against docs/wire.md, bytes in and bytes out: which tick kinds drive strategies, what an order's price
 * is, where a stream's sequences start. The hex vectors are the ones the spec prints ("Example: ticks to orders");
 * every test here fails if the engine and the spec disagree.
 */

const BTC = symbolId('BTC-USD');
const ETH = symbolId('ETH-USD');

/** The spec's input: stream 7, sequence 42: Bid 100.25 x 3, Ask 100.75 x 4, Trade 100.5 x 2.25 of BTC-USD. */
const TICKS_1 =
  '01010300070000002a00000000000000a4af0d8648700000' +
  '3109ed760200000000000000001059400000000000000840e80300000000000041af0d8648700000' +
  '3109ed760300000000000000003059400000000000001040e90300000000000042af0d8648700000' +
  '3109ed760100000000000000002059400000000000000240ea0300000000000043af0d8648700000';
/** Stream 7, sequence 45: Trade 100.5 x 1 of BTC-USD, no quote. */
const TICKS_2 =
  '01010100070000002d00000000000000f4720e8648700000' +
  '3109ed76010000000000000000205940000000000000f03feb0300000000000090720e8648700000';
/** What the engine sends for TICKS_1: a Buy at the ask, 100.75. */
const ORDERS_1 =
  '02030100bc0a00000000000000000000e8f5052a01000000' +
  '0100000007000000' + '3109ed76' + '0000' + '01' + '01' +
  '0000000000305940' + '000000000000f03f' + '43af0d8648700000' + '00f2052a01000000' + '00000000' + '0000' + '0000';
/** What the engine sends for TICKS_2: a Sell at the bid of the earlier frame, 100.25. */
const ORDERS_2 =
  '02030100bc0a00000100000000000000b8fd052a01000000' +
  '0200000007000000' + '3109ed76' + '0000' + '02' + '01' +
  '0000000000105940' + '000000000000f03f' + '90720e8648700000' + 'd0f9052a01000000' + '00000000' + '0000' + '0000';

function harness(overrides: Record<string, unknown> = {}) {
  const config = probeConfig({ symbols: ['BTC-USD', 'ETH-USD'], ...overrides });
  // Every clock read is 1 µs after the last, so a stamp tells which read made it.
  let now = 4_999_999_000;
  const clockNs = (): number => (now += 1_000);
  const orderFrames: Buffer[] = [];
  const signalFrames: Buffer[] = [];
  const intakeCounters = createIntakeCounters();
  const processorCounters = createProcessorCounters(config.strategies.length);
  const risk = new RiskEngine(config.risk, config.symbols.length);
  const pipeline = new InlinePipeline({
    config,
    symbols: new SymbolTable(config.symbols),
    risk,
    orderIds: new OrderIdSource(7),
    clockNs,
    intakeCounters,
    processorCounters,
    publisher: {
      publishOrders: (frame) => orderFrames.push(frame),
      publishSignals: (frame) => signalFrames.push(frame),
    },
    recordLatency: () => undefined,
    ordersStreamId: 0xabc,
    signalsStreamId: 0xabd,
  });
  let exchangeTs = 1;
  const sequences = new Map<number, number>();
  /** One frame of `ticks` [symbolId, kind, price, size] on `streamId` from `firstSequence`. */
  const send = (ticks: ReadonlyArray<readonly [number, number, number, number]>, streamId = 1, firstSequence?: number, topic?: string): void => {
    const writer = new TickFrameWriter(16);
    writer.begin(streamId, firstSequence ?? sequences.get(streamId) ?? 0);
    for (const [id, kind, price, size] of ticks) writer.append(id, kind, price, size, exchangeTs++, 1_000);
    sequences.set(streamId, (firstSequence ?? sequences.get(streamId) ?? 0) + ticks.length);
    pipeline.processFrame(writer.finishView(0), topic === undefined ? undefined : symbolId(topic));
  };
  return { config, pipeline, orderFrames, signalFrames, intakeCounters, processorCounters, risk, send };
}

function records<T>(frames: readonly Buffer[], type: number, bytes: number, decode: (frame: Uint8Array, i: number, header: FrameHeader, out: T) => number, make: () => T, version = WIRE_VERSION): T[] {
  const header = new FrameHeader();
  const out: T[] = [];
  for (const frame of frames) {
    expect(decodeFrameHeader(frame, type, bytes, header, version)).toBe(0);
    for (let i = 0; i < header.recordCount; i++) {
      const slot = make();
      expect(decode(frame, i, header, slot)).toBe(0);
      out.push(slot);
    }
  }
  return out;
}

const ordersOf = (frames: readonly Buffer[]): OrderSlot[] => records(frames, MessageType.OrderBatch, ORDER_BYTES, decodeOrder, () => new OrderSlot(), ORDER_WIRE_VERSION);
const signalsOf = (frames: readonly Buffer[]): SignalSlot[] => records(frames, MessageType.SignalBatch, SIGNAL_BYTES, decodeSignal, () => new SignalSlot());
/** [side, price] of every order sent. */
const sidesAndPrices = (frames: readonly Buffer[]): number[][] => ordersOf(frames).map((o) => [o.side, o.price]);

/** The hex of each code block of the spec's "Example: ticks to orders", one string per frame. */
function specVectors(): string[] {
  const doc = readFileSync(new URL('../../docs/wire.md', import.meta.url), 'utf8');
  const section = doc.split('\n## Example: ticks to orders\n')[1]?.split('\n## ')[0] ?? '';
  const blocks = [...section.matchAll(/```\n([\s\S]*?)```/g)].map((match) => match[1]);
  return blocks.flatMap((block) => {
    // A dump line is "OFFS  hex bytes   note"; a plain line is hex only. A blank line ends a frame.
    const frames = block.split('\n\n').map((frame) => frame.split('\n').map((line) => {
      const isDump = /^[0-9a-f]{4} {2}[0-9a-f]{2} /.test(line);
      return isDump ? line.slice(6).split('   ')[0].replace(/ /g, '') : line.trim();
    }).join(''));
    return frames.filter((frame) => frame !== '');
  });
}

describe('docs/wire.md: an order\'s price', () => {
  it('is the spec\'s example: the spec prints exactly the frames these tests send and expect', () => {
    expect(specVectors()).toEqual([TICKS_1, TICKS_2, ORDERS_1, ORDERS_2]);
  });

  it('turns the spec\'s tick frames into the spec\'s order frames: a buy at the last ask, then a sell at the last bid of an earlier frame', () => {
    const h = harness();
    h.pipeline.processFrame(Buffer.from(TICKS_1, 'hex'), BTC);
    h.pipeline.processFrame(Buffer.from(TICKS_2, 'hex'), BTC);
    expect(h.orderFrames.map((frame) => frame.toString('hex'))).toEqual([ORDERS_1, ORDERS_2]);

    const [buy, sell] = ordersOf(h.orderFrames);
    // Order ids are instance * 2^32 + n from n = 1; the order stream numbers its records from 0.
    expect([buy.orderId, sell.orderId]).toEqual([7 * 2 ** 32 + 1, 7 * 2 ** 32 + 2]);
    expect([buy.sequence, sell.sequence]).toEqual([0, 1]);
    expect([buy.orderType, buy.side, buy.price, buy.quantity]).toEqual([OrderType.Limit, Side.Buy, 100.75, 1]);
    expect([sell.orderType, sell.side, sell.price, sell.quantity]).toEqual([OrderType.Limit, Side.Sell, 100.25, 1]);
    // orderMonoNs is the clock read that began the frame; the frame's sentMonoNs the read at hand-off, 1 µs later.
    expect(buy.orderMonoNs).toBe(5_000_000_000);
    const header = new FrameHeader();
    decodeOrderFrameHeader(h.orderFrames[0], header);
    expect(header.sentMonoNs).toBe(5_000_001_000);

    // The signal carries the trade's price, strength 1, and the same stamp as its order.
    const signals = signalsOf(h.signalFrames);
    expect(signals.map((s) => [s.side, s.price, s.strength, s.signalMonoNs])).toEqual([
      [1, 100.5, 1, 5_000_000_000],
      [-1, 100.5, 1, 5_000_002_000],
    ]);
  });

  it('prices an order at the trade that made it when no quote of the side it crosses has been seen', () => {
    const h = harness();
    h.send([[BTC, TickKind.Bid, 99, 1], [BTC, TickKind.Trade, 100, 1]]); // probe buys: no ask yet
    h.send([[BTC, TickKind.Trade, 101, 1]]); // probe sells: at the bid
    h.send([[ETH, TickKind.Ask, 51, 1], [ETH, TickKind.Trade, 50, 1]]); // the other symbol's book is its own
    h.send([[ETH, TickKind.Trade, 49, 1]]); // sell: no bid for ETH-USD, so the trade
    expect(sidesAndPrices(h.orderFrames)).toEqual([[Side.Buy, 100], [Side.Sell, 99], [Side.Buy, 51], [Side.Sell, 49]]);
  });

  it('keeps a quote however old, of any size, crossed or not: only the next quote of the same side replaces it', () => {
    const h = harness();
    h.send([[BTC, TickKind.Ask, 101, 5], [BTC, TickKind.Bid, 99, 5]]);
    for (let i = 0; i < 100; i++) h.send([[BTC, TickKind.Trade, 100 + (i % 3), 1]]);
    const prices = sidesAndPrices(h.orderFrames);
    expect(prices).toHaveLength(100);
    expect(prices.every(([side, price]) => price === (side === Side.Buy ? 101 : 99))).toBe(true);

    h.orderFrames.length = 0;
    h.send([[BTC, TickKind.Ask, 100.5, 0], [BTC, TickKind.Trade, 100, 1]]); // size 0 does not remove the ask
    h.send([[BTC, TickKind.Bid, 102, 1], [BTC, TickKind.Ask, 98, 1], [BTC, TickKind.Trade, 100, 1]]); // crossed
    h.send([[BTC, TickKind.Trade, 100, 1]]);
    expect(sidesAndPrices(h.orderFrames)).toEqual([[Side.Buy, 100.5], [Side.Sell, 102], [Side.Buy, 98]]);
  });

  it('denies an order whose price lies outside the price band around the last trade, and still publishes its signal', () => {
    const h = harness({ risk: { priceBandBps: 100, maxOrderQty: 10, maxPosition: 100, maxNotional: 1e9, ordersEnabled: true } });
    h.send([[BTC, TickKind.Ask, 101.01, 1], [BTC, TickKind.Trade, 100, 1]]); // 1.01 % above the trade
    expect(h.orderFrames).toHaveLength(0);
    expect(h.risk.denialCount(DenyReason.PriceBand)).toBe(1);
    expect(signalsOf(h.signalFrames).map((s) => [s.side, s.price])).toEqual([[1, 100]]);
    // The probe, flat after a denied buy, sells next: at a bid exactly 1 % below the trade, inside the band.
    h.send([[BTC, TickKind.Bid, 99, 1], [BTC, TickKind.Trade, 100, 1]]);
    expect(sidesAndPrices(h.orderFrames)).toEqual([[Side.Sell, 99]]);
  });
});

describe('docs/wire.md: what each tick kind drives', () => {
  it('runs no strategy on a quote: a frame of bids and asks makes no signal and no order', () => {
    const h = harness();
    h.send([[BTC, TickKind.Bid, 99, 1], [BTC, TickKind.Ask, 101, 1], [ETH, TickKind.Bid, 49, 1], [ETH, TickKind.Ask, 51, 1]]);
    expect(h.intakeCounters.ticksAccepted).toBe(4);
    expect([h.orderFrames.length, h.signalFrames.length, h.processorCounters.tradesProcessed]).toEqual([0, 0, 0]);
    h.send([[BTC, TickKind.Trade, 100, 1], [BTC, TickKind.Trade, 100, 1], [ETH, TickKind.Trade, 50, 1]]);
    expect(signalsOf(h.signalFrames)).toHaveLength(3); // probe: one signal per trade, every trade
  });

  it('feeds indicators from trades only: quotes between the trades leave every signal as it was', () => {
    const rsi = {
      indicators: [{ name: 'rsi-3', type: 'rsi', params: { period: 3 } }],
      strategies: [{ name: 'rsi', type: 'rsiReversion', indicators: ['rsi-3'], params: { orderQuantity: 1, oversold: 30, overbought: 70 } }],
    };
    const trades = [100, 99, 98, 97, 96, 97, 98, 99, 100, 101, 102, 103, 102, 101, 100, 99, 98];
    const tradesOnly = harness(rsi);
    const withQuotes = harness(rsi);
    for (const price of trades) {
      tradesOnly.send([[BTC, TickKind.Trade, price, 1]]);
      // Quotes 30 % either side: within the 50 % price band, so orders (and positions) stay the same too.
      withQuotes.send([[BTC, TickKind.Bid, price * 0.7, 1], [BTC, TickKind.Ask, price * 1.3, 1], [BTC, TickKind.Trade, price, 1]]);
    }
    const view = (frames: readonly Buffer[]): number[][] => signalsOf(frames).map((s) => [s.side, s.price, s.strategyId]);
    expect(view(tradesOnly.signalFrames).length).toBeGreaterThanOrEqual(2);
    expect(view(withQuotes.signalFrames)).toEqual(view(tradesOnly.signalFrames));
    expect(ordersOf(withQuotes.orderFrames).map((o) => o.side)).toEqual(ordersOf(tradesOnly.orderFrames).map((o) => o.side));
  });

  it('drops a tick whose exchange time is behind the last accepted tick of its symbol, whatever its kind or stream', () => {
    const h = harness();
    const writer = new TickFrameWriter(4);
    const sendAt = (streamId: number, first: number, kind: number, price: number, exchangeTs: number): void => {
      writer.begin(streamId, first);
      writer.append(BTC, kind, price, 1, exchangeTs, 0);
      h.pipeline.processFrame(writer.finishView(0));
    };
    sendAt(1, 0, TickKind.Trade, 100, 500);
    sendAt(2, 0, TickKind.Ask, 100.5, 499); // another stream, older exchange time: dropped, the book keeps no ask
    expect(h.intakeCounters.ticksRejected[RejectReason.OutOfOrder]).toBe(1);
    sendAt(2, 1, TickKind.Ask, 100.25, 500); // equal exchange time: accepted
    sendAt(1, 1, TickKind.Trade, 100, 501); // probe sells (no bid: the trade's price) ...
    sendAt(1, 2, TickKind.Trade, 100, 502); // ... then buys at the ask of stream 2
    expect(sidesAndPrices(h.orderFrames)).toEqual([[Side.Buy, 100], [Side.Sell, 100], [Side.Buy, 100.25]]);
  });
});

describe('docs/wire.md: where a stream\'s sequences start', () => {
  it.each([0, 1, 2 ** 32 + 5, 2 ** 53 - 2])('accepts %d as the first sequence of a new stream and counts no loss', (first) => {
    const h = harness();
    h.send([[BTC, TickKind.Trade, 100, 1]], 9, first, 'BTC-USD');
    h.send([[BTC, TickKind.Trade, 100, 1]], 9, first + 1, 'BTC-USD');
    expect([h.intakeCounters.ticksAccepted, h.intakeCounters.ticksLost, h.intakeCounters.framesRejected[RejectReason.OutOfOrder]]).toEqual([2, 0, 0]);
  });

  it('keeps a stream\'s expectation for the engine\'s life: a publisher restarting at 0 must take a new streamId', () => {
    const h = harness();
    h.send([[BTC, TickKind.Trade, 100, 1], [BTC, TickKind.Trade, 100, 1]], 9, 0, 'BTC-USD');
    h.send([[BTC, TickKind.Trade, 100, 1]], 9, 0, 'BTC-USD'); // the same streamId from 0 again
    h.send([[BTC, TickKind.Trade, 100, 1]], 9, 1, 'BTC-USD');
    expect(h.intakeCounters.framesRejected[RejectReason.OutOfOrder]).toBe(2);
    h.send([[BTC, TickKind.Trade, 100, 1]], 10, 0, 'BTC-USD'); // a new streamId is a new stream
    expect([h.intakeCounters.ticksAccepted, h.intakeCounters.ticksLost]).toEqual([3, 0]);
  });

  it('moves the expectation past a frame whose records are all rejected, and not past a frame the frame checks reject', () => {
    const h = harness();
    h.send([[BTC, TickKind.Trade, Number.NaN, 1], [symbolId('NOPE'), TickKind.Trade, 100, 1]], 9, 0, 'BTC-USD');
    const writer = new TickFrameWriter(4);
    writer.begin(9, 2);
    writer.append(BTC, TickKind.Trade, 100, 1, 10_000, 0);
    const truncated = writer.finish(0).subarray(0, 50);
    h.pipeline.processFrame(truncated, BTC); // sequence 2, but rejected as bad_length before it is tracked
    h.send([[BTC, TickKind.Trade, 100, 1]], 9, 2, 'BTC-USD');
    expect(h.intakeCounters.framesRejected[RejectReason.BadLength]).toBe(1);
    expect([h.intakeCounters.ticksAccepted, h.intakeCounters.ticksLost]).toEqual([1, 0]);
    h.send([[BTC, TickKind.Trade, 100, 1]], 9, 0, 'BTC-USD'); // behind: the all-rejected frame moved the expectation
    expect(h.intakeCounters.framesRejected[RejectReason.OutOfOrder]).toBe(1);
  });
});
