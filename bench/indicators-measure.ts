/**
 * Timing, allocation and comparison helpers for bench/indicators.ts, plus the memory-bandwidth baseline that the
 * one-pass indicators race. Nothing here knows about indicators or libraries.
 */
import { PerformanceObserver } from 'node:perf_hooks';

/** One timed case: its median over the timed repetitions, in ns per point (or per update). */
export interface Timing {
  readonly nsPerPoint: number;
  readonly minNsPerPoint: number;
  readonly reps: number;
}

export interface MeasureOptions {
  /** Points each call processes (the divisor for ns per point). */
  readonly points: number;
  /**
   * The warm-up: the same work on a smaller input, called at least `minWarm` times and then until `warmMs` have
   * passed (at most 30 calls), so that V8 has tiered the code up to optimised code before anything is timed (a
   * single cold call of a 1M loop runs several times slower). Default: `run` itself, at least twice.
   */
  readonly warm?: () => unknown;
  readonly minWarm?: number;
  readonly warmMs?: number;
  /** Timed repetitions: at least `minReps`, more while under `budgetMs`, at most `maxReps`. */
  readonly minReps?: number;
  readonly maxReps?: number;
  readonly budgetMs?: number;
}

const collect = (): void => globalThis.gc?.();

/** Keeps results observable so the JIT cannot drop the work that produced them. */
let sink = 0;
export function consume(value: unknown): void {
  if (typeof value === 'number') sink += value;
  else if (value !== null && value !== undefined) sink += 1;
}
export const sinkValue = (): number => sink;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

async function call(run: () => unknown): Promise<void> {
  let result = run();
  if (isThenable(result)) result = await result;
  consume(result);
}

/**
 * A full GC (when gc is exposed), so the previous case's garbage is not collected on this one's clock; then the
 * warm-up (see MeasureOptions.warm), one untimed call of `run` (full-size outputs allocated, caches filled) and
 * the timed calls. No GC between timed calls: a full GC there threw away the optimised code of our streaming
 * loops (40 instead of 7 ns/update, and heap numbers allocated until it was re-optimised). A library's own
 * garbage is collected on its own clock. `run` may return a Promise (the workers backend); it is awaited inside
 * the timed span.
 */
