import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { monoNowNs } from '../clock/monotonic.ts';
import { DENY_REASON_SLOTS, DenyReason, RiskEngine } from '../risk/risk-engine.ts';
import { FrameHeader } from '../wire/frame-header.ts';
import { RejectReason, Side, TickKind } from '../wire/layout.ts';
import { OrderSlot, decodeOrder, decodeOrderFrameHeader } from '../wire/order-codec.ts';
import { SymbolTable, symbolId } from '../wire/symbol-id.ts';
import { TickFrameWriter } from '../wire/tick-codec.ts';
import { createIntakeCounters } from './frame-intake.ts';
import { probeConfig } from '../../test/support/engine-config.ts';
import { createProcessorCounters } from './tick-processor.ts';
import { WorkersPipeline, type WorkersPipelineOptions } from './workers-pipeline.ts';
import { LatencyHistogram } from '../metrics/latency-histogram.ts';

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN'];

function harness(pipeline: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}, extra: Partial<WorkersPipelineOptions> = {}) {
  const config = probeConfig({
    pipeline: { layout: 'workers', workers: 2, ringCapacity: 1024, waitStrategy: 'block', ...pipeline },
    ...overrides,
  });
  const orderFrames: Buffer[] = [];
  let signals = 0;
  const latencies: number[] = [];
  const failures: string[] = [];
  const intakeCounters = createIntakeCounters();
  const processorCounters = createProcessorCounters(config.strategies.length);
  const denials = new Float64Array(DENY_REASON_SLOTS);
  const risk = new RiskEngine(config.risk, config.symbols.length);
  const decisions = new LatencyHistogram();
  const pipelineUnderTest = new WorkersPipeline({
    config,
    symbols: new SymbolTable(config.symbols),
    risk,
    instanceId: 0x12345,
    clockNs: monoNowNs,
    intakeCounters,
    processorCounters,
    denials,
    publisher: {
      publishOrders: (frame) => orderFrames.push(frame),
      publishSignals: (_frame, count) => (signals += count),
    },
    recordLatency: (ns) => latencies.push(ns),
    decisions: { record: { recordSince: () => { throw new Error('the workers layout records decisions in its workers'); } }, targets: [decisions] },
    ordersStreamId: 99,
    signalsStreamId: 98,
    log: () => undefined,
    onWorkerFailure: (worker, error) => failures.push(`${worker}: ${error.message}`),
    ...extra,
  });
  started.push(pipelineUnderTest);
  return {
    config,
    pipeline: pipelineUnderTest,
    orderFrames,
    signals: () => signals,
    latencies,
    decisions,
    failures,
    intakeCounters,
    processorCounters,
    denials,
    risk,
  };
}

const started: WorkersPipeline[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((pipeline) => pipeline.drain(5_000)));
});

