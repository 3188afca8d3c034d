/**
 * The batch work inside an engine pod (issue 21), raced against its baseline in one run:
 *
 *   warmStart.<backend>     time to warm 5,000 symbols x 2,000 trades x the eight standard indicators from history
 *                           (the warm start's own report): `js` and `wasm` are the inline layout's processor on
 *                           this thread with the JS or the WebAssembly warm-state kernels, `workers` the workers
 *                           layout with 2 worker threads, each warming its shard at once (on the wasm kernels, as
 *                           `backend: auto` runs them)
 *   streamingReplayMs       the baseline: the same trades fed tick by tick, in time order (round robin over the
 *                           symbols), through the engine's own tick processor and its streaming indicators
 *   speedup                 streamingReplayMs / the best warmStart
 *   identical               whether every indicator output of every symbol is the same, bit for bit, after js,
 *                           after wasm and after the streaming replay
 *   scanMsPerBar.<backend>  one bar close's scan (BarScanner) of 10,000 symbols: the eight standard indicators per
 *                           bar for every symbol, rank and z-score of the return and of each indicator; median over
 *                           200 bars after 60; on the scan kernels each backend runs (docs/scans.md): `js` the
 *                           JavaScript ones, `wasm` the WebAssembly ones (what auto, wasm and gpu run), `workers`
 *                           those split over scanThreadsFor('workers') threads; the last bar's results of all three
 *                           compared bit for bit (`scanSameBits`). On a market-like panel (PanelMarket: prices over
 *                           four decades, fat-tailed returns); `scanMsPerBarUniform` the same on the easy panel
 *                           (every symbol from 100, uniform returns), where a rank's buckets fill evenly
 *   correlationMs.<backend> the correlation matrix of 1,000 symbols' returns over 256 bars (median of 3 after one
 *                           warm-up call): js, wasm, workers (a pool of os.availableParallelism() threads) and gpu
 *                           (whatever adapter answers; its name is printed, and the key is left out without one),
 *                           each checked against js (the same bits; gpu within GRAM_GPU_TOLERANCE)
 *   tickP99RatioScansOnOff  tick-to-order p99 of the in-process inline pipeline (2,000 symbols, eight indicators,
 *                           probe strategy, 16 trades a millisecond) with scans closing a bar every second on their
 *                           own thread (eight indicators and a 500 x 500 correlation), over the same without scans
 *                           (the scans on wasm, the scan thread alone). 1 s periods in pairs, one of each mode, the
 *                           order alternating pair by pair (off on, on off, ...: neither mode always goes first),
 *                           20 pairs counted after 2 that warm up; the figure is the median over the pairs of
 *                           p99(on) / p99(off). This machine's tick latency drifts by up to 2x over tens of seconds
 *                           (a shared VM), which a ratio of two pooled p99s takes as an effect of the scans; within a
 *                           pair the drift is small. The pooled p99s are printed as well (tickP99Micros) with
 *                           their ratio (tickP99RatioPooled)
 *
 * Not measured (listed in `pending`): the warm start on gpu (there are no GPU warm-state kernels, by design:
 * docs/warm-start.md) and the per-bar part on gpu (the scan kernels have no GPU version: docs/scans.md).
 *
 *   npm run bench:inpod [-- --json] [-- --quick] [-- --scan] [-- --tick]   (--scan: only scanMsPerBar and scanMsPerBarUniform; --tick: only the tick ratios)
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
import { jsWarmStates } from '../engine/indicators/warm-state.ts';
import { openWasmWarmStates } from '../engine/batch/wasm-warm-states.ts';
import { WorkersPipeline } from '../engine/pipeline/workers-pipeline.ts';
import { DENY_REASON_SLOTS, RiskEngine } from '../engine/risk/risk-engine.ts';
import { SymbolTable } from '../engine/wire/symbol-id.ts';
import { createBarPanel, rowOffset } from '../engine/bars/bar-panel.ts';
import { BarScanner, createScanArrays } from '../engine/scans/bar-scanner.ts';
import { jsScanKernels } from '../engine/scans/scan-kernels.ts';
import { openWasmScanKernels } from '../engine/scans/wasm-scan-kernels.ts';
import { scanThreadsFor } from '../engine/scans/scan-kernels-choice.ts';
import { correlationMatrix, correlationMatrixOn, CorrelationWorkspace } from '../engine/scans/correlation.ts';
import type { AnyBatchBackend } from '../engine/batch/batch-backend.ts';
import { createBackend } from '../engine/batch/create-backend.ts';
import { adapterSummary, type GpuAdapterReport } from '../engine/batch/gpu-adapter.ts';
import { GRAM_GPU_TOLERANCE } from '../engine/batch/gram.ts';
import { BarScans } from '../engine/scans/scan-thread.ts';
import { InlinePipeline } from '../engine/pipeline/inline-pipeline.ts';
import { LatencyHistogram } from '../engine/metrics/latency-histogram.ts';
import { TickFrameWriter } from '../engine/wire/tick-codec.ts';
import { TickKind } from '../engine/wire/layout.ts';
import { Mulberry32 } from '../engine/random/mulberry32.ts';
import { median } from './indicators-measure.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const scanOnly = process.argv.includes('--scan');
const tickOnly = process.argv.includes('--tick');
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


/**
 * How a panel's symbols move: `market` as a universe does, prices spread over four decades (log-uniform from 0.50
 * to 5,000) and fat-tailed returns (Cauchy-like, scale 0.2%, cut at 6.4%); `uniform` all from 100 with returns
 * uniform in +-0.5%, the easy case for a rank's buckets.
 */
