/**
 * Strategy modules and the backtest (issue 20), raced against baselines in one run:
 *
 *   moduleOverhead.typescript   the built-in macdCross vs the same logic as a TypeScript module loaded by path
 *                               (bench/fixtures/macd-cross-module.ts), each through the in-process inline pipeline
 *                               with the eight standard indicators, 8 symbols, alternating runs; ratio of medians
 *   moduleOverhead.wasm         the same logic as a sandboxed WebAssembly module (AssemblyScript,
 *                               engine/strategy/fixtures/assemblyscript/macd-cross.ts, built by npm run build:wasm)
 *   bytesPerTick                young-generation bytes per tick with the module strategy through the in-process
 *                               pipeline (prebuilt 64-tick frames, as the live engine gets them), over chunks of
 *                               frames without a scavenge (as bench/pipeline.ts measures it), minus nothing: every
 *                               byte, the order and signal frames handed to the publisher included
 *   bytesPerTickWithoutOrders   the same module deciding the same way with `orders: false`: the tick path alone
 *   backtestTicksPerSecond      nexus backtest's replay (frames built from the table, the pipeline, fills) of
 *                               1,000,000 trades of 8 symbols: the EMA(12)/EMA(26) cross module alone, and with the
 *                               eight standard indicators added; beside the in-process pipeline on prebuilt frames
 *                               (no frame building, no fills) for the same configurations
 *
 *   npm run bench:strategies [-- --json]         (node --expose-gc)
 */
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { runBacktest } from '../engine/backtest/backtest.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { parseEngineConfig, type EngineConfig } from '../engine/config/engine-config.ts';
import { standardIndicators } from '../engine/config/presets.ts';
import { createIntakeCounters } from '../engine/pipeline/frame-intake.ts';
import { InlinePipeline } from '../engine/pipeline/inline-pipeline.ts';
import { OrderIdSource } from '../engine/pipeline/order.ts';
import { createProcessorCounters } from '../engine/pipeline/tick-processor.ts';
import { RiskEngine } from '../engine/risk/risk-engine.ts';
import type { TickTable } from '../engine/sim/tick-csv.ts';
import { loadStrategyModules } from '../engine/strategy/strategy-modules.ts';
import { buildWasm } from '../assembly/build.ts';
import { TickKind } from '../engine/wire/layout.ts';
import { SymbolTable } from '../engine/wire/symbol-id.ts';
import { TickFrameWriter } from '../engine/wire/tick-codec.ts';

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG', 'META', 'TSLA', 'AMD'];
const TICKS = 1_000_000;
const json = process.argv.includes('--json');
const log = (line: string): void => {
  if (!json) console.log(line);
};

const macdModule = fileURLToPath(new URL('./fixtures/macd-cross-module.ts', import.meta.url));
const macdWasm = fileURLToPath(new URL('../build/wasm/strategies/fixtures/macd-cross.wasm', import.meta.url));
const emaModule = fileURLToPath(new URL('../examples/strategies/ema-cross.ts', import.meta.url));

/** A deterministic random walk of `count` trades round-robin over the symbols, one microsecond apart. */
function tradeTable(count: number): TickTable {
  const price = new Float64Array(count);
  const size = new Float64Array(count);
  const symbolIndex = new Int32Array(count);
  const time = new Float64Array(count);
  const last = SYMBOLS.map(() => 100);
  let seed = 7;
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const s = i % SYMBOLS.length;
    last[s] *= 1 + ((seed / 2147483648) - 0.5) * 0.002;
    price[i] = Math.round(last[s] * 10_000) / 10_000;
    size[i] = 1 + (seed % 100);
    symbolIndex[i] = s;
    time[i] = 1_000_000_000 + i * 1000;
  }
  return { symbols: SYMBOLS, count, symbolIndex, kind: new Uint8Array(count).fill(TickKind.Trade), price, size, exchangeTsNs: time };
}

function config(strategies: unknown[], indicators: unknown[]): EngineConfig {
  return parseEngineConfig({
    symbols: SYMBOLS,
    indicators,
    strategies,
    risk: { maxOrderQty: 1000, maxPosition: 1_000_000, maxNotional: 1e12, priceBandBps: 5_000, ordersEnabled: true },
    zeromq: { endpoints: [{ name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' }, { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' }] },
    warmupTicks: 0,
  });
}

