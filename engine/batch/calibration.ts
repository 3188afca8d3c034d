import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { arch, cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomWalkBars } from './series.ts';
import type { AnyBatchBackend, BackendName } from './batch-backend.ts';
import { panelFromBatch, toBarMajor, type AsyncPanelBatch, type PanelBatch } from './panel.ts';

/**
 * What `auto` decides from: ns per point of every backend on a few workload shapes, MEASURED on this machine
 * (never guessed), cached on disk, shown by `nexus indicators --explain`.
 *
 * Shapes: `series` (one symbol, the batch functions: SMA, EMA and RSI per point), `panel` (many symbols at
 * once, the panel scans: emaMany and rsiMany) and `correlation` (the scans' correlation matrix: the Gram matrix of
 * `symbols` rows of `bars` returns, gram.ts; its ns/point are per input value, the work grows with symbols
 * squared). Each is timed at a small and a large size, because the winner changes with size (the GPU pays a
 * fixed upload and dispatch cost, workers a message round trip). A backend that cannot start is recorded with its
 * reason and never picked.
 */
export type WorkloadShape = 'series' | 'panel' | 'correlation';

export interface Workload {
  readonly shape: WorkloadShape;
  readonly symbols: number;
  readonly bars: number;
}

export interface CalibrationPoint extends Workload {
  readonly backend: BackendName;
  readonly nsPerPoint: number;
}

export interface Calibration {
  readonly version: typeof CALIBRATION_VERSION;
  /** The machine and runtime it was measured on; a cached calibration with another key is measured again. */
  readonly machine: string;
  readonly measuredAt: string;
  readonly points: readonly CalibrationPoint[];
  /** Backends that could not be started, with the reason (e.g. no WebGPU adapter). */
  readonly unavailable: Readonly<Partial<Record<BackendName, string>>>;
  /** The GPU adapter the measurements ran on, when the gpu backend started. */
  readonly gpuAdapter?: string;
}

/** 2: the `correlation` shape (a cached version-1 calibration is measured again). */
export const CALIBRATION_VERSION = 2;

/** The sizes timed per shape: one small, one large. */
export const calibrationWorkloads: readonly Workload[] = Object.freeze([
  { shape: 'series', symbols: 1, bars: 20_000 },
  { shape: 'series', symbols: 1, bars: 400_000 },
  { shape: 'panel', symbols: 64, bars: 2_000 },
  { shape: 'panel', symbols: 256, bars: 4_000 },
  { shape: 'correlation', symbols: 128, bars: 64 },
  { shape: 'correlation', symbols: 512, bars: 256 },
]);

/** A backend under calibration: its batch functions, and its panel scans where it has them. */
export interface CalibrationSubject {
  readonly backend: AnyBatchBackend;
  readonly panel?: PanelBatch | AsyncPanelBatch;
  /** One line naming the hardware, for the gpu backend. */
  readonly adapter?: string;
}

export interface Decision {
  readonly backend: BackendName;
  /** Why, in one line, with the figures: `wasm: 0.9 ns/point on series 400000 bars (js 2.1, gpu 31)`. */
  readonly reason: string;
}

/**
 * The backend for `workload`: for each measured backend (but those in `excluded`), its point of the same shape
 * nearest in size (log scale), then the lowest ns/point. Pure. Falls back to `js` when nothing of that shape was
 * measured.
 */
export function decideBackend(calibration: Calibration, workload: Workload, excluded: readonly BackendName[] = []): Decision {
  const size = Math.log(Math.max(1, workload.symbols * workload.bars));
  const nearest = new Map<BackendName, CalibrationPoint>();
  for (const point of calibration.points) {
    if (point.shape !== workload.shape || excluded.includes(point.backend)) continue;
    const held = nearest.get(point.backend);
    const distance = Math.abs(Math.log(point.symbols * point.bars) - size);
    if (!held || distance < Math.abs(Math.log(held.symbols * held.bars) - size)) nearest.set(point.backend, point);
  }
  const ranked = [...nearest.values()].sort((a, b) => a.nsPerPoint - b.nsPerPoint);
  if (ranked.length === 0) return { backend: 'js', reason: `no ${workload.shape} measurements: js, the reference` };
  const [best, ...rest] = ranked;
  const others = rest.map((p) => `${p.backend} ${formatNs(p.nsPerPoint)}`).join(', ');
  return {
    backend: best.backend,
    reason: `${best.backend}: ${formatNs(best.nsPerPoint)} ns/point on ${describeWorkload(best)}${others ? ` (${others})` : ''}`,
  };
}

