/**
 * `npm run bench:gpu [-- --json] [-- --quick]`: the GPU crossover, also run as part 5 of bench/indicators.ts.
 *
 * For panels of 1, 4, 16, 64, 256, 1,024 and 2,000 symbols x 10,000 bars (--quick: 1, 16, 256), EMA20 over
 * the panel on the gpu backend (emaMany: f32 upload, kernel, readback and widening into the f64 output, all on the
 * clock), on the wasm backend's SIMD emaMany (synchronous, the best CPU backend for panels) and on the JS
 * reference, one createJsBackend().ema call per symbol. Figures are ns per point per symbol (call time / (symbols
 * x bars)); "gpu / best CPU" is the GPU figure over the better of wasm and js measured at the same size in the same
 * run, and the crossover is the smallest panel where the GPU is faster than that, or "none up to N symbols".
 * Every GPU result is checked against the JS one on its first and last symbol within GPU_TOLERANCE (relative to
 * the symbol's largest |close|).
 *
 * The adapter is printed with its kind: on a software adapter (Mesa llvmpipe on a machine without a GPU) the
 * kernels run on this machine's CPU cores, so a crossover there, or its absence, says nothing about a real GPU.
 * A GPU call that would take over GPU_CALL_LIMIT_MS (extrapolated linearly from the previous size) is skipped and
 * says so (a guard for slow adapters: on Mesa llvmpipe, 2 cores, 2,000 x 10,000 took about 14 s per call). GPU
 * repetitions are few (1 to 5, while under a second or three): each includes the transfers, so they vary little,
 * and a software adapter is slow.
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJsBackend } from '../engine/batch/js-backend.ts';
import { toBarMajor } from '../engine/batch/panel.ts';
import { createWasmBackend, type WasmBackend } from '../engine/batch/wasm-backend.ts';
import { adapterSummary, type GpuAdapterReport } from '../engine/batch/gpu-adapter.ts';
import { createGpuBackend, GPU_TOLERANCE, type GpuBackend } from '../engine/batch/gpu-backend.ts';
import { randomWalkBars } from '../engine/batch/series.ts';
import { measure, ns, ratio, table, type Timing } from './indicators-measure.ts';

/** One GPU call (a whole panel) longer than this is not made: the size is skipped (or, in the scan, subset). */
export const GPU_CALL_LIMIT_MS = 20_000;
const CROSSOVER_BARS = 10_000;
const PERIOD = 20;
const SIZES = [1, 4, 16, 64, 256, 1024, 2000];
const QUICK_SIZES = [1, 16, 256];

/**
 * The multi-symbol scan's universe (bench/indicators.ts part 4): symbol s is the seeded random walk 1000 + s,
 * starting at 20 + (s mod 400), so prices span 20..420.
 */
export function scanCloses(symbols: number, bars: number): Float64Array[] {
  const series: Float64Array[] = [];
  for (let s = 0; s < symbols; s++) series.push(randomWalkBars(bars, 1000 + s, 20 + (s % 400)).close);
  return series;
}

export function maxAbs(values: Float64Array): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/**
 * The largest |panel[t, s] - reference[t]| over symbol s's column of a bar-major panel; Infinity where one is NaN
 * and the other is not (warm-up misaligned) or a value is not finite.
 */
export function columnError(panel: Float64Array, symbols: number, s: number, reference: Float64Array): number {
  let worst = 0;
  for (let t = 0; t < reference.length; t++) {
    const v = panel[t * symbols + s];
    const e = reference[t];
    const vNaN = v !== v;
    if (vNaN || e !== e) {
      if (vNaN !== (e !== e)) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(v - e));
  }
  return worst;
}

/** The adapter's kind, spelled out for the tables: what a GPU figure measured on it can and cannot say. */
export function adapterNote(report: GpuAdapterReport): string {
  return report.kind === 'software'
    ? `software adapter (${adapterSummary(report)}): the GPU kernels ran on this machine's CPU cores, so a GPU figure or crossover here says nothing about a real GPU`
    : `hardware adapter (${adapterSummary(report)}); GPU driver libraries mapped: ${report.driverLibraries.length > 0 ? report.driverLibraries.join(', ') : 'none seen'}`;
}

export interface CrossoverRow {
  readonly symbols: number;
  /** ns per point per symbol, emaMany including upload and readback; absent when skipped or unavailable. */
  readonly gpu?: number;
  readonly gpuReps?: number;
  /** Median time of one GPU call, ms. */
  readonly gpuCallMs?: number;
  readonly wasm?: number;
  readonly js: number;
  readonly bestCpu: { readonly backend: 'wasm' | 'js'; readonly nsPerPoint: number };
  /** gpu / bestCpu: under 1 means the GPU was faster. */
  readonly gpuOverBestCpu?: number;
  /** The first and last symbol within GPU_TOLERANCE.relative x their largest |close| of the JS EMA. */
  readonly gpuWithinTolerance?: boolean;
  /** Largest error on those symbols relative to their largest |close|. */
  readonly gpuMaxRelativeError?: number;
  readonly skipped?: string;
}

