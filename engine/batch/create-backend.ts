import { adapterSummary, type GpuAdapterReport } from './gpu-adapter.ts';
import type { AnyBatchBackend, BackendName, BatchBackend } from './batch-backend.ts';
import {
  calibrationPath, decideBackend, machineKey, measure, readCalibration, writeCalibration,
  type Calibration, type CalibrationSubject, type Decision, type Workload,
} from './calibration.ts';
import { createJsBackend } from './js-backend.ts';
import type { AsyncPanelBatch, PanelBatch } from './panel.ts';
import { createWorkersBackend } from './workers-backend.ts';

/** What a user may ask for: a backend by name, or `auto` (picked by the measured calibration, calibration.ts). */
export type BackendChoice = BackendName | 'auto';
export const backendChoices: readonly BackendChoice[] = Object.freeze(['js', 'wasm', 'gpu', 'workers', 'auto']);

/** The requested backend cannot be had in this build or on this machine; the message says why. */
export class BackendUnavailableError extends Error {
  constructor(readonly backend: BackendChoice, detail: string, options?: { cause?: unknown }) {
    super(`backend ${backend} is not available: ${detail}`, options);
    this.name = 'BackendUnavailableError';
  }
}

/** Loads the wasm backend module; injected by tests. */
export type WasmModuleLoader = () => Promise<unknown>;

/**
 * The wasm backend lives in its own module so that neither the JS path nor the engine loads it. The specifier
 * is built at run time so this file type-checks whether or not wasm-backend.ts is in the checkout, and it
 * follows this module's own extension so the same code works under tsx (.ts) and from a compiled dist (.js).
 */
const loadWasmModule: WasmModuleLoader = () => {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return import(new URL(`./wasm-backend${extension}`, import.meta.url).href) as Promise<unknown>;
};

/** Options of createBackend; all optional. */
export interface CreateBackendOptions {
  /** Loads the wasm backend module (tests inject failures). */
  readonly loadWasm?: WasmModuleLoader;
  /** What `auto` decides for (default: one series of 100,000 bars). */
  readonly workload?: Workload;
  /** Backends `auto` may not pick (they stay in the calibration). */
  readonly excluded?: readonly BackendName[];
  /** Measure again even when a calibration for this machine is cached. */
  readonly recalibrate?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Told what `auto` decided and from which figures (for --explain and logs). */
  readonly onDecision?: (explanation: AutoExplanation) => void;
}

/** What `auto` decided, from which calibration, and whether it came from the cache. */
export interface AutoExplanation {
  readonly decision: Decision;
  readonly calibration: Calibration;
  readonly cached: boolean;
  readonly path: string;
  /** Why the calibration could not be cached, when it could not (it was still used). */
  readonly cacheError?: string;
  /** Set when the decided backend failed to start and `js` was used instead. */
  readonly fallback?: string;
}

const defaultWorkload: Workload = { shape: 'series', symbols: 1, bars: 100_000 };

/**
 * The factory for batch backends: resolves when the backend is ready to compute; call `close()`
 * when done. `js` is the reference; `wasm` loads `./wasm-backend.ts` and awaits its `createWasmBackend()`;
 * `workers` starts a worker-thread pool (panel scans sharded by symbol, single series on the JS functions);
 * `gpu` acquires a WebGPU adapter and loads gpu.js (../gpu/gpu-backend.ts, asynchronous results); `auto` picks
 * by the calibration (calibration.ts) for `options.workload`, measuring it first when none is cached, and
 * falls back to `js` (saying why through onDecision) when the pick cannot start. Throws
 * BackendUnavailableError with the reason when a named backend cannot be had.
 */
export async function createBackend(choice: BackendChoice, options: CreateBackendOptions = {}): Promise<AnyBatchBackend> {
  if (choice === 'auto') return createAuto(options);
  return createNamed(choice, options);
}

