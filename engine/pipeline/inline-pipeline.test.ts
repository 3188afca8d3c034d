import { describe, expect, it } from 'vitest';
import { ManualClock, monoNowNs } from '../clock/monotonic.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { FrameHeader } from '../wire/frame-header.ts';
import { RejectReason, TickKind } from '../wire/layout.ts';
import { OrderSlot, decodeOrder, decodeOrderFrameHeader } from '../wire/order-codec.ts';
import { SymbolTable, symbolId } from '../wire/symbol-id.ts';
import { TickFrameWriter } from '../wire/tick-codec.ts';
import { createIntakeCounters } from './frame-intake.ts';
import { InlinePipeline } from './inline-pipeline.ts';
import { OrderIdSource } from './order.ts';
import { probeConfig } from '../../test/support/engine-config.ts';
import { createProcessorCounters } from './tick-processor.ts';

function harness(overrides: Record<string, unknown> = {}) {
  const config = probeConfig(overrides);
  const clock = new ManualClock(1_000_000_000);
  const orderFrames: Buffer[] = [];
  const signalCounts: number[] = [];
  const latencies: number[] = [];
  const intakeCounters = createIntakeCounters();
  const processorCounters = createProcessorCounters(config.strategies.length);
  const risk = new RiskEngine(config.risk, config.symbols.length);
  const pipeline = new InlinePipeline({
    config,
    symbols: new SymbolTable(config.symbols),
    risk,
    orderIds: new OrderIdSource(7),
    clockNs: () => clock.nowNs(),
    intakeCounters,
    processorCounters,
    publisher: {
      publishOrders: (frame) => orderFrames.push(frame),
      publishSignals: (_frame, count) => signalCounts.push(count),
    },
    recordLatency: (ns) => latencies.push(ns),
    ordersStreamId: 99,
    signalsStreamId: 98,
  });
  return { config, clock, pipeline, orderFrames, signalCounts, latencies, intakeCounters, processorCounters, risk };
}

function decodeOrders(frames: readonly Buffer[]): OrderSlot[] {
  const header = new FrameHeader();
  const orders: OrderSlot[] = [];
  for (const frame of frames) {
    expect(decodeOrderFrameHeader(frame, header)).toBe(0);
    for (let i = 0; i < header.recordCount; i++) {
      const slot = new OrderSlot();
      expect(decodeOrder(frame, i, header, slot)).toBe(0);
      orders.push(slot);
    }
  }
  return orders;
}