const emas = [{ name: 'fast', type: 'ema', params: { period: 12 } }, { name: 'slow', type: 'ema', params: { period: 26 } }];
const builtinMacd = config([{ name: 'cross', type: 'macdCross', indicators: ['macd'] }], [...standardIndicators]);
const moduleMacd = config([{ name: 'cross', module: macdModule, indicators: ['macd'] }], [...standardIndicators]);
const moduleMacdWithoutOrders = config([{ name: 'cross', module: macdModule, indicators: ['macd'], params: { orders: false } }], [...standardIndicators]);
const wasmMacd = config([{ name: 'cross', module: macdWasm, indicators: ['macd'] }], [...standardIndicators]);
const emaOnly = config([{ name: 'cross', module: emaModule, indicators: ['fast', 'slow'] }], emas);
const emaStandard = config([{ name: 'cross', module: emaModule, indicators: ['fast', 'slow'] }], [...emas, ...standardIndicators]);

/** The in-process pipeline for `engine`, its frames published to nowhere. */
function inlinePipeline(engine: EngineConfig): InlinePipeline {
  return new InlinePipeline({
    config: engine, symbols: new SymbolTable(SYMBOLS), risk: new RiskEngine(engine.risk, SYMBOLS.length), orderIds: new OrderIdSource(0),
    clockNs: monoNowNs, intakeCounters: createIntakeCounters(), processorCounters: createProcessorCounters(engine.strategies.length),
    publisher: { publishOrders: () => undefined, publishSignals: () => undefined }, recordLatency: () => undefined, ordersStreamId: 0, signalsStreamId: 1,
  });
}

/** The in-process pipeline alone on prebuilt 64-tick frames: ns per tick. */
function pipelineNsPerTick(engine: EngineConfig, frames: readonly Uint8Array[], ticksPerFrame: number): number {
  const pipeline = inlinePipeline(engine);
  const started = monoNowNs();
  for (const frame of frames) pipeline.processFrame(frame);
  return (monoNowNs() - started) / (frames.length * ticksPerFrame);
}

