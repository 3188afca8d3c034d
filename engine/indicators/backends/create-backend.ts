import type { BackendName, BatchBackend } from './batch-backend.ts';
import { createJsBackend } from './js-backend.ts';
import { createWorkersBackend } from './workers-backend.ts';

/** What a user may ask for: a backend by name, or `auto` (today always `js`; a calibrated choice comes later). */
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

/**
 * The factory for batch backends (STYLE rule 7): resolves when the backend is ready to compute; call `close()`
 * when done. `js` is the reference; `wasm` loads `./wasm-backend.ts` and awaits its `createWasmBackend()`;
 * `workers` starts a worker-thread pool (workers-backend.ts: panel scans sharded by symbol, single series on the
 * JS functions); `gpu` is not built yet (issue 9) and says so; `auto` is `js` for now. Throws BackendUnavailableError with the
 * reason (module missing, its factory failing, not built yet).
 */
export async function createBackend(choice: BackendChoice, loadWasm: WasmModuleLoader = loadWasmModule): Promise<BatchBackend> {
  switch (choice) {
    case 'js':
    case 'auto':
      return createJsBackend();
    case 'wasm':
      return createWasm(loadWasm);
    case 'workers':
      try {
        return await createWorkersBackend();
      } catch (error) {
        throw new BackendUnavailableError('workers', messageOf(error), { cause: error });
      }
    case 'gpu':
      throw new BackendUnavailableError(choice, 'the GPU backend (gpu.js on WebGPU) is not built yet, issue 9 (use js, wasm or workers)');
  }
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
