/**
 * `npm run bench:indicators [-- --json] [-- --quick]`: our indicators raced, in one run, against the physical
 * floor and the peer libraries, printed as ratios against baselines measured in the same run.
 *
 *   1. Memory bandwidth on one core: a four-accumulator sum and a copy loop over 1M doubles, the floor for a
 *      one-pass indicator (SMA reads one array and writes one: the copy loop).
 *   2. Batch, 1,000,000 seeded random-walk bars (engine/indicators/series.ts), ns per point, outputs
 *      preallocated and reused: our backends (js, wasm) and each peer's batch API (number[] inputs converted once,
 *      outside the clock; streaming-only libraries as an update loop). Each peer's output is checked against ours
 *      on a 2,000-bar prefix (our conventions are TA-Lib's): the largest difference over the last 1,000 bars,
 *      aligned at the end, relative to the largest value there; reported, never fatal.
 *   3. Streaming, ns per update() over the same 1M bars: our classes vs trading-signals and @debut/indicators,
 *      and the heap growth and GCs per update of each (ours must allocate nothing: under 16 KiB of growth for
 *      the whole pass, which is the indicator's construction, and no GC).
 *   4. Multi-symbol scan, 2,000 symbols x 10,000 bars: first the floor for a checked one-pass scan, measured in
 *      the same child (a four-accumulator read of the panel plus a memcpy of it); EMA20 and RSI14 per symbol on
 *      js and wasm; the wasm f64x2 SIMD panel functions on a bar-major panel (backends/panel.ts) with plain
 *      arrays (copied in and out) and with resident arrays (WasmBackend.allocate: in place); the workers backend
 *      (one worker per core running the same SIMD kernels on column shards of resident arrays), with its speed-up
 *      over the one-thread resident row; and the
 *      gpu backend's emaMany/rsiMany (engine/batch/gpu-*.ts), labelled with its adapter (adapterSummary), timed
 *      with f32 upload and readback on the clock, checked on three symbols against the JS functions within
 *      GPU_TOLERANCE ("within f32 tolerance" or DIFFERS; the largest errors are printed) rather than bit for bit.
 *      The GPU row has its own child: one untimed call per kernel on 64 symbols gives the time of a full call;
 *      over GPU_CALL_LIMIT_MS (20 s) the row is timed on the first 2^k symbols that fit and says so (ns per point
 *      per symbol stays comparable; on Mesa llvmpipe, 2 cores, rsiMany over the full panel is an estimated 35 s,
 *      so the row is the first 1,024 symbols); 1-2 timed repetitions. No adapter, or a failure, is a row
 *      `unavailable: <reason>`, never a crash. The adapter report (vendor, device, software or hardware, NVIDIA
 *      driver libraries mapped) is `gpuAdapter` in the JSON.
 *   5. GPU crossover (bench/gpu-crossover.ts, also `npm run bench:gpu`): EMA20 over panels of 1, 4, 16, 64, 256,
 *      1,024 and 2,000 symbols x 10,000 bars (--quick: 1, 16, 256) on the GPU (emaMany, transfers included), the
 *      wasm SIMD emaMany and js ema per symbol: ns per point per symbol, GPU / best CPU backend at the same size,
 *      and the crossover (the smallest panel where the GPU wins, or "none up to N"). The adapter and its kind are
 *      printed: on a software adapter the crossover says nothing about a real GPU. A size whose GPU call would
 *      exceed GPU_CALL_LIMIT_MS is skipped and says so.
 *
 * Targets (printed MET / NOT MET with the figure): best backend >= 10x the fastest pure-JS peer per indicator;
 * SMA within 2x of the copy-loop floor; multi-symbol EMA and RSI under 1.5 ns per point per symbol; workers >= 1.7x
 * one thread; streaming
 * geometric-mean speed-up >= 3x the best streaming peer; zero bytes per update for our streaming classes.
 * Peers that cannot be imported (a native binding that did not build) print `unavailable: <reason>`.
 * Each part runs in its own child process (see "Children" below), one after another, so no library's code or
 * garbage changes another's figures (the GPU parts too: Dawn and its driver live and die in their own child).
 * With --json the tables go to stderr and one JSON object with every figure to stdout. --quick (200k bars,
 * 500 x 4,000 panel, fewer repetitions) is for trying the bench out; its figures are not the reported ones.
 * gc() is exposed at run time (v8.setFlagsFromString) rather than with node --expose-gc: worker threads refuse an
 * inherited --expose-gc in execArgv, and the workers backend spawns workers with the parent's execArgv.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { Atr } from '../engine/indicators/atr.ts';
import { BollingerBands } from '../engine/indicators/bbands.ts';
import { Ema } from '../engine/indicators/ema.ts';
import { Macd } from '../engine/indicators/macd.ts';
import { Rsi } from '../engine/indicators/rsi.ts';
import { randomWalkBars, type Bars } from '../engine/batch/series.ts';
import { Sma } from '../engine/indicators/sma.ts';
import type { BatchBackend } from '../engine/batch/batch-backend.ts';
import { createJsBackend } from '../engine/batch/js-backend.ts';
import { createWasmBackend, type WasmBackend } from '../engine/batch/wasm-backend.ts';
import { createWorkersBackend } from '../engine/batch/workers-backend.ts';
import { toBarMajor } from '../engine/batch/panel.ts';
import { adapterSummary, type GpuAdapterReport } from '../engine/batch/gpu-adapter.ts';
import { createGpuBackend, GPU_TOLERANCE, type GpuBackend } from '../engine/batch/gpu-backend.ts';
import {
  adapterNote, columnError, crossoverLines, GPU_CALL_LIMIT_MS, maxAbs, measureCrossover, scanCloses, type CrossoverReport,
} from './gpu-crossover.ts';
import {
  geometricMean, measure, measureAllocation, measureBandwidth, measureParallelFloor, ns, ratio, table, tailDifference,
  type Allocation, type Bandwidth, type Timing,
} from './indicators-measure.ts';
import {
  indicatorIds, indicatorLabels, loadPeer, peerInput, peerNames, streamingIds, type IndicatorId,
  type StreamingCase, type StreamingId,
} from './indicators-peers.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const BARS = quick ? 200_000 : 1_000_000;
/** Warm-up input: the first bars of the same series (see MeasureOptions.warm). */
const WARM_BARS = quick ? 20_000 : 50_000;
const PREFIX = 2_000;
const TAIL = 1_000;
const SYMBOLS = quick ? 500 : 2_000;
const SYMBOL_BARS = quick ? 4_000 : 10_000;
const REPS = quick ? { minReps: 2, maxReps: 3, budgetMs: 300 } : { minReps: 3, maxReps: 7, budgetMs: 1000 };
/** Agreement threshold for "same result": relative to the largest output on the tail. */
const AGREE = 1e-9;

