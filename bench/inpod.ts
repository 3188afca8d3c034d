/**
 * The batch work inside an engine pod (issue 21), raced against its baseline in one run:
 *
 *   warmStart.<backend>     time to warm 5,000 symbols x 2,000 trades x the eight standard indicators from history
 *                           (the warm start's own report): `js` is the inline layout's processor on this thread,
 *                           `workers` the workers layout with 2 worker threads, each warming its shard at once
 *   streamingReplayMs       the baseline: the same trades fed tick by tick, in time order (round robin over the
 *                           symbols), through the engine's own tick processor and its streaming indicators
 *   speedup                 streamingReplayMs / the best warmStart
 *   identical               whether every indicator output of every symbol is the same, bit for bit, after each
 *
 * Not measured yet (null, listed in `pending`): the per-bar universe scans (scanMsPerBar), the correlation matrix
 * (correlationMs) and tick-to-order p99 with scans on and off (tickP99RatioScansOnOff): the scans are not built.
 *
 *   npm run bench:inpod [-- --json] [-- --quick]
 */
import { cpus } from 'node:os';
import { randomWalkBars } from '../engine/batch/series.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { parseEngineConfig, type EngineConfig } from '../engine/config/engine-config.ts';
import { standardIndicators } from '../engine/config/presets.ts';
import type { TradeHistory } from '../engine/history/trade-history.ts';
import { createIntakeCounters } from '../engine/pipeline/frame-intake.ts';
import { OrderIdSource } from '../engine/pipeline/order.ts';
import { createProcessorCounters, TickProcessor } from '../engine/pipeline/tick-processor.ts';
import { warmStart, type WarmStartReport } from '../engine/pipeline/warm-start.ts';
import { WorkersPipeline } from '../engine/pipeline/workers-pipeline.ts';
import { DENY_REASON_SLOTS, RiskEngine } from '../engine/risk/risk-engine.ts';
import { SymbolTable } from '../engine/wire/symbol-id.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const SYMBOLS = quick ? 500 : 5_000;
const TRADES = 2_000;
const log = (line: string): void => {
  if (!json) console.log(line);
};

function engineConfig(layout: 'inline' | 'workers'): EngineConfig {
  return parseEngineConfig({
    symbols: Array.from({ length: SYMBOLS }, (_, s) => `S${s}`),
    indicators: standardIndicators,
    strategies: [],
    risk: { maxOrderQty: 1000, maxPosition: 1_000_000, maxNotional: 1e12, priceBandBps: 5_000, ordersEnabled: true },
    zeromq: { endpoints: [{ name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' }, { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' }] },
    pipeline: layout === 'workers' ? { layout, workers: 2, ringCapacity: 1024, waitStrategy: 'block' } : { layout },
    warmupTicks: 0,
  });
}

/** The history as the warm start takes it: each symbol's trades in one column, every one seeded (no replay). */
function buildHistory(): TradeHistory {
  const shared = (length: number): Float64Array => new Float64Array(new SharedArrayBuffer(length * 8));
  const tradeStart = new Int32Array(new SharedArrayBuffer((SYMBOLS + 1) * 4));
  const prices = shared(SYMBOLS * TRADES);
  const sizes = shared(SYMBOLS * TRADES);
  for (let s = 0; s < SYMBOLS; s++) {
    const bars = randomWalkBars(TRADES, s + 1, 20 + (s % 200));
    prices.set(bars.close, s * TRADES);
    sizes.set(bars.volume, s * TRADES);
    tradeStart[s + 1] = (s + 1) * TRADES;
  }
  const none = { count: 0, symbolIndex: new Int32Array(0), kind: new Uint8Array(0), price: new Float64Array(0), size: new Float64Array(0), exchangeTsNs: new Float64Array(0) };
  return {
    origin: 'bench', tradeStart, prices, sizes, seedEnd: tradeStart.slice(1), bids: shared(SYMBOLS), asks: shared(SYMBOLS), replay: none,
    ignoredSymbols: [], shortSymbols: [], requiredTrades: 34,
  };
}

function processor(config: EngineConfig): TickProcessor {
  return new TickProcessor({
    config,
    risk: new RiskEngine(config.risk, config.symbols.length),
    sink: { signal: () => undefined, order: () => undefined },
    orderIds: new OrderIdSource(1),
    clockNs: monoNowNs,
    counters: createProcessorCounters(0),
  });
}