/** The table `--explain` prints: one row per shape and size, one column per backend, ns/point. */
export function calibrationTable(calibration: Calibration): string {
  const backends = [...new Set(calibration.points.map((p) => p.backend))];
  const rows = [['workload', ...backends.map((b) => `${b} ns/pt`)]];
  for (const w of calibrationWorkloads) {
    const cells = backends.map((b) => {
      const p = calibration.points.find((q) => q.backend === b && q.shape === w.shape && q.symbols === w.symbols && q.bars === w.bars);
      return p ? formatNs(p.nsPerPoint) : '-';
    });
    rows.push([describeWorkload(w), ...cells]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  const notes = Object.entries(calibration.unavailable).map(([b, why]) => `${b}: unavailable (${why})`);
  if (calibration.gpuAdapter) notes.unshift(`gpu adapter: ${calibration.gpuAdapter}`);
  return [`measured ${calibration.measuredAt} on ${calibration.machine}`, ...lines, ...notes].join('\n');
}

export function describeWorkload(w: Workload): string {
  return w.shape === 'series' ? `series ${w.bars} bars` : `${w.shape} ${w.symbols}x${w.bars}`;
}

function formatNs(ns: number): string {
  return ns >= 100 ? ns.toFixed(0) : ns >= 10 ? ns.toFixed(1) : ns.toFixed(2);
}

/** This machine and runtime, as the calibration cache key. */
export function machineKey(env: NodeJS.ProcessEnv = process.env): string {
  const cpu = cpus();
  const gpu = env.NEXUS_GPU_BACKEND ? ` gpu=${env.NEXUS_GPU_BACKEND}` : '';
  return `${cpu[0]?.model.trim() ?? 'unknown cpu'} x${cpu.length} ${arch()} node ${process.version}${gpu}`;
}

/** Where the calibration is cached: NEXUS_CALIBRATION_FILE, else $XDG_CACHE_HOME or ~/.cache, nexus/. */
export function calibrationPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NEXUS_CALIBRATION_FILE) return env.NEXUS_CALIBRATION_FILE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nexus', 'indicator-calibration.json');
}

/** A cached calibration for `machine`, or undefined when there is none, it is unreadable, or another machine's. */
export async function readCalibration(path: string, machine: string): Promise<Calibration | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  const c = parsed as Partial<Calibration> | null;
  if (c?.version !== CALIBRATION_VERSION || c.machine !== machine || !Array.isArray(c.points)) return undefined;
  return c as Calibration;
}

/** Writes the calibration atomically (temporary file, then rename); a failure to cache is not an error. */
export async function writeCalibration(path: string, calibration: Calibration): Promise<string | undefined> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(calibration, null, 2) + '\n');
    await rename(temporary, path);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Times every subject on every calibration workload: one warm-up call (compilation, first dispatch), then the
 * best of `repeats` timed calls. Series: SMA(20), EMA(20) and RSI(14) over one random walk; panel: emaMany(20)
 * and rsiMany(14) (the JS backend through panelFromBatch, the reference); correlation: one `gram` of
 * standardised random rows. ns/point = time / (points x calls).
 */
export async function measure(
  subjects: readonly CalibrationSubject[], machine: string, unavailable: Partial<Record<BackendName, string>>,
  now: () => Date = () => new Date(), repeats = 2,
): Promise<Calibration> {
  const points: CalibrationPoint[] = [];
  let gpuAdapter: string | undefined;
  for (const subject of subjects) {
    if (subject.adapter) gpuAdapter = subject.adapter;
    for (const workload of calibrationWorkloads) {
      const run = workloadRun(subject, workload);
      if (!run) continue;
      await run.call();
      let best = Infinity;
      for (let r = 0; r < repeats; r++) {
        const start = process.hrtime.bigint();
        await run.call();
        best = Math.min(best, Number(process.hrtime.bigint() - start));
      }
      points.push({ ...workload, backend: subject.backend.name, nsPerPoint: best / (workload.symbols * workload.bars * run.calls) });
    }
  }
  return { version: CALIBRATION_VERSION, machine, measuredAt: now().toISOString(), points, unavailable, ...(gpuAdapter ? { gpuAdapter } : {}) };
}

function workloadRun(subject: CalibrationSubject, w: Workload): { calls: number; call: () => Promise<unknown> } | undefined {
  const { backend } = subject;
  if (w.shape === 'correlation') {
    const z = standardisedRows(w.symbols, w.bars);
    const out = new Float64Array(w.symbols * w.symbols);
    return { calls: 1, call: async () => backend.gram(z, w.symbols, w.bars, out) };
  }
  if (w.shape === 'series') {
    if (backend.name === 'workers') return undefined; // its single-series functions are the JS ones
    const close = randomWalkBars(w.bars, 7).close;
    return { calls: 3, call: async () => [await backend.sma(close, 20), await backend.ema(close, 20), await backend.rsi(close, 14)] };
  }
  const panel = subject.panel ?? (backend.name === 'js' ? panelFromBatch(backend as Parameters<typeof panelFromBatch>[0]) : undefined);
  if (!panel) return undefined;
  const close = toBarMajor(Array.from({ length: w.symbols }, (_, s) => randomWalkBars(w.bars, 11 + s).close));
  return {
    calls: 2,
    call: async () => [await panel.emaMany(close, w.symbols, w.bars, 20), await panel.rsiMany(close, w.symbols, w.bars, 14)],
  };
}

/** Rows of a random walk's returns, each standardised (mean 0, deviation 1), as the correlation passes them. */
function standardisedRows(rows: number, length: number): Float64Array {
  const z = new Float64Array(rows * length);
  for (let i = 0; i < rows; i++) {
    const close = randomWalkBars(length + 1, 101 + i).close;
    const row = z.subarray(i * length, (i + 1) * length);
    for (let k = 0; k < length; k++) row[k] = close[k + 1] / close[k] - 1;
    let mean = 0;
    for (let k = 0; k < length; k++) mean += row[k] / length;
    let variance = 0;
    for (let k = 0; k < length; k++) variance += (row[k] - mean) ** 2 / length;
    const scale = variance > 0 ? 1 / Math.sqrt(variance) : 0;
    for (let k = 0; k < length; k++) row[k] = (row[k] - mean) * scale;
  }
  return z;
}