type PanelMarket = 'market' | 'uniform';

/** A panel of `symbols` random walks, `bars` bars closed. */
function walkPanel(
  symbols: number, capacity: number, bars: number, onBar: (bar: number) => void = () => undefined,
  onPanel: (panel: ReturnType<typeof createBarPanel>) => void = () => undefined, market: PanelMarket = 'market',
): ReturnType<typeof createBarPanel> {
  const panel = createBarPanel(symbols, capacity);
  onPanel(panel);
  const random = new Mulberry32(7);
  const price = new Float64Array(symbols).map(() => (market === 'market' ? 0.5 * Math.exp(random.next() * Math.log(1e4)) : 100));
  const move = market === 'market'
    ? (): number => 0.002 * Math.tan(Math.PI * (random.next() - 0.5) * 0.98)
    : (): number => (random.next() - 0.5) * 0.01;
  for (let b = 0; b < bars; b++) {
    const row = rowOffset(panel, b);
    for (let s = 0; s < symbols; s++) {
      const open = price[s];
      price[s] = Math.max(0.01, open * (1 + move()));
      panel.open[row + s] = open;
      panel.close[row + s] = price[s];
      panel.high[row + s] = Math.max(open, price[s]) * 1.001;
      panel.low[row + s] = Math.min(open, price[s]) * 0.999;
      panel.volume[row + s] = Math.floor(random.next() * 1000);
    }
    panel.interval[b % capacity] = b;
    Atomics.store(panel.closed, 0, b + 1);
    onBar(b);
  }
  return panel;
}

/**
 * Median ms of one bar close's scan of 10,000 symbols x the eight indicators, rank and z-score (no correlation),
 * on each kernel set: js, wasm, and wasm split over the workers backend's threads (the same values: checked here on
 * the last bar, and by the test suite).
 */