export interface CrossoverReport {
  readonly bars: number;
  readonly period: number;
  readonly sizes: readonly number[];
  readonly adapter?: GpuAdapterReport;
  readonly adapterSummary?: string;
  readonly adapterKind?: 'hardware' | 'software';
  readonly gpuUnavailable?: string;
  readonly wasmUnavailable?: string;
  readonly rows: readonly CrossoverRow[];
  /** Smallest panel (symbols) where the GPU beat the best CPU backend; null when it never did. */
  readonly crossoverSymbols: number | null;
  readonly crossover: string;
  readonly note: string;
  readonly tolerance: typeof GPU_TOLERANCE;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0];

export async function measureCrossover(quick: boolean): Promise<CrossoverReport> {
  const sizes = quick ? QUICK_SIZES : SIZES;
  const bars = CROSSOVER_BARS;
  const cpuReps = quick ? { minReps: 3, maxReps: 7, budgetMs: 300 } : { minReps: 5, maxReps: 15, budgetMs: 1000 };
  const gpuReps = quick ? { minReps: 1, maxReps: 3, budgetMs: 1000 } : { minReps: 1, maxReps: 5, budgetMs: 3000 };
  const js = createJsBackend();
  let wasm: WasmBackend | undefined;
  let wasmUnavailable: string | undefined;
  try {
    wasm = await createWasmBackend();
  } catch (error) {
    wasmUnavailable = errorText(error);
  }
  let gpu: GpuBackend | undefined;
  let gpuUnavailable: string | undefined;
  try {
    gpu = await createGpuBackend();
  } catch (error) {
    gpuUnavailable = errorText(error);
  }
  const series = scanCloses(Math.max(...sizes), bars);
  const outs = series.map(() => new Float64Array(bars));
  // Kernel compilation is per layout (one symbol is the folded layout, more the panel one): a 1- and a 2-symbol
  // panel warm them up, outside the clock.
  const tiny = [1, 2].map((n) => ({ n, panel: toBarMajor(series.slice(0, n)) }));
  const rows: CrossoverRow[] = [];
  let last: { symbols: number; callMs: number } | undefined;
  let gpuFailed: string | undefined;
  try {
    for (const symbols of sizes) {
      const points = symbols * bars;
      const panel = toBarMajor(series.slice(0, symbols));
      const panelOut = new Float64Array(points);
      const jsTiming = await measure(() => {
        for (let s = 0; s < symbols; s++) js.ema(series[s], PERIOD, outs[s]);
        return outs[0][bars - 1];
      }, { points, ...cpuReps });
      const w = wasm;
      const wasmTiming = w === undefined ? undefined : await measure(() => w.emaMany(panel, symbols, bars, PERIOD, panelOut), { points, ...cpuReps });
      const bestCpu = wasmTiming !== undefined && wasmTiming.nsPerPoint < jsTiming.nsPerPoint
        ? { backend: 'wasm' as const, nsPerPoint: wasmTiming.nsPerPoint }
        : { backend: 'js' as const, nsPerPoint: jsTiming.nsPerPoint };
      const cpu = { symbols, js: jsTiming.nsPerPoint, wasm: wasmTiming?.nsPerPoint, bestCpu };
      if (gpu === undefined) {
        rows.push({ ...cpu, skipped: 'gpu unavailable' });
        continue;
      }
      const estimateMs = last === undefined ? 0 : (last.callMs * symbols) / last.symbols;
      if (estimateMs > GPU_CALL_LIMIT_MS) {
        rows.push({ ...cpu, skipped: `GPU call estimated at ${(estimateMs / 1000).toFixed(0)} s (over ${GPU_CALL_LIMIT_MS / 1000} s)` });
        continue;
      }
      if (gpuFailed !== undefined) {
        rows.push({ ...cpu, skipped: `gpu failed at ${gpuFailed}` });
        continue;
      }
      const warm = tiny[Math.min(symbols, 2) - 1];
      const g = gpu;
      let timing: Timing;
      try {
        timing = await measure(() => g.emaMany(panel, symbols, bars, PERIOD, panelOut), {
          points, warm: () => g.emaMany(warm.panel, warm.n, bars, PERIOD), minWarm: 1, warmMs: 0, ...gpuReps,
        });
      } catch (error) {
        gpuFailed = `${symbols} symbols: ${errorText(error)}`;
        rows.push({ ...cpu, skipped: `failed: ${errorText(error)}` });
        continue;
      }
      const callMs = (timing.nsPerPoint * points) / 1e6;
      last = { symbols, callMs };
      // outs[s] still holds the JS EMA of symbol s from the js timing above.
      const checked = [...new Set([0, symbols - 1])].map((s) => columnError(panelOut, symbols, s, outs[s]) / maxAbs(series[s]));
      const worst = Math.max(...checked);
      rows.push({
        ...cpu, gpu: timing.nsPerPoint, gpuReps: timing.reps, gpuCallMs: callMs, gpuOverBestCpu: timing.nsPerPoint / bestCpu.nsPerPoint,
        gpuWithinTolerance: worst <= GPU_TOLERANCE.relative, gpuMaxRelativeError: worst,
      });
    }
  } finally {
    await gpu?.close();
    await wasm?.close();
    await js.close();
  }
  const timed = rows.filter((r) => r.gpu !== undefined);
  const winner = timed.find((r) => r.gpuOverBestCpu! < 1);
  const crossover = gpu === undefined ? 'not measured: gpu unavailable'
    : winner !== undefined ? `${winner.symbols} symbols (GPU ${ratio(1 / winner.gpuOverBestCpu!)} faster than ${winner.bestCpu.backend} there)`
      : timed.length === 0 ? 'not measured'
        : `none up to ${timed[timed.length - 1].symbols} symbols${timed.length < rows.length ? ' (larger panels skipped)' : ''}`;
  const adapter = gpu?.adapter;
  return {
    bars, period: PERIOD, sizes, adapter, adapterSummary: adapter === undefined ? undefined : adapterSummary(adapter), adapterKind: adapter?.kind,
    gpuUnavailable, wasmUnavailable, rows, crossoverSymbols: winner?.symbols ?? null, crossover,
    note: adapter === undefined ? 'no adapter' : adapterNote(adapter), tolerance: GPU_TOLERANCE,
  };
}