export async function measure(run: () => unknown, options: MeasureOptions): Promise<Timing> {
  const { points, warm = run, minReps = 3, maxReps = 7, budgetMs = 1500, warmMs = 300 } = options;
  const minWarm = options.minWarm ?? (options.warm === undefined ? 2 : 5);
  collect();
  const warmStart = performance.now();
  for (let calls = 0; calls < minWarm || (calls < 30 && performance.now() - warmStart < warmMs); calls++) await call(warm);
  await call(run);
  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < minReps || (samples.length < maxReps && performance.now() - started < budgetMs)) {
    const t0 = performance.now();
    let value = run();
    if (isThenable(value)) value = await value;
    const t1 = performance.now();
    consume(value);
    samples.push(((t1 - t0) * 1e6) / points);
  }
  return { nsPerPoint: median(samples), minNsPerPoint: Math.min(...samples), reps: samples.length };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function geometricMean(values: readonly number[]): number {
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

/** Heap growth over one call and the collections it caused. */
export interface Allocation {
  readonly bytesPerUpdate: number;
  readonly gcs: number;
}

/**
 * Heap growth of one call of `run` (which performs `updates` updates), and how many collections happened during
 * it; the smaller of two passes, so a one-off deoptimisation in one pass (boxed doubles until re-optimised) does
 * not read as allocation per update, while code that allocates on every update shows in both. Call it right after
 * `measure` of the same `run`, with the code optimised (no GC first: see `measure`). A collection during the pass
 * hides what it freed, so a non-zero `gcs` means "allocates" even when the growth reads small; zero growth with
 * zero collections means nothing was allocated per update.
 */
export async function measureAllocation(run: () => unknown, updates: number): Promise<Allocation> {
  const passes: Allocation[] = [];
  for (let pass = 0; pass < 2; pass++) {
    let gcs = 0;
    const observer = new PerformanceObserver((list) => {
      gcs += list.getEntries().length;
    });
    observer.observe({ entryTypes: ['gc'] });
    const before = process.memoryUsage().heapUsed;
    consume(run());
    const after = process.memoryUsage().heapUsed;
    await new Promise((resolve) => setImmediate(resolve)); // gc entries arrive asynchronously
    observer.disconnect();
    passes.push({ bytesPerUpdate: Math.max(0, after - before) / updates, gcs });
  }
  return passes.reduce((a, b) => (b.gcs < a.gcs || (b.gcs === a.gcs && b.bytesPerUpdate < a.bytesPerUpdate) ? b : a));
}

/** The physical floor for a one-pass kernel over a Float64Array, measured in the same run. */
export interface Bandwidth {
  /** Sum with four independent accumulators: reads 8 bytes per point. */
  readonly sumNsPerPoint: number;
  /** `out[i] = in[i]`: reads 8 and writes 8 bytes per point, like a one-input, one-output indicator. */
  readonly copyNsPerPoint: number;
  /** `out.set(in)` (memcpy). */
  readonly memcpyNsPerPoint: number;
  readonly sumGBs: number;
  readonly copyGBs: number;
}

function sum4(values: Float64Array): number {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const n = values.length - (values.length % 4);
  for (let i = 0; i < n; i += 4) {
    a += values[i];
    b += values[i + 1];
    c += values[i + 2];
    d += values[i + 3];
  }
  for (let i = n; i < values.length; i++) a += values[i];
  return a + b + c + d;
}

function copyLoop(from: Float64Array, to: Float64Array): number {
  for (let i = 0; i < from.length; i++) to[i] = from[i];
  return to[to.length - 1];
}

export async function measureBandwidth(values: Float64Array): Promise<Bandwidth> {
  const out = new Float64Array(values.length);
  const n = values.length;
  const options = { points: n, minReps: 7, maxReps: 15, budgetMs: 500 };
  const sum = await measure(() => sum4(values), options);
  const copy = await measure(() => copyLoop(values, out), options);
  const memcpy = await measure(() => {
    out.set(values);
    return out[0];
  }, options);
  return {
    sumNsPerPoint: sum.nsPerPoint,
    copyNsPerPoint: copy.nsPerPoint,
    memcpyNsPerPoint: memcpy.nsPerPoint,
    sumGBs: 8 / sum.nsPerPoint,
    copyGBs: 16 / copy.nsPerPoint,
  };
}

/**
 * How far `theirs` is from `ours` on the settled tail: both aligned at the END (every library puts the value for
 * the last bar last, whatever it drops or pads during warm-up), compared over the last `tail` points, as the
 * largest absolute difference divided by the largest |ours| there. NaN/undefined in theirs counts as a mismatch.
 */
export function tailDifference(ours: Float64Array, theirs: ArrayLike<number | undefined>, tail: number): number {
  const n = ours.length;
  const m = theirs.length;
  if (m < tail) return Infinity;
  let scale = 0;
  let worst = 0;
  for (let k = 1; k <= tail; k++) {
    const a = ours[n - k];
    const b = theirs[m - k];
    if (typeof b !== 'number' || !Number.isFinite(b)) return Infinity;
    scale = Math.max(scale, Math.abs(a));
    worst = Math.max(worst, Math.abs(a - b));
  }
  return worst === 0 ? 0 : worst / (scale === 0 ? 1 : scale);
}

/** A markdown table, numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** ns figures with 3 significant digits, enough for run-to-run noise of a few percent. */
export function ns(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function ratio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)}x`;
}

/**
 * The memory-bandwidth ceiling of a parallel scan, measured: `threads` worker threads each run the floor pass
 * (a four-accumulator read plus a memcpy) over their own 1/threads of `length` doubles, started together; the
 * best of `reps` rounds in ns per point of the whole. Against the same pass on one thread it says how much
 * faster any memory-bound scan can get with that many threads on this machine (the host's memory system, not
 * the cores, sets it).
 */
export async function measureParallelFloor(length: number, threads: number, reps: number): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const src = new Float64Array(workerData).fill(1);
    const dst = new Float64Array(workerData);
    parentPort.on('message', () => {
      const t0 = performance.now();
      let a = 0, b = 0, c = 0, d = 0;
      for (let i = 0; i + 3 < src.length; i += 4) { a += src[i]; b += src[i + 1]; c += src[i + 2]; d += src[i + 3]; }
      dst.set(src);
      parentPort.postMessage(a + b + c + d + performance.now() - t0);
    });`;
  const workers = Array.from({ length: threads }, () => new Worker(code, { eval: true, workerData: Math.ceil(length / threads) }));
  const round = (): Promise<unknown[]> => Promise.all(workers.map((w) => new Promise((resolve) => {
    w.once('message', resolve);
    w.postMessage(0);
  })));
  try {
    for (let i = 0; i < 2; i++) await round();
    let best = Infinity;
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await round();
      best = Math.min(best, performance.now() - t0);
    }
    return (best * 1e6) / length;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