/** The baseline: every trade, in time order across the symbols, through the processor's onTrade. */
function streamingReplay(target: TickProcessor, history: TradeHistory): number {
  const started = monoNowNs();
  for (let t = 0; t < TRADES; t++) {
    for (let s = 0; s < SYMBOLS; s++) target.onTrade(s, history.prices[s * TRADES + t], history.sizes[s * TRADES + t], 0);
  }
  return (monoNowNs() - started) / 1e6;
}

function sameOutputs(a: TickProcessor, b: TickProcessor): boolean {
  for (let s = 0; s < SYMBOLS; s++) {
    const x = a.indicatorOutputs(s);
    const y = b.indicatorOutputs(s);
    if (x.some((value, k) => !Object.is(value, y[k]))) return false;
  }
  return true;
}

async function workersWarmStart(config: EngineConfig, history: TradeHistory): Promise<WarmStartReport> {
  const risk = new RiskEngine(config.risk, config.symbols.length);
  const pipeline = new WorkersPipeline({
    config,
    symbols: new SymbolTable(config.symbols),
    risk,
    instanceId: 1,
    clockNs: monoNowNs,
    intakeCounters: createIntakeCounters(),
    processorCounters: createProcessorCounters(0),
    denials: new Float64Array(DENY_REASON_SLOTS),
    publisher: { publishOrders: () => undefined, publishSignals: () => undefined },
    recordLatency: () => undefined,
    decisions: { record: { recordSince: () => undefined }, targets: [] },
    ordersStreamId: 1,
    signalsStreamId: 2,
    log: () => undefined,
    onWorkerFailure: (worker, error) => {
      throw new Error(`worker ${worker} failed: ${error.message}`);
    },
  });
  const report = await pipeline.start(history);
  await pipeline.drain(5_000);
  if (report.warmStart === undefined) throw new Error('the workers layout reported no warm start');
  return report.warmStart;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const history = buildHistory();
  const inline = engineConfig('inline');
  log(`${SYMBOLS} symbols x ${TRADES} trades x ${standardIndicators.length} indicators (${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version})`);
  const runs = quick ? 1 : 3;
  const replayMs: number[] = [];
  const jsMs: number[] = [];
  const workersMs: number[] = [];
  let identical = true;
  for (let run = 0; run < runs; run++) {
    const streamed = processor(inline);
    replayMs.push(streamingReplay(streamed, history));
    const warmed = processor(inline);
    jsMs.push(warmStart(warmed, history, () => true, monoNowNs).durationMs);
    identical &&= sameOutputs(streamed, warmed);
    workersMs.push((await workersWarmStart(engineConfig('workers'), history)).durationMs);
    log(`run ${run + 1}: streaming replay ${replayMs[run].toFixed(0)} ms, warm start js ${jsMs[run].toFixed(0)} ms, workers (2 threads) ${workersMs[run].toFixed(0)} ms`);
  }
  const warm = { js: median(jsMs), workers: median(workersMs) };
  const streamingReplayMs = median(replayMs);
  const best = Math.min(warm.js, warm.workers);
  log(`medians: streaming replay ${streamingReplayMs.toFixed(0)} ms; warm start js ${warm.js.toFixed(0)} ms (${(streamingReplayMs / warm.js).toFixed(1)}x), workers ${warm.workers.toFixed(0)} ms (${(streamingReplayMs / warm.workers).toFixed(1)}x); identical outputs: ${identical}`);
  console.log(JSON.stringify({
    bench: 'inpod', node: process.version, cpu: cpus()[0]?.model ?? 'cpu', cores: cpus().length, quick, symbols: SYMBOLS, trades: TRADES,
    warmStart: { js: Math.round(warm.js), workers: Math.round(warm.workers) },
    streamingReplayMs: Math.round(streamingReplayMs),
    speedup: Number((streamingReplayMs / best).toFixed(2)),
    identical,
    scanMsPerBar: null,
    correlationMs: null,
    tickP99RatioScansOnOff: null,
    pending: ['scanMsPerBar', 'correlationMs', 'tickP99RatioScansOnOff', 'warmStart.wasm', 'warmStart.gpu'],
  }));
}

await main();