/**
 * Recorded figures, not measured in this run (1M bars, ns/point, median, measured once on the 2-core development
 * machine in 2026-11): a plain preallocated Float64Array loop per indicator, and the C kernels of tulind and TA-Lib alone.
 */
const FACTS_PLAIN_LOOP: Partial<Record<IndicatorId, number>> = { sma: 1.4, ema: 2.5, rsi: 8.9, macd: 2.7, bbands: 4.7, atr: 5.7 };
const FACTS_C_KERNELS = { low: 1.1, high: 8.5 };

/** Heap growth over a whole streaming pass that still counts as "nothing per update" (construction, measuring). */
const ALLOCATION_SLACK_BYTES = 16 * 1024;

/** Symbols of the first, untimed GPU panel call in the scan: its time sizes the timed GPU panel (GPU_CALL_LIMIT_MS). */
const GPU_PROBE_SYMBOLS = 64;
const GPU_ROW = 'gpu panel (emaMany, rsiMany)';

const TARGETS = { peerSpeedup: 10, smaFloorRatio: 2, multiSymbolNs: 1.5, workersSpeedup: 1.7, streamingSpeedup: 3, bytesPerUpdate: 0 };

if (globalThis.gc === undefined) {
  setFlagsFromString('--expose-gc');
  globalThis.gc = runInNewContext('gc') as typeof globalThis.gc;
}

const say = (line = ''): void => {
  if (json) process.stderr.write(`${line}\n`);
  else console.log(line);
};
const met = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0];

// ----------------------------------------------------------------------------------------------------------------
// Our batch backends: one call per indicator with preallocated outputs, returning them in our output order.

type OurOutputs = Float64Array[];
type OurCase = (bars: Bars) => OurOutputs;

/**
 * Our batch functions on `backend`. With `allocate` (the wasm backend's), inputs and outputs live in the backend's
 * memory: each Bars is copied there once, outside the timing, as an application keeping its series resident
 * would have them, so the timing is the checks and the kernel, no copies.
 */
function ourCases(backend: BatchBackend, allocate?: (length: number) => Float64Array): Record<IndicatorId, OurCase> {
  const cache = new Map<string, Float64Array[]>();
  const array = allocate ?? ((length: number): Float64Array => new Float64Array(length));
  const outs = (key: IndicatorId, count: number, n: number): Float64Array[] => {
    let arrays = cache.get(key);
    if (arrays === undefined || arrays[0].length !== n) {
      arrays = Array.from({ length: count }, () => array(n));
      cache.set(key, arrays);
    }
    return arrays;
  };
  const residentBars = new WeakMap<Bars, Bars>();
  const resident = (bars: Bars): Bars => {
    let copy = residentBars.get(bars);
    if (copy === undefined) {
      const place = (values: Float64Array): Float64Array => {
        const placed = array(values.length);
        placed.set(values);
        return placed;
      };
      copy = { close: place(bars.close), high: place(bars.high), low: place(bars.low), volume: place(bars.volume) };
      residentBars.set(bars, copy);
    }
    return copy;
  };
  const cases: Record<IndicatorId, OurCase> = {
    sma: (b) => [backend.sma(b.close, 20, outs('sma', 1, b.close.length)[0])],
    ema: (b) => [backend.ema(b.close, 20, outs('ema', 1, b.close.length)[0])],
    rsi: (b) => [backend.rsi(b.close, 14, outs('rsi', 1, b.close.length)[0])],
    macd: (b) => {
      const [macd, signal, histogram] = outs('macd', 3, b.close.length);
      backend.macd(b.close, 12, 26, 9, { macd, signal, histogram });
      return [macd, signal, histogram];
    },
    bbands: (b) => {
      const [upper, middle, lower] = outs('bbands', 3, b.close.length);
      backend.bbands(b.close, 20, 2, { upper, middle, lower });
      return [upper, middle, lower];
    },
    atr: (b) => [backend.atr(b.high, b.low, b.close, 14, outs('atr', 1, b.close.length)[0])],
    vwap: (b) => [backend.vwap(b.high, b.low, b.close, b.volume, 20, outs('vwap', 1, b.close.length)[0])],
    stoch: (b) => {
      const [slowK, slowD] = outs('stoch', 2, b.close.length);
      backend.stoch(b.high, b.low, b.close, 14, 3, 3, { slowK, slowD });
      return [slowK, slowD];
    },
  };
  if (allocate === undefined) return cases;
  const placed = {} as Record<IndicatorId, OurCase>;
  for (const id of indicatorIds) placed[id] = (bars) => cases[id](resident(bars));
  return placed;
}

/** Same values including NaN positions, bit for bit (NaN equals NaN). */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(a[i] !== a[i] && b[i] !== b[i])) return false;
  return true;
}

// ----------------------------------------------------------------------------------------------------------------
// Our streaming classes: one function literal each (own type feedback), update() only, result read at the end.

const ourStreaming: Record<StreamingId, StreamingCase> = {
  sma: (bars) => {
    const c = bars.close;
    const ind = new Sma(20);
    for (let i = 0; i < c.length; i++) ind.update(c[i]);
    return ind.result ?? NaN;
  },
  ema: (bars) => {
    const c = bars.close;
    const ind = new Ema(20);
    for (let i = 0; i < c.length; i++) ind.update(c[i]);
    return ind.result ?? NaN;
  },
  rsi: (bars) => {
    const c = bars.close;
    const ind = new Rsi(14);
    for (let i = 0; i < c.length; i++) ind.update(c[i]);
    return ind.result ?? NaN;
  },
  macd: (bars) => {
    const c = bars.close;
    const ind = new Macd(12, 26, 9);
    for (let i = 0; i < c.length; i++) ind.update(c[i]);
    return ind.result?.histogram ?? NaN;
  },
  bbands: (bars) => {
    const c = bars.close;
    const ind = new BollingerBands(20, 2);
    for (let i = 0; i < c.length; i++) ind.update(c[i]);
    return ind.result?.upper ?? NaN;
  },
  atr: (bars) => {
    const { close, high, low } = bars;
    const ind = new Atr(14);
    for (let i = 0; i < close.length; i++) ind.update(close[i], high[i], low[i]);
    return ind.result ?? NaN;
  },
};