function framesOf(table: TickTable, ticksPerFrame: number): Uint8Array[] {
  const ids = new SymbolTable(SYMBOLS).ids;
  const writer = new TickFrameWriter(ticksPerFrame);
  const frames: Uint8Array[] = [];
  for (let first = 0; first + ticksPerFrame <= table.count; first += ticksPerFrame) {
    writer.begin(1, first);
    for (let i = first; i < first + ticksPerFrame; i++) writer.append(ids[table.symbolIndex[i]], TickKind.Trade, table.price[i], table.size[i], table.exchangeTsNs[i], table.exchangeTsNs[i]);
    frames.push(writer.finish(0));
  }
  return frames;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function newSpaceUsed(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? 0;
}

/**
 * Young-generation bytes per tick through the in-process pipeline on prebuilt frames, from chunks of 64 frames in
 * which no scavenge ran (a scavenge empties the young generation, so such a chunk's growth is not its allocation).
 */
function bytesPerTick(engine: EngineConfig, frames: readonly Uint8Array[], ticksPerFrame: number): { bytesPerTick: number; cleanChunks: string } {
  const pipeline = inlinePipeline(engine);
  const settle = frames.length >> 2;
  for (let f = 0; f < settle; f++) pipeline.processFrame(frames[f]);
  const chunk = 64;
  let bytes = 0;
  let ticks = 0;
  let clean = 0;
  let chunks = 0;
  for (let from = settle; from + chunk <= frames.length; from += chunk) {
    const before = newSpaceUsed();
    for (let f = from; f < from + chunk; f++) pipeline.processFrame(frames[f]);
    const after = newSpaceUsed();
    chunks++;
    if (after < before) continue;
    clean++;
    bytes += after - before;
    ticks += chunk * ticksPerFrame;
  }
  return { bytesPerTick: ticks === 0 ? Number.NaN : bytes / ticks, cleanChunks: `${clean}/${chunks}` };
}

await buildWasm();
await loadStrategyModules([...moduleMacd.strategies, ...wasmMacd.strategies, ...emaOnly.strategies]);
const table = tradeTable(TICKS);
const frames = framesOf(table, 64);

// Module overhead: alternate built-in, TypeScript and WebAssembly runs over the same frames, five each, after a
// warm-up of all three.
const builtinRuns: number[] = [];
const moduleRuns: number[] = [];
const wasmRuns: number[] = [];
for (const engine of [builtinMacd, moduleMacd, wasmMacd]) pipelineNsPerTick(engine, frames, 64);
for (let round = 0; round < 5; round++) {
  builtinRuns.push(pipelineNsPerTick(builtinMacd, frames, 64));
  moduleRuns.push(pipelineNsPerTick(moduleMacd, frames, 64));
  wasmRuns.push(pipelineNsPerTick(wasmMacd, frames, 64));
}
const builtinNs = median(builtinRuns);
const moduleNs = median(moduleRuns);
const wasmNs = median(wasmRuns);
log(`macdCross, 8 standard indicators, 8 symbols, in-process pipeline (medians of 5 alternating runs): built-in ${builtinNs.toFixed(1)} ns/tick, ` +
  `TypeScript module ${moduleNs.toFixed(1)} ns/tick (${(moduleNs / builtinNs).toFixed(3)}x, target <= 1.1), ` +
  `WebAssembly module ${wasmNs.toFixed(1)} ns/tick (${(wasmNs / builtinNs).toFixed(3)}x, target <= 1.5)`);

const allocation = bytesPerTick(moduleMacd, frames, 64);
const quietAllocation = bytesPerTick(moduleMacdWithoutOrders, frames, 64);
log(`allocation with the module strategy, in-process pipeline: ${allocation.bytesPerTick.toFixed(2)} young-gen bytes/tick (${allocation.cleanChunks} chunks without a scavenge); ` +
  `deciding the same without sending: ${quietAllocation.bytesPerTick.toFixed(2)} bytes/tick (${quietAllocation.cleanChunks})`);

// Backtest throughput: best of three full replays each, beside the pipeline alone on prebuilt frames.
const best = (engine: EngineConfig): { ticksPerSecond: number; orders: number } => {
  let top = 0;
  let orders = 0;
  for (let run = 0; run < 3; run++) {
    const result = runBacktest({ config: engine, ticks: table });
    top = Math.max(top, result.ticksPerSecond);
    orders = result.total.orders;
  }
  return { ticksPerSecond: top, orders };
};
const emaBacktest = best(emaOnly);
const emaStandardBacktest = best(emaStandard);
const emaPipeline = 1e9 / Math.min(...[0, 1, 2].map(() => pipelineNsPerTick(emaOnly, frames, 64)));
const emaStandardPipeline = 1e9 / Math.min(...[0, 1, 2].map(() => pipelineNsPerTick(emaStandard, frames, 64)));
log(`backtest, 1,000,000 trades of 8 symbols, EMA(12)/EMA(26) cross module: ${Math.round(emaBacktest.ticksPerSecond).toLocaleString('en-US')} ticks/s (${emaBacktest.orders} orders); the pipeline alone ${Math.round(emaPipeline).toLocaleString('en-US')} ticks/s (target >= 1,500,000)`);
log(`backtest, the same with the 8 standard indicators added: ${Math.round(emaStandardBacktest.ticksPerSecond).toLocaleString('en-US')} ticks/s; the pipeline alone ${Math.round(emaStandardPipeline).toLocaleString('en-US')} ticks/s (target >= 1,000,000)`);

console.log(JSON.stringify({
  moduleOverhead: { typescript: moduleNs / builtinNs, wasm: wasmNs / builtinNs },
  nsPerTick: { builtin: builtinNs, typescriptModule: moduleNs, wasmModule: wasmNs },
  bytesPerTick: allocation.bytesPerTick,
  bytesPerTickWithoutOrders: quietAllocation.bytesPerTick,
  allocationCleanChunks: allocation.cleanChunks,
  backtestTicksPerSecond: {
    emaCross: emaBacktest.ticksPerSecond,
    emaCrossStandardIndicators: emaStandardBacktest.ticksPerSecond,
    pipelineEmaCross: emaPipeline,
    pipelineEmaCrossStandardIndicators: emaStandardPipeline,
  },
  orders: { emaCross: emaBacktest.orders, emaCrossStandardIndicators: emaStandardBacktest.orders },
  targets: { typescriptWithin: 1.1, wasmWithin: 1.5, bytesPerTick: 0, emaCrossTicksPerSecond: 1_500_000, emaCrossStandardIndicatorsTicksPerSecond: 1_000_000 },
}));