/** The crossover as printed lines: a table, the crossover, the adapter and what its kind means. */
export function crossoverLines(report: CrossoverReport): string[] {
  const lines = [
    `## GPU crossover: EMA${report.period} over a panel of N symbols x ${report.bars.toLocaleString('en')} bars, ns per point per symbol (GPU: emaMany with upload and readback; wasm: SIMD emaMany; js: ema per symbol)\n`,
    `Adapter: ${report.adapterSummary ?? `unavailable: ${report.gpuUnavailable ?? '?'}`}${report.adapterKind === undefined ? '' : ` (kind: ${report.adapterKind})`}`,
    table(['symbols', 'gpu', 'wasm panel', 'js per symbol', 'best CPU', 'gpu / best CPU', 'gpu call', `gpu within ${report.tolerance.relative.toExponential(0)}`], report.rows.map((r) => [
      r.symbols.toLocaleString('en'), r.gpu === undefined ? (r.skipped ?? '–') : ns(r.gpu), ns(r.wasm), ns(r.js),
      `${r.bestCpu.backend} ${ns(r.bestCpu.nsPerPoint)}`, ratio(r.gpuOverBestCpu),
      r.gpuCallMs === undefined ? '–' : `${r.gpuCallMs >= 1000 ? `${(r.gpuCallMs / 1000).toFixed(1)} s` : `${r.gpuCallMs.toFixed(1)} ms`} (${r.gpuReps} rep${r.gpuReps === 1 ? '' : 's'})`,
      r.gpuWithinTolerance === undefined ? '–' : r.gpuWithinTolerance ? `yes (${r.gpuMaxRelativeError!.toExponential(1)})` : `DIFFERS (${r.gpuMaxRelativeError!.toExponential(1)})`,
    ])),
    `Crossover (smallest panel where the GPU beats the best CPU backend): ${report.crossover}`,
  ];
  if (report.wasmUnavailable !== undefined) lines.push(`wasm: unavailable: ${report.wasmUnavailable}`);
  if (report.adapterKind === 'software') lines.push(`NOTE: ${report.note}.`);
  else lines.push(report.note);
  return lines;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const quick = args.includes('--quick');
  const say = (line: string): void => {
    if (json) process.stderr.write(`${line}\n`);
    else console.log(line);
  };
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  say(`bench:gpu on ${cpus().length} cores (${cpu}), node ${process.version}${quick ? ' (--quick: not the reported figures)' : ''}\n`);
  const report = await measureCrossover(quick);
  for (const line of crossoverLines(report)) say(line);
  if (json) console.log(JSON.stringify({ bench: 'gpu-crossover', node: process.version, cpu, cores: cpus().length, quick, seed: 1000, ...report }));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
  // Dawn's instance can keep the event loop alive after the backend is closed; stdout is a file or a pipe
  // (written synchronously on Linux), so nothing printed is lost.
  process.exit(0);
}
