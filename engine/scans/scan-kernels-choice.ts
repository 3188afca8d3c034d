import type { BackendChoice } from '../batch/create-backend.ts';
import { jsScanKernels, type ScanKernels } from './scan-kernels.ts';
import { openWasmScanKernels } from './wasm-scan-kernels.ts';

/**
 * The kernels a scan thread runs its per-bar part on (docs/scans.md), for the configured backend, and why:
 * - `js` when the engine's backend is `js`: asked for by name, so nothing compiled runs;
 * - otherwise `wasm` (whatever the backend of the correlation: wasm, workers, gpu or auto): the same values bit for
 *   bit, and faster than js on every machine measured (bench/inpod.ts, scanMsPerBar). The per-bar work of even
 *   10,000 symbols is about a millisecond, below what a GPU round trip costs, so no GPU kernels exist for it;
 * - js again, with the reason, when scan.wasm does not load (`npm run build:wasm` not run): the scans run anyway.
 */
export async function openScanKernels(
  requested: BackendChoice, symbols: number, openWasm: (symbols: number) => Promise<ScanKernels> = openWasmScanKernels,
): Promise<{ readonly kernels: ScanKernels; readonly reason: string }> {
  if (requested === 'js') return { kernels: jsScanKernels(symbols), reason: 'backend js asked for by name' };
  try {
    return { kernels: await openWasm(symbols), reason: `backend ${requested}: the WebAssembly scan kernels (same values as js, faster)` };
  } catch (error) {
    return { kernels: jsScanKernels(symbols), reason: `the WebAssembly scan kernels did not load (${(error as Error).message}); js runs them` };
  }
}
