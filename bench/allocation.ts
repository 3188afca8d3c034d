/**
 * Who allocates on the hot path: V8's sampling heap profiler (including objects already collected by minor GCs)
 * over 256k ticks through the inline pipeline (8 symbols, 8 indicators, probe strategy), printed as bytes per tick
 * by allocating function. Complements the totals in bench/pipeline.ts with attribution.
 *
 *   npm run bench:allocation [-- --module | --no-orders] [--scans]
 *     --module:    bench/fixtures/macd-cross-module.ts (a user's module, eight indicators) instead of probe
 *     --no-orders: the same module deciding the same way but sending nothing: the tick path without order frames
 *     --scans:     per-bar scans (two indicators, rank and z-score) on every trade, a bar every 1,000 ticks
 *
 * What it showed (2026-11): 50-120 B/tick, almost all HeapNumbers: doubles boxed where a call that takes or
 * returns a double is not inlined, and which calls those are moves with V8's cumulative inlining budget.
 */
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { loadStrategyModules } from '../engine/strategy/strategy-modules.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { GeneratedTick, RandomWalk } from '../engine/sim/random-walk.ts';
import { createIntakeCounters } from '../engine/pipeline/frame-intake.ts';
import { InlinePipeline } from '../engine/pipeline/inline-pipeline.ts';
import { InlineBarScans } from '../engine/scans/inline-scans.ts';
import { OrderIdSource } from '../engine/pipeline/order.ts';
import { probeConfig } from '../test/support/engine-config.ts';
import { createProcessorCounters } from '../engine/pipeline/tick-processor.ts';
import { RiskEngine } from '../engine/risk/risk-engine.ts';
import { SymbolTable } from '../engine/wire/symbol-id.ts';
import { TickFrameWriter } from '../engine/wire/tick-codec.ts';

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG', 'META', 'TSLA', 'AMD'];
// --module: a user's strategy module (the built-in macdCross's logic, loaded by path) instead of probe;
// --no-orders: that module deciding the same way but sending nothing (the tick path's bytes without order frames);
// --scans: per-bar scans as well, a bar closing every 1,000 ticks (1 s bars, a tick every millisecond).
const quiet = process.argv.includes('--no-orders');
const moduleStrategy = quiet || process.argv.includes('--module');
const withScans = process.argv.includes('--scans');
const TICK_SPACING_NS = withScans ? 1_000_000 : 1;
const TICKS_PER_FRAME = 64;
const WARM_FRAMES = 2000;
const MEASURED_FRAMES = 4000;

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

function makeFrames(count: number): Buffer[] {
  const walk = new RandomWalk({ symbolCount: SYMBOLS.length, seed: 9, tradeRatio: 1, volatility: 0.001, startPrice: 100 });
  const ids = new SymbolTable(SYMBOLS).ids;
  const tick = new GeneratedTick();
  const writer = new TickFrameWriter(TICKS_PER_FRAME);
  const frames: Buffer[] = [];
  let exchangeTs = 1;
  for (let f = 0; f < count; f++) {
    writer.begin(1, f * TICKS_PER_FRAME);
    for (let i = 0; i < TICKS_PER_FRAME; i++) {
      walk.next(tick);
      writer.append(ids[tick.symbolIndex], tick.kind, tick.price, tick.size, exchangeTs, 0);
      exchangeTs += TICK_SPACING_NS;
    }
    frames.push(writer.finish(0));
  }
  return frames;
}

const macdModule = fileURLToPath(new URL('./fixtures/macd-cross-module.ts', import.meta.url));
const config = probeConfig({
  symbols: SYMBOLS,
  ...(moduleStrategy ? { strategies: [{ name: 'cross', module: macdModule, indicators: ['macd'], params: { orders: !quiet } }] } : {}),
  ...(withScans ? { scans: { barIntervalMs: 1000, panelBars: 16, indicators: ['sma-20', 'rsi-14'], topSymbols: 2 } } : {}),
});
await loadStrategyModules(config.strategies);
// With --scans, the backtest's in-line scans (the same aggregator and scanner as the scan thread's) see every trade.
let scanClockNs = 0;
const scans = config.scans === undefined ? undefined : new InlineBarScans(config, config.scans, () => scanClockNs);
const pipeline = new InlinePipeline({
  ...(scans === undefined ? {} : { trades: scans }),
  config,
  symbols: new SymbolTable(SYMBOLS),
  risk: new RiskEngine(config.risk, SYMBOLS.length),
  orderIds: new OrderIdSource(1),
  clockNs: monoNowNs,
  intakeCounters: createIntakeCounters(),
  processorCounters: createProcessorCounters(config.strategies.length),
  publisher: { publishOrders: () => undefined, publishSignals: () => undefined },
  recordLatency: () => undefined,
  ordersStreamId: 1,
  signalsStreamId: 2,
});
if (scans !== undefined) {
  scans.deliver = (scan, timeNs) => {
    scanClockNs = timeNs;
    pipeline.deliverBar(scan, timeNs);
  };
}
const frames = makeFrames(WARM_FRAMES + MEASURED_FRAMES);
for (let i = 0; i < WARM_FRAMES; i++) pipeline.processFrame(frames[i]);

const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 256,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
for (let i = WARM_FRAMES; i < frames.length; i++) pipeline.processFrame(frames[i]);
const { profile } = await session.post('HeapProfiler.stopSampling');
session.disconnect();

const ticks = MEASURED_FRAMES * TICKS_PER_FRAME;
const bySite = new Map<string, number>();
let total = 0;
const visit = (node: ProfileNode, caller: string): void => {
  const frame = node.callFrame;
  if (node.selfSize > 0) {
    const site = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')} <- ${caller || '(top)'}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const child of node.children) visit(child, frame.functionName);
};
visit(profile.head as ProfileNode, '');
console.log(`Sampled allocation: ${(total / ticks).toFixed(1)} bytes per tick over ${ticks} ticks`);
for (const [site, bytes] of [...bySite.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
  console.log(`  ${(bytes / ticks).toFixed(1).padStart(6)} B/tick  ${site}`);
}