describe('InlinePipeline', () => {
  it('warms up as its start, on a scratch pipeline: nothing is published and no real counter moves', async () => {
    const h = harness({ warmupTicks: 500 });
    const report = await h.pipeline.start();
    expect(report.ticks).toBe(500);
    expect(report.orders).toBeGreaterThan(0);
    expect(h.orderFrames).toEqual([]);
    expect(h.signalCounts).toEqual([]);
    expect(h.processorCounters.tradesProcessed).toBe(0);
    expect(h.intakeCounters.framesReceived).toBe(0);
  });

  it('turns every probe trade into one order and records its tick-to-order latency at hand-off', () => {
    const h = harness();
    const writer = new TickFrameWriter(16);
    writer.begin(1, 0);
    writer.append(symbolId('AAPL'), TickKind.Trade, 190.5, 100, 1, h.clock.nowNs() - 40_000);
    writer.append(symbolId('MSFT'), TickKind.Trade, 410.25, 10, 2, h.clock.nowNs() - 25_000);
    h.pipeline.processFrame(writer.finishView(h.clock.nowNs()));

    const orders = decodeOrders(h.orderFrames);
    expect(orders).toHaveLength(2);
    expect(orders.map((o) => o.symbolId)).toEqual([symbolId('AAPL'), symbolId('MSFT')]);
    expect(orders.map((o) => o.price)).toEqual([190.5, 410.25]);
    expect(h.latencies).toEqual([40_000, 25_000]);
    expect(h.signalCounts).toEqual([2]);
    expect(h.processorCounters.ordersAccepted).toBe(2);
  });

  it('buys at the ask and sells at the bid once quotes are known', () => {
    const h = harness();
    const writer = new TickFrameWriter(16);
    writer.begin(1, 0);
    const id = symbolId('NVDA');
    writer.append(id, TickKind.Bid, 99.9, 5, 1, h.clock.nowNs());
    writer.append(id, TickKind.Ask, 100.1, 5, 2, h.clock.nowNs());
    writer.append(id, TickKind.Trade, 100, 5, 3, h.clock.nowNs());
    writer.append(id, TickKind.Trade, 100, 5, 4, h.clock.nowNs());
    h.pipeline.processFrame(writer.finishView(h.clock.nowNs()));
    const orders = decodeOrders(h.orderFrames);
    expect(orders.map((o) => [o.side, o.price])).toEqual([[1, 100.1], [2, 99.9]]);
  });

  it('counts bad ticks by reason, drops them alone and keeps processing the frame', () => {
    const h = harness();
    const writer = new TickFrameWriter(16);
    writer.begin(1, 0);
    const id = symbolId('AAPL');
    writer.append(symbolId('UNKNOWN'), TickKind.Trade, 10, 1, 1, h.clock.nowNs());
    writer.append(id, TickKind.Trade, Number.NaN, 1, 2, h.clock.nowNs());
    writer.append(id, TickKind.Trade, -5, 1, 3, h.clock.nowNs());
    writer.append(id, TickKind.Trade, 10, Number.POSITIVE_INFINITY, 4, h.clock.nowNs());
    writer.append(id, TickKind.Trade, 10, 1, 100, h.clock.nowNs());
    writer.append(id, TickKind.Trade, 10, 1, 50, h.clock.nowNs()); // exchange time goes backwards
    writer.append(id, TickKind.Trade, 11, 1, 101, h.clock.nowNs());
    h.pipeline.processFrame(writer.finishView(h.clock.nowNs()));
    const rejected = h.intakeCounters.ticksRejected;
    expect(rejected[RejectReason.UnknownSymbol]).toBe(1);
    expect(rejected[RejectReason.BadPrice]).toBe(2);
    expect(rejected[RejectReason.BadSize]).toBe(1);
    expect(rejected[RejectReason.OutOfOrder]).toBe(1);
    expect(h.intakeCounters.ticksAccepted).toBe(2);
    expect(decodeOrders(h.orderFrames)).toHaveLength(2);
  });

  it('drops malformed frames whole, counted by reason, and never throws', () => {
    const h = harness();
    const writer = new TickFrameWriter(4);
    writer.begin(1, 0);
    writer.append(symbolId('AAPL'), TickKind.Trade, 10, 1, 1, 0);
    const valid = Buffer.from(writer.finish(0));
    h.pipeline.processFrame(valid.subarray(0, valid.length - 3));
    const wrongVersion = Buffer.from(valid);
    wrongVersion[0] = 9;
    h.pipeline.processFrame(wrongVersion);
    h.pipeline.processFrame(new Uint8Array(0));
    const counted = h.intakeCounters.framesRejected;
    expect(counted[RejectReason.UnknownVersion]).toBe(1);
    expect(counted[RejectReason.Truncated] + counted[RejectReason.BadLength]).toBe(2);
    expect(h.orderFrames).toHaveLength(0);
  });

  it('counts sequence gaps in a stream as lost ticks', () => {
    const h = harness();
    const writer = new TickFrameWriter(4);
    const send = (first: number): void => {
      writer.begin(5, first);
      writer.append(symbolId('AAPL'), TickKind.Trade, 10, 1, first + 1, 0);
      h.pipeline.processFrame(writer.finishView(0));
    };
    send(0);
    send(1);
    send(5); // 2, 3, 4 were lost
    expect(h.intakeCounters.ticksLost).toBe(3);
  });

  it('drops a frame behind its stream as out_of_order and keeps the expectation (docs/wire.md)', () => {
    const h = harness();
    const writer = new TickFrameWriter(4);
    const send = (first: number, exchangeTs: number): void => {
      writer.begin(5, first);
      writer.append(symbolId('AAPL'), TickKind.Trade, 10, 1, exchangeTs, 0);
      h.pipeline.processFrame(writer.finishView(0), symbolId('AAPL'));
    };
    send(0, 1);
    send(1, 2);
    send(0, 3); // a replay of sequence 0
    expect(h.intakeCounters.framesRejected[RejectReason.OutOfOrder]).toBe(1);
    expect(h.intakeCounters.ticksAccepted).toBe(2);
    send(2, 4); // the next in-order frame: nothing lost
    expect(h.intakeCounters.ticksLost).toBe(0);
    expect(h.intakeCounters.ticksAccepted).toBe(3);
  });

  it('tracks a stream by its topic and streamId: two topics may number their frames alike', () => {
    const h = harness();
    const writer = new TickFrameWriter(4);
    let exchangeTs = 1;
    const send = (symbol: string, first: number): void => {
      writer.begin(7, first);
      writer.append(symbolId(symbol), TickKind.Trade, 10, 1, exchangeTs++, 0);
      h.pipeline.processFrame(writer.finishView(0), symbolId(symbol));
    };
    for (let sequence = 0; sequence < 3; sequence++) {
      send('AAPL', sequence);
      send('MSFT', sequence);
    }
    expect(h.intakeCounters.ticksLost).toBe(0);
    expect(h.intakeCounters.framesRejected[RejectReason.OutOfOrder]).toBe(0);
    expect(h.intakeCounters.ticksAccepted).toBe(6);
  });

  it('drops a record whose symbol is not its symbol topic as bad_topic; a channel topic may batch symbols', () => {
    const h = harness();
    const writer = new TickFrameWriter(4);
    writer.begin(1, 0);
    writer.append(symbolId('AAPL'), TickKind.Trade, 10, 1, 1, 0);
    writer.append(symbolId('MSFT'), TickKind.Trade, 10, 1, 1, 0);
    h.pipeline.processFrame(writer.finishView(0), symbolId('AAPL'));
    expect(h.intakeCounters.ticksRejected[RejectReason.BadTopic]).toBe(1);
    expect(h.intakeCounters.ticksAccepted).toBe(1);
    writer.begin(2, 0);
    writer.append(symbolId('AAPL'), TickKind.Trade, 10, 1, 2, 0);
    writer.append(symbolId('MSFT'), TickKind.Trade, 10, 1, 2, 0);
    h.pipeline.processFrame(writer.finishView(0), symbolId('ticks'));
    expect(h.intakeCounters.ticksRejected[RejectReason.BadTopic]).toBe(1);
    expect(h.intakeCounters.ticksAccepted).toBe(3);
  });

  it('routes every order through risk: orders-off denies and counts, nothing is published', () => {
    const h = harness();
    h.risk.setOrdersEnabled(false);
    const writer = new TickFrameWriter(4);
    writer.begin(1, 0);
    writer.append(symbolId('AAPL'), TickKind.Trade, 10, 1, 1, 0);
    h.pipeline.processFrame(writer.finishView(0));
    expect(h.orderFrames).toHaveLength(0);
    expect(h.processorCounters.ordersDenied).toBe(1);
    expect(h.signalCounts).toEqual([1]);
  });

  it('flushes a full order frame mid-input and keeps sequence numbers contiguous', () => {
    const h = harness();
    const writer = new TickFrameWriter(3000);
    writer.begin(1, 0);
    for (let i = 0; i < 2500; i++) writer.append(symbolId('AAPL'), TickKind.Trade, 10 + (i % 7), 1, i + 1, 0);
    h.pipeline.processFrame(writer.finishView(0));
    const header = new FrameHeader();
    const firsts = h.orderFrames.map((frame) => {
      decodeOrderFrameHeader(frame, header);
      return [header.firstSequence, header.recordCount];
    });
    expect(firsts).toEqual([[0, 1024], [1024, 1024], [2048, 452]]);
  });
});