// ----------------------------------------------------------------------------------------------------------------
// The workers backend (another module, possibly not in this checkout): async panel functions.

// ----------------------------------------------------------------------------------------------------------------
// Children: each library is measured in its own process. What ran before changes how fast the next code runs
// (importing technicalindicators alone made our streaming SMA twice as slow; after our batch functions our
// streaming classes ran 5x slower and allocated), so every part gets a clean V8: `ours` (bandwidth, our batch
// backends), `ours-streaming`, one child per peer (batch, then its streaming classes), `multi` (the
// multi-symbol scan, with the big panels), `multi-gpu` (its GPU row) and `gpu-crossover`. Children run one after
// another and print one JSON line each.

interface StreamingFigures {
  timing: Timing;
  allocation: Allocation;
}
interface OursReport {
  bandwidth: Bandwidth;
  unavailableBackends: Record<string, string>;
  backends: string[];
  batch: Record<IndicatorId, { timings: Record<string, Timing>; bitExact: Record<string, boolean> }>;
}
type OursStreamingReport = Record<StreamingId, StreamingFigures>;
interface PeerBatchFigures {
  timing?: Timing;
  /** tailDifference against our js output; null when not finite (NaN or a short output). */
  difference?: number | null;
  error?: string;
  note?: string;
}
interface PeerReport {
  name: string;
  native: boolean;
  available: boolean;
  version?: string;
  reason?: string;
  api?: string;
  batch: Partial<Record<IndicatorId, PeerBatchFigures>>;
  streaming: Partial<Record<StreamingId, StreamingFigures | { error: string }>>;
}
interface MultiReport {
  rows: MultiRow[];
  workersReason?: string;
  /** The workers row's speed-up over the one-thread resident wasm SIMD row (same kernels). */
  workersRatio?: { workers: number; ema: number; rsi: number };
  /** ns per point of the floor row. */
  floorNs: number;
  /** The floor pass on one thread / on `threads` threads: the most any memory-bound scan can gain from threads. */
  bandwidthScaling?: { threads: number; ratio: number };
}
/** The GPU row of the multi-symbol scan, measured in its own child (a Dawn or driver crash loses only this row). */
interface MultiGpuReport {
  row: MultiRow;
  adapter?: GpuAdapterReport;
  /** Symbols the GPU row was timed on: all of them, or the first `symbols` when a full call would be too slow. */
  symbols?: number;
  /** One untimed call of each kernel on the first `symbols` symbols, and the full panel's call time from it. */
  probe?: { symbols: number; emaMs: number; rsiMs: number; estimatedFullCallMs: number };
  /** On the checked symbols: EMA error / the symbol's largest |close|, RSI absolute error. */
  maxError?: { emaRelative: number; rsiAbsolute: number };
  reps?: { ema: number; rsi: number };
}

interface Inputs {
  bars: Bars;
  warmBars: Bars;
  prefixBars: Bars;
}

function inputs(): Inputs {
  const bars = randomWalkBars(BARS, 1);
  const head = (n: number): Bars => ({
    close: bars.close.slice(0, n), high: bars.high.slice(0, n), low: bars.low.slice(0, n), volume: bars.volume.slice(0, n),
  });
  return { bars, warmBars: head(WARM_BARS), prefixBars: head(PREFIX) };
}

async function measureOurs(): Promise<OursReport> {
  const { bars, warmBars } = inputs();
  const bandwidth = await measureBandwidth(bars.close);
  const backends: BatchBackend[] = [createJsBackend()];
  const unavailableBackends: Record<string, string> = {};
  const cases = [{ name: 'js', cases: ourCases(backends[0]) }];
  try {
    const wasm = await createWasmBackend();
    backends.push(wasm);
    cases.push({ name: 'wasm', cases: ourCases(wasm) }, { name: 'wasm resident', cases: ourCases(wasm, wasm.allocate) });
  } catch (error) {
    unavailableBackends.wasm = errorText(error);
  }
  const batch = {} as OursReport['batch'];
  for (const indicator of indicatorIds) {
    const timings: Record<string, Timing> = {};
    const bitExact: Record<string, boolean> = {};
    let reference: OurOutputs | undefined;
    for (const { name, cases: c } of cases) {
      timings[name] = await measure(() => c[indicator](bars), { points: BARS, warm: () => c[indicator](warmBars), ...REPS });
      const full = c[indicator](bars).map((a) => a.slice());
      reference ??= full;
      bitExact[name] = full.every((a, k) => sameBits(a, reference![k]));
    }
    batch[indicator] = { timings, bitExact };
  }
  for (const b of backends) await b.close();
  return { bandwidth, unavailableBackends, backends: cases.map((c) => c.name), batch };
}

async function measureOurStreaming(): Promise<OursStreamingReport> {
  const { bars, warmBars } = inputs();
  const streaming = {} as OursStreamingReport;
  for (const id of streamingIds) {
    const run = ourStreaming[id];
    const timing = await measure(() => run(bars), { points: BARS, warm: () => run(warmBars), ...REPS });
    streaming[id] = { timing, allocation: await measureAllocation(() => run(bars), BARS) };
  }
  return streaming;
}

async function measurePeer(name: string): Promise<PeerReport> {
  const load = await loadPeer(name);
  if (!load.available) return { name, native: load.native, available: false, reason: load.reason, batch: {}, streaming: {} };
  const { peer } = load;
  const { bars, warmBars, prefixBars } = inputs();
  const input = peerInput(bars);
  const warmInput = peerInput(warmBars);
  const prefixInput = peerInput(prefixBars);
  const reference = ourCases(createJsBackend());
  const report: PeerReport = { name, native: load.native, available: true, version: load.version, api: peer.api, batch: {}, streaming: {} };
  for (const indicator of indicatorIds) {
    const c = peer.batch[indicator];
    if (c === undefined) continue;
    try {
      const expected = reference[indicator](prefixBars).map((a) => a.slice());
      let difference: number | undefined;
      c.outputs(c.run(prefixInput)).forEach((series, k) => {
        if (series === undefined || k >= expected.length) return;
        difference = Math.max(difference ?? 0, tailDifference(expected[k], series, TAIL));
      });
      const timing = await measure(() => c.run(input), { points: BARS, warm: () => c.run(warmInput), ...REPS });
      report.batch[indicator] = {
        timing, difference: difference === undefined ? undefined : Number.isFinite(difference) ? difference : null, note: c.note,
      };
    } catch (error) {
      report.batch[indicator] = { error: errorText(error), note: c.note };
    }
  }
  for (const id of streamingIds) {
    const run = peer.streaming[id];
    if (run === undefined) continue;
    try {
      const timing = await measure(() => run(bars), { points: BARS, warm: () => run(warmBars), ...REPS });
      report.streaming[id] = { timing, allocation: await measureAllocation(() => run(bars), BARS) };
    } catch (error) {
      report.streaming[id] = { error: errorText(error) };
    }
  }
  return report;
}