async function scanPerBar(market: PanelMarket): Promise<{ js: number; wasm: number; workers: number; workersThreads: number; sameBits: boolean }> {
  const symbols = quick ? 2_000 : 10_000;
  const workersThreads = scanThreadsFor('workers');
  const kernelSets = { js: jsScanKernels(symbols), wasm: await openWasmScanKernels(symbols), workers: await openWasmScanKernels(symbols, undefined, workersThreads) };
  const ms = { js: 0, wasm: 0, workers: 0 };
  const last: Record<string, Float64Array[]> = {};
  for (const name of ['js', 'wasm', 'workers'] as const) {
    const times: number[] = [];
    const scanners: BarScanner[] = [];
    walkPanel(symbols, 300, 260, (bar) => {
      const started = monoNowNs();
      // No correlation: the scan is synchronous, done when scan() returns.
      void scanners[0].scan(bar);
      if (bar >= 60) times.push((monoNowNs() - started) / 1e6);
    }, (panel) => scanners.push(new BarScanner(
      panel, { indicators: standardIndicators }, monoNowNs, undefined,
      // Results on shared memory, as the engine's scan thread writes them (scan-thread.ts).
      [createScanArrays(symbols, standardIndicators.length, undefined, true)], kernelSets[name],
    )), market);
    ms[name] = median(times);
    const result = scanners[0].result;
    last[name] = [result.returnRank, result.returnZ, ...result.values, ...result.ranks, ...result.zscores];
  }
  kernelSets.workers.close();
  const sameBits = ['wasm', 'workers'].every((name) => last.js.every((array, k) => array.every((v, s) => Object.is(v, last[name][k][s]))));
  return { ...ms, workersThreads, sameBits };
}

interface CorrelationFigures {
  readonly ms: Partial<Record<'js' | 'wasm' | 'workers' | 'gpu', number>>;
  /** Each backend against js: `same bits`, or the largest difference. */
  readonly agreement: Record<string, string>;
  readonly gpuAdapter?: string;
  readonly unavailable: Record<string, string>;
}

/** Median ms of the correlation matrix of 1,000 symbols over 256 bars on every backend that starts. */
async function correlationPerBackend(): Promise<CorrelationFigures> {
  const m = quick ? 300 : 1_000;
  const window = 256;
  // The uniform panel, as in earlier sessions' figures (the correlation's work does not depend on the values).
  const panel = walkPanel(m, window + 2, window + 1, undefined, undefined, 'uniform');
  const reference = new Float64Array(m * m);
  correlationMatrix(panel, window, new CorrelationWorkspace(m, window), reference);
  const figures: CorrelationFigures = { ms: {}, agreement: {}, unavailable: {} };
  for (const name of ['js', 'wasm', 'workers', 'gpu'] as const) {
    let backend: AnyBatchBackend;
    try {
      backend = await createBackend(name);
    } catch (error) {
      figures.unavailable[name] = (error as Error).message;
      continue;
    }
    try {
      const adapter = (backend as { adapter?: GpuAdapterReport }).adapter;
      if (adapter !== undefined) (figures as { gpuAdapter?: string }).gpuAdapter = adapterSummary(adapter);
      const work = new CorrelationWorkspace(m, window, (backend as { allocate?: (n: number) => Float64Array }).allocate);
      const out = new Float64Array(m * m);
      const times: number[] = [];
      for (let run = 0; run < 4; run++) {
        const started = monoNowNs();
        await correlationMatrixOn(backend, panel, window, work, out);
        if (run > 0) times.push((monoNowNs() - started) / 1e6);
      }
      figures.ms[name] = median(times);
      let worst = 0;
      let sameBits = true;
      for (let k = 0; k < out.length; k++) {
        if (!Object.is(out[k], reference[k])) sameBits = false;
        if (!Number.isNaN(reference[k])) worst = Math.max(worst, Math.abs(out[k] - reference[k]));
      }
      figures.agreement[name] = sameBits ? 'same bits' : `max |diff| ${worst.toExponential(2)}${name === 'gpu' ? ` (tolerance ${GRAM_GPU_TOLERANCE})` : ''}`;
    } finally {
      await backend.close();
    }
  }
  return figures;
}

/**
 * Tick-to-order p99 through the inline pipeline with and without scans (same run, alternating periods): trades
 * of 2,000 symbols, 16 in a frame every millisecond, exchange time = this clock, so a bar closes every second.
 */