/** An inline pipeline on the real monotonic clock that keeps every recorded tick-to-order latency. */
function measuredPipeline(overrides: Record<string, unknown>): { pipeline: InlinePipeline; latencies: number[]; orders: () => number } {
  const config = probeConfig(overrides);
  const latencies: number[] = [];
  let orders = 0;
  const pipeline = new InlinePipeline({
    config,
    symbols: new SymbolTable(config.symbols),
    risk: new RiskEngine(config.risk, config.symbols.length),
    orderIds: new OrderIdSource(1),
    clockNs: monoNowNs,
    intakeCounters: createIntakeCounters(),
    processorCounters: createProcessorCounters(config.strategies.length),
    publisher: { publishOrders: (_frame, count) => (orders += count), publishSignals: () => undefined },
    recordLatency: (ns) => latencies.push(ns),
    ordersStreamId: 1,
    signalsStreamId: 2,
  });
  return { pipeline, latencies, orders: () => orders };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

describe('InlinePipeline fault injection', () => {
  it('raises the measured tick-to-order latency by at least faultInjection.extraLatencyMicros at the median', () => {
    const baseline = measuredPipeline({});
    const delayed = measuredPipeline({ faultInjection: { extraLatencyMicros: 300 } });
    const writer = new TickFrameWriter(1);
    const symbols = ['AAPL', 'MSFT', 'NVDA', 'AMZN'];
    for (let i = 0; i < 101; i++) {
      // One trade per frame, so no order waits behind another's delay. The same frame (same publish stamp) goes
      // through the undelayed pipeline first and the delayed one right after: each delayed latency then contains
      // the undelayed one plus the injected wait, so the bound below holds however loaded the machine is.
      writer.begin(1, i);
      writer.append(symbolId(symbols[i % symbols.length]), TickKind.Trade, 100 + (i % 10), 1, i + 1, monoNowNs());
      const frame = writer.finishView(monoNowNs());
      baseline.pipeline.processFrame(frame);
      delayed.pipeline.processFrame(frame);
    }
    expect(baseline.latencies).toHaveLength(101);
    expect(delayed.latencies).toHaveLength(101);
    expect(delayed.orders()).toBe(101);
    expect(median(delayed.latencies) - median(baseline.latencies)).toBeGreaterThanOrEqual(300_000);
  });
});