async function runChild(name: string): Promise<void> {
  const report = name === 'ours' ? await measureOurs()
    : name === 'ours-streaming' ? await measureOurStreaming()
      : name === 'multi' ? await multiSymbol()
        : name === 'multi-gpu' ? await multiSymbolGpu()
          : name === 'gpu-crossover' ? await measureCrossover(quick)
            : await measurePeer(name);
  console.log(JSON.stringify(report));
  // Dawn's instance can keep the event loop alive after the backend is closed; stdout is a pipe, written
  // synchronously on Linux, so the line above is out.
  if (name === 'multi-gpu' || name === 'gpu-crossover') process.exit(0);
}

/** Runs this file as `--child <name>` under the same node flags (tsx's --import) and parses its JSON line. */
async function child<T>(name: string): Promise<T> {
  const script = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, [...process.execArgv, script, '--child', name, ...(quick ? ['--quick'] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  const line = out.trim().split('\n').pop();
  if (code !== 0 || line === undefined || !line.startsWith('{')) throw new Error(`measuring ${name} failed (exit ${code})`);
  return JSON.parse(line) as T;
}

// ----------------------------------------------------------------------------------------------------------------

interface BatchResult {
  indicator: IndicatorId;
  ours: Record<string, Timing>;
  oursBitExact: Record<string, boolean>;
  peers: Record<string, PeerBatchFigures>;
  best: { backend: string; nsPerPoint: number };
  fastestPureJsPeer?: { peer: string; nsPerPoint: number; agrees: boolean };
  speedup?: number;
}

async function main(): Promise<void> {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  say(`bench:indicators on ${cpus().length} cores (${cpu}), node ${process.version}, ${BARS.toLocaleString('en')} bars${quick ? ' (--quick: not the reported figures)' : ''}; each library measured in its own process`);
  const started = performance.now();
  const progress = (what: string): void => {
    if (!json) process.stdout.write(`  measured ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  };
  const ours = await child<OursReport>('ours');
  progress('our batch backends');
  const oursStreaming = await child<OursStreamingReport>('ours-streaming');
  progress('our streaming classes');
  const peers: PeerReport[] = [];
  for (const name of peerNames) {
    try {
      peers.push(await child<PeerReport>(name));
    } catch (error) {
      peers.push({ name, native: false, available: false, reason: errorText(error), batch: {}, streaming: {} });
    }
    progress(name);
  }
  let multi: MultiReport;
  try {
    multi = await child<MultiReport>('multi');
  } catch (error) {
    multi = { rows: [{ backend: 'all', check: errorText(error) }], floorNs: Number.NaN };
  }
  let multiGpu: MultiGpuReport;
  try {
    multiGpu = await child<MultiGpuReport>('multi-gpu');
  } catch (error) {
    multiGpu = { row: { backend: GPU_ROW, check: `unavailable: ${errorText(error)}` } };
  }
  multi.rows.push(multiGpu.row);
  progress('the multi-symbol scan');
  let crossover: CrossoverReport | { error: string };
  try {
    crossover = await child<CrossoverReport>('gpu-crossover');
  } catch (error) {
    crossover = { error: errorText(error) };
  }
  progress('the GPU crossover');

  say('\nPeers:');
  for (const p of peers) {
    const what = p.available ? `${p.version ?? '?'} (${p.api}${p.native ? ', native' : ''})` : `unavailable: ${p.reason}`;
    say(`  ${p.name.padEnd(20)} ${what}`);
  }
  const available = peers.filter((p) => p.available);

  // 1. Bandwidth floor.
  const { bandwidth } = ours;
  say(`\n## Memory bandwidth, one core, ${BARS.toLocaleString('en')} doubles (the floor for a one-pass indicator)\n`);
  say(table(['kernel', 'ns/point', 'GB/s'], [
    ['sum, four accumulators (reads 8 B/point)', ns(bandwidth.sumNsPerPoint), bandwidth.sumGBs.toFixed(1)],
    ['copy loop out[i] = in[i] (reads 8 + writes 8 B/point)', ns(bandwidth.copyNsPerPoint), bandwidth.copyGBs.toFixed(1)],
    ['out.set(in) (memcpy)', ns(bandwidth.memcpyNsPerPoint), (16 / bandwidth.memcpyNsPerPoint).toFixed(1)],
  ]));

  // 2. Batch.
  const batch: BatchResult[] = indicatorIds.map((indicator) => {
    const timings = ours.batch[indicator].timings;
    const peerResults: Record<string, PeerBatchFigures> = {};
    for (const p of available) if (p.batch[indicator] !== undefined) peerResults[p.name] = p.batch[indicator]!;
    const bestName = Object.keys(timings).reduce((a, b) => (timings[b].nsPerPoint < timings[a].nsPerPoint ? b : a));
    const fastest = available.filter((p) => !p.native && peerResults[p.name]?.timing !== undefined)
      .map((p) => ({ peer: p.name, nsPerPoint: peerResults[p.name].timing!.nsPerPoint, agrees: agrees(peerResults[p.name].difference) }))
      .sort((a, b) => a.nsPerPoint - b.nsPerPoint)[0];
    return {
      indicator, ours: timings, oursBitExact: ours.batch[indicator].bitExact, peers: peerResults,
      best: { backend: bestName, nsPerPoint: timings[bestName].nsPerPoint },
      fastestPureJsPeer: fastest,
      speedup: fastest === undefined ? undefined : fastest.nsPerPoint / timings[bestName].nsPerPoint,
    };
  });
  const ourNames = ours.backends;
  const peerColumns = available.map((p) => p.name);
  say(`\n## Batch, ${BARS.toLocaleString('en')} bars, ns per point (median; outputs preallocated; peers from number[])\n`);
  say(table(['indicator', ...ourNames, ...peerColumns], batch.map((r) => [
    indicatorLabels[r.indicator],
    ...ourNames.map((n) => ns(r.ours[n].nsPerPoint)),
    ...peerColumns.map((n) => (r.peers[n]?.error !== undefined ? 'error' : ns(r.peers[n]?.timing?.nsPerPoint))),
  ])));
  for (const [name, reason] of Object.entries(ours.unavailableBackends)) say(`${name}: unavailable: ${reason}`);
  say('wasm resident: the same wasm calls on arrays that live in the backend\'s memory (WasmBackend.allocate, filled once outside the timing): checks and kernel, no copies.');
  say('workers: its single-series calls are the JS functions on the calling thread (one recursion cannot be split); see the multi-symbol scan.');
  for (const p of peers) if (!p.available) say(`${p.name}: unavailable: ${p.reason}`);

  say(`\n## Agreement with ours on the first ${PREFIX.toLocaleString('en')} bars (last ${TAIL.toLocaleString('en')}, aligned at the end): max |diff| / max |ours|; ok <= ${AGREE}\n`);
  const agreement = (f: PeerBatchFigures | undefined): string => {
    if (f === undefined) return '–';
    if (f.error !== undefined) return 'error';
    const d = f.difference;
    if (d === undefined) return '–';
    if (d === null) return 'differs (NaN/short)';
    return d === 0 ? 'ok (exact)' : d <= AGREE ? `ok (${d.toExponential(0)})` : `differs ${d.toExponential(1)}`;
  };
  say(table(['indicator', ...ourNames.slice(1).map((n) => `${n} vs js`), ...peerColumns], batch.map((r) => [
    indicatorLabels[r.indicator],
    ...ourNames.slice(1).map((n) => (r.oursBitExact[n] ? `bit-exact (${BARS >= 1e6 ? `${BARS / 1e6}M` : `${BARS / 1e3}k`})` : 'DIFFERS')),
    ...peerColumns.map((n) => agreement(r.peers[n])),
  ])));
  const notes = new Set<string>();
  for (const r of batch) {
    for (const [name, p] of Object.entries(r.peers)) {
      if (p.note !== undefined) notes.add(`${name} ${indicatorLabels[r.indicator]}: ${p.note}`);
      if (p.error !== undefined) notes.add(`${name} ${indicatorLabels[r.indicator]}: error: ${p.error}`);
    }
  }
  for (const note of notes) say(`- ${note}`);

  say(`\n## Batch ratios: our best backend vs the fastest pure-JS peer (target >= ${TARGETS.peerSpeedup}x), vs recorded figures\n`);
  say(`Recorded on the 2-core development machine (not measured here): "plain loop" is a preallocated Float64Array loop; the C kernels of tulind and TA-Lib alone take ${FACTS_C_KERNELS.low}-${FACTS_C_KERNELS.high} ns/point (last column: ours / ${FACTS_C_KERNELS.high} - ours / ${FACTS_C_KERNELS.low}).`);
  say(table(
    ['indicator', 'ours best', 'ns/pt', 'fastest pure-JS peer', 'ns/pt', 'agrees', 'speed-up', 'target', 'plain loop', 'ours / plain loop', 'ours / C kernels'],
    batch.map((r) => {
      const loop = FACTS_PLAIN_LOOP[r.indicator];
      return [
        indicatorLabels[r.indicator], r.best.backend, ns(r.best.nsPerPoint),
        r.fastestPureJsPeer?.peer ?? '–', ns(r.fastestPureJsPeer?.nsPerPoint), r.fastestPureJsPeer === undefined ? '–' : r.fastestPureJsPeer.agrees ? 'yes' : 'no',
        ratio(r.speedup), r.speedup === undefined ? '–' : met(r.speedup >= TARGETS.peerSpeedup),
        ns(loop), ratio(loop === undefined ? undefined : r.best.nsPerPoint / loop),
        `${ratio(r.best.nsPerPoint / FACTS_C_KERNELS.high)}-${ratio(r.best.nsPerPoint / FACTS_C_KERNELS.low)}`,
      ];
    }),
  ));
  const sma = batch.find((r) => r.indicator === 'sma')!;
  const smaFloorRatio = sma.best.nsPerPoint / bandwidth.copyNsPerPoint;
  say(`SMA20 vs the copy-loop floor: ${ns(sma.best.nsPerPoint)} / ${ns(bandwidth.copyNsPerPoint)} ns/point = ${ratio(smaFloorRatio)} (target <= ${TARGETS.smaFloorRatio}x: ${met(smaFloorRatio <= TARGETS.smaFloorRatio)})`);

  // 3. Streaming.
  const streamPeers = available.filter((p) => Object.keys(p.streaming).length > 0);
  const streaming = {} as Record<StreamingId, { speedup?: number; bestPeer?: string }>;
  for (const id of streamingIds) {
    const timed = streamPeers.flatMap((p) => {
      const f = p.streaming[id];
      return f !== undefined && 'timing' in f ? [{ name: p.name, ns: f.timing.nsPerPoint }] : [];
    }).sort((a, b) => a.ns - b.ns);
    const best = timed[0];
    streaming[id] = { bestPeer: best?.name, speedup: best === undefined ? undefined : best.ns / oursStreaming[id].timing.nsPerPoint };
  }
  const bytes = (a: Allocation | undefined): string => (a === undefined ? '–' : `${a.bytesPerUpdate.toFixed(a.bytesPerUpdate < 1 ? 3 : 1)} B, ${a.gcs} GC`);
  const streamColumns = streamPeers.map((p) => p.name);
  say(`\n## Streaming, ns per update() over ${BARS.toLocaleString('en')} bars; heap growth per update and GCs during one pass\n`);
  say(table(
    ['indicator', 'ours', ...streamColumns, 'speed-up vs best peer', 'ours: alloc/update', ...streamColumns.map((n) => `${n}: alloc/update`)],
    streamingIds.map((id) => {
      const figures = (n: string): StreamingFigures | { error: string } | undefined => streamPeers.find((p) => p.name === n)?.streaming[id];
      const peerNs = (n: string): string => {
        const f = figures(n);
        return f === undefined ? '–' : 'error' in f ? 'error' : ns(f.timing.nsPerPoint);
      };
      const peerAlloc = (n: string): string => {
        const f = figures(n);
        return f === undefined || 'error' in f ? '–' : bytes(f.allocation);
      };
      const s = streaming[id];
      return [
        indicatorLabels[id], ns(oursStreaming[id].timing.nsPerPoint), ...streamColumns.map(peerNs),
        s.speedup === undefined ? '–' : `${ratio(s.speedup)} (vs ${s.bestPeer})`, bytes(oursStreaming[id].allocation), ...streamColumns.map(peerAlloc),
      ];
    }),
  ));
  for (const p of peers) if (!p.available && (p.name === 'trading-signals' || p.name === '@debut/indicators')) say(`${p.name}: unavailable: ${p.reason}`);
  const speedups = streamingIds.map((id) => streaming[id].speedup).filter((s): s is number => s !== undefined);
  const streamingGeomean = speedups.length === 0 ? undefined : geometricMean(speedups);
  const allocations = streamingIds.map((id) => oursStreaming[id].allocation);
  // One pass allocates the indicator itself and its buffers (a few hundred bytes to ~2 KiB), nothing per update:
  // anything past ALLOCATION_SLACK_BYTES, or any GC during the pass, is allocation per update.
  const zeroAllocation = allocations.every((a) => a.gcs === 0 && a.bytesPerUpdate * BARS < ALLOCATION_SLACK_BYTES);
  const worstOurBytes = Math.max(...allocations.map((a) => a.bytesPerUpdate));
  const ourGcs = allocations.reduce((n, a) => n + a.gcs, 0);
  say(`Geometric-mean speed-up vs the best streaming peer: ${streamingGeomean?.toFixed(2) ?? '–'}x (target >= ${TARGETS.streamingSpeedup}x: ${streamingGeomean === undefined ? 'no peer' : met(streamingGeomean >= TARGETS.streamingSpeedup)})`);
  say(`Our streaming classes: at most ${worstOurBytes.toFixed(4)} B/update of heap growth, ${ourGcs} GCs over ${streamingIds.length} x ${BARS.toLocaleString('en')} updates (target: no allocation: ${met(zeroAllocation)})`);

  // 4. Multi-symbol scan.
  say(`\n## Multi-symbol scan, ${SYMBOLS.toLocaleString('en')} symbols x ${SYMBOL_BARS.toLocaleString('en')} bars, ns per point per symbol (total time / (symbols x bars))\n`);
  say(table(['backend', 'EMA20', 'RSI14', 'same as js per symbol'], multi.rows.map((r) => [r.backend, ns(r.ema), ns(r.rsi), r.check])));
  if (multi.workersReason !== undefined) say(`workers: unavailable: ${multi.workersReason}`);
  if (multiGpu.adapter !== undefined) {
    say(`gpu: ${adapterNote(multiGpu.adapter)}.`);
    const p = multiGpu.probe;
    if (p !== undefined) {
      const subset = multiGpu.symbols !== undefined && multiGpu.symbols < SYMBOLS
        ? `, over ${GPU_CALL_LIMIT_MS / 1000} s: timed on the first ${multiGpu.symbols.toLocaleString('en')}` : '';
      const reps = multiGpu.reps === undefined ? '' : `${multiGpu.reps.ema} + ${multiGpu.reps.rsi} timed reps, `;
      say(`gpu: one untimed call on the first ${p.symbols} symbols took ${p.emaMs.toFixed(0)} ms (emaMany), ${p.rsiMs.toFixed(0)} ms (rsiMany): `
        + `about ${(p.estimatedFullCallMs / 1000).toFixed(1)} s per call for all ${SYMBOLS.toLocaleString('en')} symbols${subset}; ${reps}upload and readback included.`);
    }
    const e = multiGpu.maxError;
    if (e !== undefined) say(`gpu: largest error on the checked symbols: EMA20 ${e.emaRelative.toExponential(1)} of max |close| (tolerance ${GPU_TOLERANCE.relative.toExponential(0)}), RSI14 ${e.rsiAbsolute.toExponential(1)} (tolerance ${GPU_TOLERANCE.absolute.toExponential(0)} absolute).`);
  }
  const computed = multi.rows.filter((r) => !r.backend.startsWith('floor'));
  const bestEma = Math.min(...computed.map((r) => r.ema ?? Infinity));
  const bestRsi = Math.min(...computed.map((r) => r.rsi ?? Infinity));
  say(`Best EMA20 ${ns(bestEma)}, RSI14 ${ns(bestRsi)} ns per point per symbol (target < ${TARGETS.multiSymbolNs}: EMA ${met(bestEma < TARGETS.multiSymbolNs)}, RSI ${met(bestRsi < TARGETS.multiSymbolNs)}); `
    + `the floor measured here is ${ns(multi.floorNs)}: best / floor = EMA ${ratio(bestEma / multi.floorNs)}, RSI ${ratio(bestRsi / multi.floorNs)}`);
  const wr = multi.workersRatio;
  const scaling = multi.bandwidthScaling;
  const ceiling = scaling === undefined ? '' : `; the floor pass itself gains ${ratio(scaling.ratio)} from ${scaling.threads} threads here (memory bandwidth, the ceiling for a memory-bound scan)`;
  if (wr !== undefined) say(`Workers x${wr.workers} vs one thread (the same SIMD kernels, resident): EMA20 ${ratio(wr.ema)}, RSI14 ${ratio(wr.rsi)} (target >= ${TARGETS.workersSpeedup}x: EMA ${met(wr.ema >= TARGETS.workersSpeedup)}, RSI ${met(wr.rsi >= TARGETS.workersSpeedup)})${ceiling}`);

  // 5. GPU crossover.
  say('');
  if ('error' in crossover) say(`## GPU crossover\n\nunavailable: ${crossover.error}`);
  else for (const line of crossoverLines(crossover)) say(line);

  // Targets.
  const targets = [
    ...batch.filter((r) => r.speedup !== undefined).map((r) => ({
      target: `${indicatorLabels[r.indicator]}: best backend >= ${TARGETS.peerSpeedup}x fastest pure-JS peer`,
      figure: `${ratio(r.speedup)} (${r.best.backend} ${ns(r.best.nsPerPoint)} vs ${r.fastestPureJsPeer!.peer} ${ns(r.fastestPureJsPeer!.nsPerPoint)})`,
      met: r.speedup! >= TARGETS.peerSpeedup,
    })),
    { target: `SMA20 within ${TARGETS.smaFloorRatio}x of the bandwidth floor (copy loop)`, figure: `${ratio(smaFloorRatio)} (${ns(sma.best.nsPerPoint)} vs ${ns(bandwidth.copyNsPerPoint)} ns/point)`, met: smaFloorRatio <= TARGETS.smaFloorRatio },
    { target: `multi-symbol EMA20 < ${TARGETS.multiSymbolNs} ns/point/symbol`, figure: ns(bestEma), met: bestEma < TARGETS.multiSymbolNs },
    { target: `multi-symbol RSI14 < ${TARGETS.multiSymbolNs} ns/point/symbol`, figure: ns(bestRsi), met: bestRsi < TARGETS.multiSymbolNs },
    ...(wr === undefined ? [] : [
      { target: `workers >= ${TARGETS.workersSpeedup}x one thread, EMA20`, figure: `${ratio(wr.ema)} (${wr.workers} workers)`, met: wr.ema >= TARGETS.workersSpeedup },
      { target: `workers >= ${TARGETS.workersSpeedup}x one thread, RSI14`, figure: `${ratio(wr.rsi)} (${wr.workers} workers)`, met: wr.rsi >= TARGETS.workersSpeedup },
    ]),
    { target: `streaming geometric-mean speed-up >= ${TARGETS.streamingSpeedup}x best streaming peer`, figure: `${streamingGeomean?.toFixed(2) ?? '–'}x`, met: streamingGeomean !== undefined && streamingGeomean >= TARGETS.streamingSpeedup },
    { target: 'no allocation per update (our streaming classes)', figure: `${worstOurBytes.toFixed(4)} B/update max, ${ourGcs} GCs`, met: zeroAllocation },
  ];
  say('\n## Targets\n');
  say(table(['target', 'figure', 'status'], targets.map((t) => [t.target, t.figure, met(t.met)])));
  say(`\n${targets.filter((t) => t.met).length} of ${targets.length} targets met (${((performance.now() - started) / 1000).toFixed(0)} s).`);

  if (json) {
    console.log(JSON.stringify({
      bench: 'indicators', node: process.version, cpu, cores: cpus().length, bars: BARS, quick, seed: 1,
      peers: peers.map(({ batch: _b, streaming: _s, ...p }) => p),
      bandwidth,
      batch: batch.map((r) => ({ ...r, label: indicatorLabels[r.indicator] })),
      unavailableBackends: ours.unavailableBackends,
      facts: { plainLoopNsPerPoint: FACTS_PLAIN_LOOP, cKernelsNsPerPoint: FACTS_C_KERNELS },
      smaFloorRatio,
      streaming: {
        ours: oursStreaming,
        peers: Object.fromEntries(streamPeers.map((p) => [p.name, p.streaming])),
        bestPeerSpeedup: streaming, geometricMeanSpeedup: streamingGeomean, zeroAllocation,
      },
      multiSymbol: { symbols: SYMBOLS, bars: SYMBOL_BARS, ...multi, gpu: { ...multiGpu, row: undefined, tolerance: GPU_TOLERANCE } },
      gpuAdapter: multiGpu.adapter ?? ('error' in crossover ? undefined : crossover.adapter) ?? null,
      gpuCrossover: crossover,
      targets,
    }));
  }
}

function agrees(difference: number | null | undefined): boolean {
  return typeof difference === 'number' && difference <= AGREE;
}

interface MultiRow {
  backend: string;
  ema?: number;
  rsi?: number;
  check: string;
}

async function multiSymbol(): Promise<MultiReport> {
  const js = createJsBackend();
  let wasm: WasmBackend | undefined;
  try {
    wasm = await createWasmBackend();
  } catch {
    // reported by the single-series section
  }
  const series = scanCloses(SYMBOLS, SYMBOL_BARS);
  const outs = series.map(() => new Float64Array(SYMBOL_BARS));
  const length = SYMBOLS * SYMBOL_BARS;
  const panel = toBarMajor(series);
  const panelOut = new Float64Array(length);
  const options = { points: length, minReps: quick ? 2 : 3, maxReps: quick ? 3 : 5, budgetMs: 1500 };
  const refs = {
    ema: [0, 1, SYMBOLS - 1].map((s) => js.ema(series[s], 20)),
    rsi: [0, 1, SYMBOLS - 1].map((s) => js.rsi(series[s], 14)),
  };
  const columnsMatch = (out: Float64Array, id: 'ema' | 'rsi'): boolean => [0, 1, SYMBOLS - 1].every((s, k) => {
    const expected = refs[id][k];
    for (let t = 0; t < SYMBOL_BARS; t++) {
      const v = out[t * SYMBOLS + s];
      if (v !== expected[t] && !(v !== v && expected[t] !== expected[t])) return false;
    }
    return true;
  });
  const perSymbolMatch = (id: 'ema' | 'rsi'): boolean => [0, 1, SYMBOLS - 1].every((s, k) => sameBits(outs[s], refs[id][k]));
  const rows: MultiRow[] = [];

  // The floor for a checked one-pass scan of a panel this size, measured here: one read pass (the value check)
  // plus one memcpy of the panel (the kernel's read and write), on one thread and on one per core, each in a worker
  // thread with its own arrays, so both run the same code the same way.
  const threads = Math.max(1, availableParallelism());
  const floorReps = quick ? 3 : 5;
  const floor = await measureParallelFloor(length, 1, floorReps);
  const parallelFloor = await measureParallelFloor(length, threads, floorReps);
  rows.push({ backend: 'floor: one read pass + memcpy of the panel', ema: floor, rsi: floor, check: 'the limit for a checked one-pass scan' });
  rows.push({ backend: `floor, ${threads} threads (each its 1/${threads} of the panel)`, ema: parallelFloor, rsi: parallelFloor, check: 'the limit for a parallel scan' });

  for (const b of wasm === undefined ? [js] : [js, wasm]) {
    const ema = await measure(() => {
      for (let s = 0; s < SYMBOLS; s++) b.ema(series[s], 20, outs[s]);
      return outs[0][SYMBOL_BARS - 1];
    }, options);
    const emaOk = perSymbolMatch('ema');
    const rsi = await measure(() => {
      for (let s = 0; s < SYMBOLS; s++) b.rsi(series[s], 14, outs[s]);
      return outs[0][SYMBOL_BARS - 1];
    }, options);
    const ok = emaOk && perSymbolMatch('rsi');
    rows.push({ backend: `${b.name}, one series per symbol`, ema: ema.nsPerPoint, rsi: rsi.nsPerPoint, check: ok ? 'bit-exact' : 'DIFFERS' });
  }

  const panelRow = async (label: string, run: PanelRunner, input: Float64Array, out: Float64Array): Promise<MultiRow> => {
    const ema = await measure(() => run.emaMany(input, SYMBOLS, SYMBOL_BARS, 20, out), options);
    const emaOk = columnsMatch(out, 'ema');
    const rsi = await measure(() => run.rsiMany(input, SYMBOLS, SYMBOL_BARS, 14, out), options);
    return { backend: label, ema: ema.nsPerPoint, rsi: rsi.nsPerPoint, check: emaOk && columnsMatch(out, 'rsi') ? 'bit-exact' : 'DIFFERS' };
  };
  let oneThread: MultiRow | undefined;
  if (wasm !== undefined) {
    rows.push(await panelRow('wasm SIMD panel, plain arrays (copied in and out)', wasm, panel, panelOut));
    const input = wasm.allocate(length);
    input.set(panel);
    const out = wasm.allocate(length);
    oneThread = await panelRow('wasm SIMD panel, resident arrays (in place)', wasm, input, out);
    rows.push(oneThread);
    wasm.release(input);
    wasm.release(out);
    await wasm.close();
  } else {
    rows.push({ backend: 'wasm SIMD panel', check: 'unavailable: no wasm backend' });
  }

  let workersReason: string | undefined;
  let workersRatio: MultiReport['workersRatio'];
  try {
    const workers = await createWorkersBackend();
    try {
      const input = workers.allocate(length);
      input.set(panel);
      const out = workers.allocate(length);
      const row = await panelRow(`workers x${workers.pool.size}, resident arrays (SIMD kernels, column shards)`, workers, input, out);
      rows.push(row);
      if (oneThread !== undefined) workersRatio = { workers: workers.pool.size, ema: oneThread.ema! / row.ema!, rsi: oneThread.rsi! / row.rsi! };
    } finally {
      await workers.close();
    }
  } catch (error) {
    workersReason = `failed: ${errorText(error)}`;
    rows.push({ backend: 'workers', check: 'unavailable (below)' });
  }
  return { rows, workersReason, workersRatio, floorNs: floor, bandwidthScaling: { threads, ratio: floor / parallelFloor } };
}

/** The two panel functions the multi-symbol scan times, synchronous (wasm) or not (workers). */
interface PanelRunner {
  emaMany(close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): unknown;
  rsiMany(close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): unknown;
}

/**
 * The scan's GPU row: emaMany and rsiMany on the gpu backend, each call converting to f32, uploading, computing,
 * reading back and widening into the f64 output (all on the clock), checked on three symbols against the JS
 * functions within GPU_TOLERANCE. After the kernels are compiled on two symbols, one untimed call per kernel on
 * GPU_PROBE_SYMBOLS symbols sizes the timed panel: all symbols when a call would take at most GPU_CALL_LIMIT_MS,
 * else the first 2^k symbols that fit (the label says so; ns per point per symbol stays comparable). 1 to 2 timed
 * repetitions.
 */
async function multiSymbolGpu(): Promise<MultiGpuReport> {
  let gpu: GpuBackend;
  try {
    gpu = await createGpuBackend();
  } catch (error) {
    return { row: { backend: GPU_ROW, check: `unavailable: ${errorText(error)}` } };
  }
  const adapter = gpu.adapter;
  const label = `${GPU_ROW}, ${adapterSummary(adapter)}`;
  try {
    const series = scanCloses(SYMBOLS, SYMBOL_BARS);
    const probeSymbols = Math.min(SYMBOLS, GPU_PROBE_SYMBOLS);
    const probePanel = toBarMajor(series.slice(0, probeSymbols));
    // Two symbols: the panel layout's kernels compiled outside the probe, and the warm-up of the timed calls.
    const tinySymbols = Math.min(SYMBOLS, 2);
    const tiny = toBarMajor(series.slice(0, tinySymbols));
    await gpu.emaMany(tiny, tinySymbols, SYMBOL_BARS, 20);
    await gpu.rsiMany(tiny, tinySymbols, SYMBOL_BARS, 14);
    const timeOne = async (run: () => Promise<unknown>): Promise<number> => {
      const t0 = performance.now();
      await run();
      return performance.now() - t0;
    };
    const emaMs = await timeOne(() => gpu.emaMany(probePanel, probeSymbols, SYMBOL_BARS, 20));
    const rsiMs = await timeOne(() => gpu.rsiMany(probePanel, probeSymbols, SYMBOL_BARS, 14));
    const estimatedFullCallMs = (Math.max(emaMs, rsiMs) * SYMBOLS) / probeSymbols;
    const symbols = estimatedFullCallMs <= GPU_CALL_LIMIT_MS ? SYMBOLS
      : Math.max(probeSymbols, 2 ** Math.floor(Math.log2((SYMBOLS * GPU_CALL_LIMIT_MS) / estimatedFullCallMs)));
    const probe = { symbols: probeSymbols, emaMs, rsiMs, estimatedFullCallMs };
    const panel = symbols === probeSymbols ? probePanel : toBarMajor(series.slice(0, symbols));
    const out = new Float64Array(symbols * SYMBOL_BARS);
    const options = { points: symbols * SYMBOL_BARS, minWarm: 1, warmMs: 0, minReps: 1, maxReps: 2, budgetMs: 5000 };
    const checked = [...new Set([0, 1, symbols - 1])];
    const js = createJsBackend();
    const ema = await measure(() => gpu.emaMany(panel, symbols, SYMBOL_BARS, 20, out), { ...options, warm: () => gpu.emaMany(tiny, tinySymbols, SYMBOL_BARS, 20) });
    const emaRelative = Math.max(...checked.map((s) => columnError(out, symbols, s, js.ema(series[s], 20)) / maxAbs(series[s])));
    const rsi = await measure(() => gpu.rsiMany(panel, symbols, SYMBOL_BARS, 14, out), { ...options, warm: () => gpu.rsiMany(tiny, tinySymbols, SYMBOL_BARS, 14) });
    const rsiAbsolute = Math.max(...checked.map((s) => columnError(out, symbols, s, js.rsi(series[s], 14))));
    const ok = emaRelative <= GPU_TOLERANCE.relative && rsiAbsolute <= GPU_TOLERANCE.absolute;
    const subset = symbols < SYMBOLS ? `, timed on the first ${symbols.toLocaleString('en')} of ${SYMBOLS.toLocaleString('en')} symbols` : '';
    return {
      row: { backend: `${label}${subset}`, ema: ema.nsPerPoint, rsi: rsi.nsPerPoint, check: ok ? 'within f32 tolerance' : 'DIFFERS' },
      adapter, symbols, probe, maxError: { emaRelative, rsiAbsolute }, reps: { ema: ema.reps, rsi: rsi.reps },
    };
  } catch (error) {
    return { row: { backend: label, check: `unavailable: failed: ${errorText(error)}` }, adapter };
  } finally {
    await gpu.close();
  }
}

const childIndex = args.indexOf('--child');
if (childIndex >= 0) await runChild(args[childIndex + 1]);
else await main();