async function tickP99ScansOnOff(): Promise<{
  off: number; on: number; offP50: number; onP50: number; pairRatios: number[]; scansCompleted: number;
}> {
  const symbols = Array.from({ length: 2_000 }, (_, s) => `S${s}`);
  const config = parseEngineConfig({
    symbols,
    indicators: standardIndicators,
    strategies: [{ name: 'probe', type: 'probe', params: { orderQuantity: 1 } }],
    risk: { maxOrderQty: 1000, maxPosition: 1e9, maxNotional: 1e15, priceBandBps: 5_000, ordersEnabled: true },
    zeromq: { endpoints: [{ name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' }, { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' }] },
    warmupTicks: 0,
  });
  const scans = new BarScans({
    symbols, barIntervalNs: 1e9, panelBars: 256, topSymbols: 10,
    settings: { indicators: standardIndicators, correlation: { symbols: 500, window: 255 } },
    // wasm: one thread, the scan thread's own (workers would take the second core from the tick thread).
    backend: 'wasm',
    onReport: () => undefined, onFailure: (bar, message) => log(`scan of bar ${bar} failed: ${message}`),
  });
  const histograms = { off: new LatencyHistogram(), on: new LatencyHistogram() };
  let current = histograms.off;
  // This period's own samples, for the pair's ratio.
  const period = { off: new LatencyHistogram(), on: new LatencyHistogram() };
  let currentPeriod = period.off;
  const pipelineFor = (withScans: boolean): InlinePipeline => new InlinePipeline({
    config,
    symbols: new SymbolTable(config.symbols),
    risk: new RiskEngine(config.risk, config.symbols.length),
    orderIds: new OrderIdSource(1),
    clockNs: monoNowNs,
    intakeCounters: createIntakeCounters(),
    processorCounters: createProcessorCounters(config.strategies.length),
    publisher: { publishOrders: () => undefined, publishSignals: () => undefined },
    recordLatency: (ns) => {
      current.record(ns);
      currentPeriod.record(ns);
    },
    ordersStreamId: 1,
    signalsStreamId: 2,
    ...(withScans ? { trades: scans } : {}),
  });
  const pipelines = { off: pipelineFor(false), on: pipelineFor(true) };
  const ids = new SymbolTable(config.symbols).ids;
  const writer = new TickFrameWriter(16);
  const random = new Mulberry32(3);
  const price = new Float64Array(symbols.length).fill(100);
  const sequences = { off: 0, on: 0 };
  const warmUpPairs = 2;
  const pairs = warmUpPairs + (quick ? 3 : 20);
  const pairRatios: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    const counted = pair >= warmUpPairs;
    for (const mode of pair % 2 === 0 ? ['off', 'on'] as const : ['on', 'off'] as const) {
      current = counted ? histograms[mode] : new LatencyHistogram();
      currentPeriod = period[mode];
      currentPeriod.reset();
      await runPeriod(pipelines[mode], mode);
    }
    if (counted) pairRatios.push(period.on.valueAtQuantile(0.99) / period.off.valueAtQuantile(0.99));
  }
  const completed = scans.counters.completed;
  await scans.stop();
  return {
    off: histograms.off.valueAtQuantile(0.99) / 1e3, on: histograms.on.valueAtQuantile(0.99) / 1e3,
    offP50: histograms.off.valueAtQuantile(0.5) / 1e3, onP50: histograms.on.valueAtQuantile(0.5) / 1e3,
    pairRatios, scansCompleted: completed,
  };

  /** One second of frames into `pipeline`, then a turn of the event loop for the scan reports. */
  async function runPeriod(pipeline: InlinePipeline, mode: 'off' | 'on'): Promise<void> {
    const end = monoNowNs() + 1e9;
    let next = monoNowNs();
    while (next < end) {
      while (monoNowNs() < next);
      next += 1e6;
      writer.begin(1, sequences[mode]);
      for (let k = 0; k < 16; k++) {
        const s = Math.floor(random.next() * symbols.length);
        price[s] = Math.max(0.01, price[s] * (1 + (random.next() - 0.5) * 0.002));
        writer.append(ids[s], TickKind.Trade, price[s], 1, monoNowNs(), monoNowNs());
      }
      sequences[mode] += 16;
      pipeline.processFrame(writer.finish(monoNowNs()));
    }
    await new Promise((resolve) => setImmediate(resolve)); // let scan reports arrive
  }
}

type ScanFigures = Record<PanelMarket, Awaited<ReturnType<typeof scanPerBar>>>;

/** scanPerBar on both panels. */
async function scanPerBarBoth(): Promise<ScanFigures> {
  return { market: await scanPerBar('market'), uniform: await scanPerBar('uniform') };
}