async function createNamed(choice: BackendName, options: CreateBackendOptions): Promise<AnyBatchBackend> {
  switch (choice) {
    case 'js':
      return createJsBackend();
    case 'wasm':
      return createWasm(options.loadWasm ?? loadWasmModule);
    case 'workers':
      try {
        return await createWorkersBackend();
      } catch (error) {
        throw new BackendUnavailableError('workers', messageOf(error), { cause: error });
      }
    case 'gpu':
      try {
        const { createGpuBackend } = await import('./gpu-backend.ts');
        return await createGpuBackend(options.env);
      } catch (error) {
        throw new BackendUnavailableError('gpu', messageOf(error), { cause: error });
      }
  }
}

async function createAuto(options: CreateBackendOptions): Promise<AnyBatchBackend> {
  const found = await calibrationFor(options);
  const decision = decideBackend(found.calibration, options.workload ?? defaultWorkload, options.excluded);
  try {
    const backend = await createNamed(decision.backend, options);
    options.onDecision?.({ ...found, decision });
    return backend;
  } catch (error) {
    options.onDecision?.({ ...found, decision, fallback: `${decision.backend} did not start (${messageOf(error)}); using js` });
    return createJsBackend();
  }
}

/**
 * The calibration for this machine: the cached one unless `recalibrate`, else measured now over every backend
 * that starts (the others recorded as unavailable with their reason) and cached.
 */
export async function calibrationFor(options: CreateBackendOptions = {}): Promise<Omit<AutoExplanation, 'decision'>> {
  const env = options.env ?? process.env;
  const machine = machineKey(env);
  const path = calibrationPath(env);
  if (!options.recalibrate) {
    const cached = await readCalibration(path, machine);
    if (cached) return { calibration: cached, cached: true, path };
  }
  const subjects: CalibrationSubject[] = [];
  const unavailable: Partial<Record<BackendName, string>> = {};
  for (const name of ['js', 'wasm', 'workers', 'gpu'] as const) {
    try {
      const backend = await createNamed(name, options);
      subjects.push(subjectOf(backend));
    } catch (error) {
      unavailable[name] = error instanceof BackendUnavailableError ? error.message.replace(/^backend \w+ is not available: /, '') : messageOf(error);
    }
  }
  try {
    const calibration = await measure(subjects, machine, unavailable);
    const cacheError = await writeCalibration(path, calibration);
    return { calibration, cached: false, path, ...(cacheError ? { cacheError } : {}) };
  } finally {
    for (const subject of subjects) await subject.backend.close();
  }
}

function subjectOf(backend: AnyBatchBackend): CalibrationSubject {
  const panel = hasPanel(backend) ? backend : undefined;
  const adapter = (backend as { adapter?: GpuAdapterReport }).adapter;
  return { backend, ...(panel ? { panel } : {}), ...(adapter ? { adapter: adapterSummary(adapter) } : {}) };
}

function hasPanel(backend: AnyBatchBackend): backend is AnyBatchBackend & (PanelBatch | AsyncPanelBatch) {
  return typeof (backend as Partial<PanelBatch>).emaMany === 'function' && typeof (backend as Partial<PanelBatch>).rsiMany === 'function';
}

async function createWasm(loadWasm: WasmModuleLoader): Promise<BatchBackend> {
  let module: unknown;
  try {
    module = await loadWasm();
  } catch (error) {
    throw new BackendUnavailableError('wasm', `cannot load wasm-backend: ${messageOf(error)}`, { cause: error });
  }
  const factory = (module as { createWasmBackend?: unknown } | null)?.createWasmBackend;
  if (typeof factory !== 'function') {
    throw new BackendUnavailableError('wasm', 'wasm-backend does not export a createWasmBackend() function');
  }
  try {
    return await (factory as () => BatchBackend | Promise<BatchBackend>)();
  } catch (error) {
    throw new BackendUnavailableError('wasm', messageOf(error), { cause: error });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
