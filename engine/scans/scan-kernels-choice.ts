import { availableParallelism } from 'node:os';
import type { BackendChoice } from '../batch/create-backend.ts';
import { jsScanKernels, type ScanKernels } from './scan-kernels.ts';
import { openWasmScanKernels } from './wasm-scan-kernels.ts';

/** The most threads a scan's per-bar part is split over (the `workers` backend). */
export const SCAN_THREADS_MAX = 4;

/**
 * Threads the per-bar part of a scan runs on for `requested`: `workers` splits it over this machine's cores (up to
 * SCAN_THREADS_MAX: the scan thread and helpers), as its correlation uses a pool; every other backend runs it on
 * the scan thread alone, which never competes with the tick thread for more than one core.
 */
export function scanThreadsFor(requested: BackendChoice, cores = availableParallelism()): number {
  return requested === 'workers' ? Math.max(1, Math.min(SCAN_THREADS_MAX, cores)) : 1;
}

/**
 * The kernels a scan thread runs its per-bar part on (docs/scans.md), for the configured backend, and why:
 * - `js` when the engine's backend is `js`: asked for by name, so nothing compiled runs;
 * - otherwise `wasm` (whatever the backend of the correlation: wasm, workers, gpu or auto): the same values bit for
 *   bit, and faster than js on every machine measured (bench/inpod.ts, scanMsPerBar), on scanThreadsFor threads.
 *   The per-bar work of even 10,000 symbols is a few milliseconds of small steps, which a GPU's dispatch and
 *   readback alone would exceed, so no GPU kernels exist for it;
 * - js again, with the reason, when the WebAssembly kernels do not open (scan.wasm not built, a helper thread that
 *   does not start): the scans run anyway.
 */
export async function openScanKernels(
  requested: BackendChoice, symbols: number, threads = scanThreadsFor(requested),
  openWasm: (symbols: number, threads: number) => Promise<ScanKernels> = (count, threadCount) => openWasmScanKernels(count, undefined, threadCount),
): Promise<{ readonly kernels: ScanKernels; readonly reason: string }> {
  if (requested === 'js') return { kernels: jsScanKernels(symbols), reason: 'backend js asked for by name' };
  try {
    const kernels = await openWasm(symbols, threads);
    const on = kernels.threads === 1 ? '' : ` on ${kernels.threads} threads`;
    return { kernels, reason: `backend ${requested}: the WebAssembly scan kernels${on} (same values as js, faster)` };
  } catch (error) {
    return { kernels: jsScanKernels(symbols), reason: `the WebAssembly scan kernels did not load (${(error as Error).message}); js runs them` };
  }
}