function logScan(figures: ScanFigures): void {
  for (const market of ['market', 'uniform'] as const) logScanOf(market, figures[market]);
}

function logScanOf(market: PanelMarket, scanMs: Awaited<ReturnType<typeof scanPerBar>>): void {
  log(`scan of a bar close (${market} panel), ${quick ? 2_000 : 10_000} symbols x ${standardIndicators.length} indicators + rank + z-score: js ${scanMs.js.toFixed(2)} ms, wasm ${scanMs.wasm.toFixed(2)} ms (${(scanMs.js / scanMs.wasm).toFixed(2)}x js), workers (wasm on ${scanMs.workersThreads} threads) ${scanMs.workers.toFixed(2)} ms (${(scanMs.js / scanMs.workers).toFixed(2)}x js); same bits: ${scanMs.sameBits}`);
}

const scanMsOf = (scanMs: Awaited<ReturnType<typeof scanPerBar>>): object => (
  { js: Number(scanMs.js.toFixed(2)), wasm: Number(scanMs.wasm.toFixed(2)), workers: Number(scanMs.workers.toFixed(2)) });

const scanKeys = (figures: ScanFigures): object => ({
  scanMsPerBar: scanMsOf(figures.market),
  scanMsPerBarUniform: scanMsOf(figures.uniform),
  scanThreads: { workers: figures.market.workersThreads },
  scanSameBits: figures.market.sameBits && figures.uniform.sameBits,
});

type TickFigures = Awaited<ReturnType<typeof tickP99ScansOnOff>>;

function logTick(tick: TickFigures): void {
  const ratios = tick.pairRatios.map((r) => r.toFixed(2)).join(' ');
  log(`tick-to-order p99, scans on over off: median ${median(tick.pairRatios).toFixed(3)}x over ${tick.pairRatios.length} pairs (${ratios})`);
  log(`  pooled: scans off ${tick.off.toFixed(1)} µs, on ${tick.on.toFixed(1)} µs (${(tick.on / tick.off).toFixed(2)}x); p50 ${tick.offP50.toFixed(1)} / ${tick.onP50.toFixed(1)} µs; ${tick.scansCompleted} scans completed`);
}

const tickKeys = (tick: TickFigures): object => ({
  tickP99RatioScansOnOff: Number(median(tick.pairRatios).toFixed(3)),
  tickP99RatioPooled: Number((tick.on / tick.off).toFixed(3)),
  tickP99Micros: { off: Number(tick.off.toFixed(1)), on: Number(tick.on.toFixed(1)) },
  tickP50Micros: { off: Number(tick.offP50.toFixed(1)), on: Number(tick.onP50.toFixed(1)) },
  scansCompleted: tick.scansCompleted,
});

/** `--scan`: the bar close's scan alone, on every kernel set. */
async function scanMain(): Promise<void> {
  const scanMs = await scanPerBarBoth();
  logScan(scanMs);
  console.log(JSON.stringify({ bench: 'inpod', quick, ...scanKeys(scanMs) }));
}

/** The warm start per backend against the streaming replay, medians of `runs`; the history is built here and left here. */
async function warmStartFigures(): Promise<{ warm: Record<'js' | 'wasm' | 'workers', number>; streamingReplayMs: number; identical: boolean }> {
  const history = buildHistory();
  const inline = engineConfig('inline');
  log(`${SYMBOLS} symbols x ${TRADES} trades x ${standardIndicators.length} indicators (${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version})`);
  const runs = quick ? 1 : 3;
  const replayMs: number[] = [];
  const jsMs: number[] = [];
  const wasmMs: number[] = [];
  const workersMs: number[] = [];
  const wasm = { kernels: await openWasmWarmStates(), reason: 'bench' };
  let identical = true;
  for (let run = 0; run < runs; run++) {
    const streamed = processor(inline);
    replayMs.push(streamingReplay(streamed, history));
    const warmed = processor(inline);
    jsMs.push(warmStart(warmed, history, () => true, monoNowNs, { kernels: jsWarmStates, reason: 'bench' }).durationMs);
    identical &&= sameOutputs(streamed, warmed);
    const warmedWasm = processor(inline);
    wasmMs.push(warmStart(warmedWasm, history, () => true, monoNowNs, wasm).durationMs);
    identical &&= sameOutputs(streamed, warmedWasm);
    workersMs.push((await workersWarmStart(engineConfig('workers'), history)).durationMs);
    log(`run ${run + 1}: streaming replay ${replayMs[run].toFixed(0)} ms, warm start js ${jsMs[run].toFixed(0)} ms, wasm ${wasmMs[run].toFixed(0)} ms, workers (2 threads) ${workersMs[run].toFixed(0)} ms`);
  }
  return { warm: { js: median(jsMs), wasm: median(wasmMs), workers: median(workersMs) }, streamingReplayMs: median(replayMs), identical };
}

