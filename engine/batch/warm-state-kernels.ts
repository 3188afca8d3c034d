import type { IndicatorBackendChoice } from '../config/engine-config.ts';
import { jsWarmStates, type WarmStateKernelChoice } from '../indicators/warm-state.ts';
import { openWasmWarmStates } from './wasm-warm-states.ts';

/**
 * The warm-state kernels for the engine's `backend` (docs/warm-start.md): `js` runs the JS kernels; every other
 * choice runs the WebAssembly ports, which write the same states bit for bit and run a warm start about 1.5x
 * faster (bench/inpod.ts, `warmStart`). Neither the GPU nor the worker pool has warm-state kernels: a warm start is
 * thousands of short recursions, one per symbol and indicator, which is latency-bound work for a GPU, and the
 * workers layout already warms its shards on their own threads at once. If the wasm module cannot be loaded the
 * JS kernels run, and the reason says why.
 */
export async function openWarmStateKernels(choice: IndicatorBackendChoice, wasmDir?: string): Promise<WarmStateKernelChoice> {
  if (choice === 'js') return { kernels: jsWarmStates, reason: 'as configured' };
  try {
    const kernels = await openWasmWarmStates(wasmDir);
    return { kernels, reason: choice === 'wasm' ? 'as configured' : `backend ${choice}: wasm runs the warm-state kernels (exact, the fastest on a CPU)` };
  } catch (error) {
    return { kernels: jsWarmStates, reason: `the wasm warm-state kernels could not be loaded (${(error as Error).message}): js runs them` };
  }
}