function decodeOrders(frames: readonly Buffer[]): OrderSlot[] {
  const header = new FrameHeader();
  const orders: OrderSlot[] = [];
  let nextSequence = 0;
  for (const frame of frames) {
    expect(decodeOrderFrameHeader(frame, header)).toBe(0);
    expect(header.firstSequence).toBe(nextSequence);
    nextSequence += header.recordCount;
    for (let i = 0; i < header.recordCount; i++) {
      const slot = new OrderSlot();
      expect(decodeOrder(frame, i, header, slot)).toBe(0);
      orders.push(slot);
    }
  }
  return orders;
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Trade `i` of symbol `s` is priced 100 * (s + 1) + i / 1000, so an order's price names its trade. */
/** Frames of trades on one stream, numbered from 0: a second batch on the same stream needs its own `streamId` (docs/wire.md). */
function tradeFrames(frames: number, tradesPerSymbolPerFrame: number, firstExchangeTs = 1, streamId = 1): Uint8Array[] {
  const writer = new TickFrameWriter(SYMBOLS.length * tradesPerSymbolPerFrame);
  const out: Uint8Array[] = [];
  let exchangeTs = firstExchangeTs;
  const counts = [0, 0, 0, 0];
  for (let f = 0; f < frames; f++) {
    writer.begin(streamId, f * SYMBOLS.length * tradesPerSymbolPerFrame);
    for (let k = 0; k < tradesPerSymbolPerFrame; k++) {
      for (let s = 0; s < SYMBOLS.length; s++) {
        writer.append(symbolId(SYMBOLS[s]), TickKind.Trade, 100 * (s + 1) + counts[s]++ / 1000, 1, exchangeTs++, monoNowNs());
      }
    }
    out.push(writer.finish(monoNowNs()));
  }
  return out;
}

describe('WorkersPipeline', () => {
  it('warms the feed thread up as part of its start, on a scratch copy: nothing is published and no real counter moves', async () => {
    const h = harness({}, { warmupTicks: 500 });
    const report = await h.pipeline.start();
    expect(report.ticks).toBe(500);
    expect(report.orders).toBeGreaterThan(0);
    h.pipeline.refreshCounters();
    expect(h.orderFrames).toEqual([]);
    expect(h.signals()).toBe(0);
    expect(h.processorCounters.tradesProcessed).toBe(0);
    expect(h.intakeCounters.framesReceived).toBe(0);
  });

  it('turns each probe trade into exactly one order of its symbol, per-symbol order kept, latency recorded per order', async () => {
    const h = harness();
    await h.pipeline.start();
    for (const frame of tradeFrames(25, 5)) h.pipeline.processFrame(frame);
    const total = 25 * 5 * SYMBOLS.length;
    await until(() => h.latencies.length >= total);

    const orders = decodeOrders(h.orderFrames);
    expect(orders).toHaveLength(total);
    expect(h.latencies).toHaveLength(total);
    expect(h.latencies.every((ns) => ns > 0 && ns < 5e9)).toBe(true);
    for (let s = 0; s < SYMBOLS.length; s++) {
      const base = 100 * (s + 1);
      const mine = orders.filter((order) => order.price >= base && order.price < base + 1);
      expect(mine.every((order) => order.symbolId === symbolId(SYMBOLS[s]))).toBe(true);
      expect(mine.map((order) => Math.round((order.price - base) * 1000))).toEqual([...Array(total / SYMBOLS.length).keys()]);
    }
    expect(orders.every((order) => order.side === Side.Buy || order.side === Side.Sell)).toBe(true);
    expect(orders.every((order) => order.orderMonoNs > 0 && order.tickPublishMonoNs > 0)).toBe(true);
    expect(new Set(orders.map((order) => order.orderId)).size).toBe(total);
    // Two workers, two order-id instances: 0x12345 (worker 0) and 0x16345 (worker 1).
    expect(new Set(orders.map((order) => Math.floor(order.orderId / 2 ** 32)))).toEqual(new Set([0x12345, 0x16345]));
    await until(() => h.signals() === total);
    h.pipeline.refreshCounters();
    expect(h.processorCounters.ordersAccepted).toBe(total);
    expect(h.processorCounters.tradesProcessed).toBe(total);
    expect(h.processorCounters.signals[0]).toBe(total);
    expect(h.failures).toEqual([]);
  });

  it('counts bad ticks by reason as the inline layout does and processes the good ones', async () => {
    const h = harness();
    await h.pipeline.start();
    const writer = new TickFrameWriter(16);
    writer.begin(1, 0);
    const id = symbolId('AAPL');
    writer.append(symbolId('UNKNOWN'), TickKind.Trade, 10, 1, 1, monoNowNs());
    writer.append(id, TickKind.Trade, Number.NaN, 1, 2, monoNowNs());
    writer.append(id, TickKind.Trade, -5, 1, 3, monoNowNs());
    writer.append(id, TickKind.Trade, 10, Number.POSITIVE_INFINITY, 4, monoNowNs());
    writer.append(id, TickKind.Trade, 10, 1, 100, monoNowNs());
    writer.append(id, TickKind.Trade, 10, 1, 50, monoNowNs()); // exchange time goes backwards
    writer.append(id, TickKind.Trade, 11, 1, 101, monoNowNs());
    h.pipeline.processFrame(writer.finishView(monoNowNs()));
    h.pipeline.processFrame(new Uint8Array(0));
    const rejected = h.intakeCounters.ticksRejected;
    expect(rejected[RejectReason.UnknownSymbol]).toBe(1);
    expect(rejected[RejectReason.BadPrice]).toBe(2);
    expect(rejected[RejectReason.BadSize]).toBe(1);
    expect(rejected[RejectReason.OutOfOrder]).toBe(1);
    expect(h.intakeCounters.framesRejected[RejectReason.Truncated]).toBe(1);
    expect(h.intakeCounters.ticksAccepted).toBe(2);
    await until(() => h.latencies.length >= 2);
    expect(decodeOrders(h.orderFrames).map((order) => order.price)).toEqual([10, 11]);
  });

  it('denies every order in the workers once orders are switched off through the shared flag, and passes them once on', async () => {
    const h = harness();
    await h.pipeline.start();
    h.risk.setOrdersEnabled(false);
    h.pipeline.syncRiskSwitches();
    for (const frame of tradeFrames(2, 5)) h.pipeline.processFrame(frame);
    await until(() => h.signals() === 40);
    h.pipeline.refreshCounters();
    expect(h.orderFrames).toHaveLength(0);
    expect(h.processorCounters.ordersDenied).toBe(40);
    expect(h.denials[DenyReason.OrdersDisabled]).toBe(40);

    h.risk.setOrdersEnabled(true);
    h.pipeline.syncRiskSwitches();
    for (const frame of tradeFrames(1, 5, 1000, 2)) h.pipeline.processFrame(frame);
    await until(() => h.latencies.length === 20);
    h.pipeline.refreshCounters();
    expect(h.processorCounters.ordersAccepted).toBe(20);
    expect(h.processorCounters.ordersDenied).toBe(40);
  });

  it('drops and counts exactly what a full input ring refuses under drop overflow: accepted == processed + dropped', async () => {
    // One worker held up 2 ms per order (fault injection) behind a 64-slot ring: a 300-tick frame overflows it.
    const h = harness({ workers: 1, ringCapacity: 64, overflow: 'drop' }, { faultInjection: { extraLatencyMicros: 2_000 } });
    await h.pipeline.start();
    h.pipeline.processFrame(tradeFrames(1, 75)[0]);
    const dropped = h.pipeline.inputs[0].dropped();
    expect(dropped).toBeGreaterThan(0);
    await h.pipeline.drain(5_000);
    h.pipeline.refreshCounters();
    const processed = h.processorCounters.tradesProcessed + h.processorCounters.quotesProcessed;
    expect(h.intakeCounters.ticksAccepted).toBe(300);
    expect(processed + h.pipeline.inputs[0].dropped()).toBe(300);
    expect(h.pipeline.inputs[0].dropped()).toBe(dropped);
    expect(decodeOrders(h.orderFrames)).toHaveLength(processed);
    const occupancy = new Float64Array(2);
    const drops = new Float64Array(2);
    h.pipeline.readRings(occupancy, drops);
    expect([...drops]).toEqual([dropped, 0]);
  });

  it('holds the feed thread under block overflow until the worker makes room, dropping nothing', async () => {
    // A generous block timeout: this test is about waiting, and the test host is shared.
    const h = harness({ workers: 1, ringCapacity: 64, overflow: 'block' }, { faultInjection: { extraLatencyMicros: 100 } }, { blockTimeoutMs: 5_000 });
    await h.pipeline.start();
    h.pipeline.processFrame(tradeFrames(1, 50)[0]);
    await h.pipeline.drain(5_000);
    h.pipeline.refreshCounters();
    expect(h.pipeline.inputs[0].dropped()).toBe(0);
    expect(h.processorCounters.tradesProcessed).toBe(200);
    expect(decodeOrders(h.orderFrames)).toHaveLength(200);
  });

  it('adds faultInjection.extraLatencyMicros in the worker to every decision and every tick-to-order latency', async () => {
    // Lower bounds only: the worker spins 300 µs in each trade's decision, before its order reaches the main thread.
    const h = harness({ workers: 1 }, { faultInjection: { extraLatencyMicros: 300 } });
    await h.pipeline.start();
    for (const frame of tradeFrames(5, 1)) h.pipeline.processFrame(frame);
    await until(() => h.latencies.length === 20);
    expect(Math.min(...h.latencies)).toBeGreaterThanOrEqual(300_000);
    // A worker records its batch's decisions once the batch is done, after its orders went out: wait for them.
    await until(() => {
      h.pipeline.collectDecisions();
      return h.decisions.count >= 20;
    });
    expect(h.decisions.count).toBe(20);
    expect(h.decisions.min).toBeGreaterThanOrEqual(300_000);
  });

  it('measures the decision of every trade in the workers, orders or not, and hands each to the main thread once', async () => {
    const h = harness({}, { strategies: [] });
    await h.pipeline.start();
    for (const frame of tradeFrames(10, 3)) h.pipeline.processFrame(frame);
    const total = 10 * 3 * SYMBOLS.length;
    await until(() => {
      h.pipeline.refreshCounters();
      return h.processorCounters.tradesProcessed === total;
    });
    h.pipeline.collectDecisions();
    h.pipeline.collectDecisions();
    expect(h.decisions.count).toBe(total);
    expect(h.decisions.min).toBeGreaterThan(0);
    expect(h.latencies).toEqual([]);
  });

  it('drains: workers finish their rings and exit, and every order they made is published', async () => {
    const h = harness();
    await h.pipeline.start();
    for (const frame of tradeFrames(10, 10)) h.pipeline.processFrame(frame);
    await h.pipeline.drain(5_000);
    expect(h.pipeline.threads.every((thread) => thread === undefined)).toBe(true);
    expect(decodeOrders(h.orderFrames)).toHaveLength(400);
    expect(h.latencies).toHaveLength(400);
    expect(h.failures).toEqual([]);
  });

  it('reports a worker that dies and counts the ticks it can no longer take as dropped', async () => {
    const h = harness();
    await h.pipeline.start();
    await h.pipeline.threads[1]?.terminate();
    await until(() => h.failures.length === 1);
    expect(h.failures[0]).toMatch(/^1: exited with code 1 while the engine was running$/);
    for (const frame of tradeFrames(1, 5)) h.pipeline.processFrame(frame);
    await until(() => h.latencies.length === 10); // worker 0 owns AAPL and NVDA
    expect(h.pipeline.inputs[1].dropped()).toBe(10);
    await h.pipeline.drain(5_000);
    expect(h.failures).toHaveLength(1);
  });

  it('leaves no handle behind: a process that drains its pipeline exits on its own', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/drain-and-exit.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(output).toContain('Pipeline drained orders=40');
    expect(code).toBe(0);
  });
});