async function main(): Promise<void> {
  // The scans first, on a heap without the warm start's history and processors: a pod's scan thread has its own.
  const scanMs = await scanPerBarBoth();
  logScan(scanMs);
  const correlation = await correlationPerBackend();
  const jsCorrelation = correlation.ms.js ?? Number.NaN;
  for (const [name, ms] of Object.entries(correlation.ms)) {
    log(`correlation ${quick ? 300 : 1_000} x ${quick ? 300 : 1_000} over 256 bars on ${name}: ${ms.toFixed(1)} ms (${(jsCorrelation / ms).toFixed(1)}x js; ${correlation.agreement[name]})`);
  }
  if (correlation.gpuAdapter !== undefined) log(`gpu adapter: ${correlation.gpuAdapter}`);
  for (const [name, why] of Object.entries(correlation.unavailable)) log(`${name}: unavailable (${why})`);
  const cpuBest = Math.min(...(['js', 'wasm', 'workers'] as const).map((name) => correlation.ms[name] ?? Infinity));
  const tick = await tickP99ScansOnOff();
  logTick(tick);
  const { warm, streamingReplayMs, identical } = await warmStartFigures();
  const best = Math.min(warm.js, warm.wasm, warm.workers);
  log(`medians: streaming replay ${streamingReplayMs.toFixed(0)} ms; warm start js ${warm.js.toFixed(0)} ms (${(streamingReplayMs / warm.js).toFixed(1)}x), wasm ${warm.wasm.toFixed(0)} ms (${(streamingReplayMs / warm.wasm).toFixed(1)}x), workers ${warm.workers.toFixed(0)} ms (${(streamingReplayMs / warm.workers).toFixed(1)}x); identical outputs: ${identical}`);
  console.log(JSON.stringify({
    bench: 'inpod', node: process.version, cpu: cpus()[0]?.model ?? 'cpu', cores: cpus().length, quick, symbols: SYMBOLS, trades: TRADES,
    warmStart: { js: Math.round(warm.js), wasm: Math.round(warm.wasm), workers: Math.round(warm.workers) },
    streamingReplayMs: Math.round(streamingReplayMs),
    speedup: Number((streamingReplayMs / best).toFixed(2)),
    identical,
    ...scanKeys(scanMs),
    correlationMs: Object.fromEntries(Object.entries(correlation.ms).map(([name, ms]) => [name, Number(ms.toFixed(1))])),
    correlationAgreement: correlation.agreement,
    ...(correlation.gpuAdapter === undefined ? {} : { gpuAdapter: correlation.gpuAdapter }),
    ...(correlation.ms.gpu === undefined ? {} : { gpuOverBestCpu: Number((cpuBest / correlation.ms.gpu).toFixed(2)) }),
    ...tickKeys(tick),
    pending: ['warmStart.gpu', 'scanMsPerBar.gpu', ...Object.keys(correlation.unavailable).map((name) => `correlationMs.${name}`)],
  }));
}

/** `--tick`: tick-to-order p99 with scans on and off, alone. */
async function tickMain(): Promise<void> {
  const tick = await tickP99ScansOnOff();
  logTick(tick);
  console.log(JSON.stringify({ bench: 'inpod', quick, ...tickKeys(tick) }));
}

await (scanOnly ? scanMain() : tickOnly ? tickMain() : main());
