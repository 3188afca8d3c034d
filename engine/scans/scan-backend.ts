import type { AnyBatchBackend } from '../batch/batch-backend.ts';
import type { Workload } from '../batch/calibration.ts';
import { createBackend, type AutoExplanation, type BackendChoice } from '../batch/create-backend.ts';
import { adapterSummary, type GpuAdapterReport } from '../batch/gpu-adapter.ts';
import { createJsBackend } from '../batch/js-backend.ts';
import type { BackendReport } from './backend-report.ts';
import { withTimeout } from '../clock/with-timeout.ts';

/** How long opening a backend may take (auto's first calibration included) before js runs the scans instead. */
export const OPEN_TIMEOUT_MS = 90_000;

/**
 * Opens the backend for the correlation of `workload` (shape `correlation`: symbols x window) and proves it can
 * run that size (one Gram matrix of it: the gpu's buffers have a limit, a broken device fails here), then says
 * why it runs:
 * - `auto` decides by the calibration (measured on first use and cached, engine/batch/calibration.ts) among js,
 *   wasm and gpu: `workers` is left out, because its thread pool would compete with the tick thread for cores; it
 *   runs only when asked for by name;
 * - a backend that does not start, fails the trial or does not open within OPEN_TIMEOUT_MS leaves the correlation
 *   on js, and the report says why: a scan backend is an accelerator, and the engine trades without it.
 */
export async function openScanBackend(
  requested: BackendChoice, workload: Workload, env: NodeJS.ProcessEnv = process.env, timeoutMs = OPEN_TIMEOUT_MS,
): Promise<{ readonly backend: AnyBatchBackend; readonly report: BackendReport }> {
  const opening = open(requested, workload, env);
  try {
    const opened = await withTimeout(opening, timeoutMs, `backend ${requested} did not open within ${timeoutMs} ms`);
    await trial(opened.backend, workload);
    return opened;
  } catch (error) {
    // A backend that opens after the timeout, or failed its trial, is closed: nothing of it stays running.
    void opening.then((late) => late.backend.close(), () => undefined);
    const message = error instanceof Error ? error.message : String(error);
    return { backend: createJsBackend(), report: { requested, backend: 'js', reason: `${message}; js runs it instead` } };
  }
}

async function open(requested: BackendChoice, workload: Workload, env: NodeJS.ProcessEnv): Promise<{ backend: AnyBatchBackend; report: BackendReport }> {
  if (requested === 'auto') {
    let explanation: AutoExplanation | undefined;
    const backend = await createBackend('auto', { workload, env, excluded: ['workers'], onDecision: (e) => void (explanation = e) });
    return { backend, report: { requested, backend: backend.name, reason: autoReason(explanation), ...adapterOf(backend) } };
  }
  const backend = await createBackend(requested, { env });
  return { backend, report: { requested, backend: backend.name, reason: 'as configured', ...adapterOf(backend) } };
}

/** One Gram matrix of the workload's size (zeros: finite, cheap to check): a backend that cannot run it fails here. */
async function trial(backend: AnyBatchBackend, workload: Workload): Promise<void> {
  const rows = workload.symbols;
  await backend.gram(new Float64Array(rows * workload.bars), rows, workload.bars, new Float64Array(rows * rows));
}

function autoReason(explanation: AutoExplanation | undefined): string {
  if (explanation === undefined) return 'auto';
  const source = `calibration ${explanation.cached ? 'cached' : 'measured now'} in ${explanation.path}`;
  return `${explanation.fallback ?? explanation.decision.reason}; ${source}`;
}

function adapterOf(backend: AnyBatchBackend): { adapter?: string } {
  const adapter = (backend as { adapter?: GpuAdapterReport }).adapter;
  return adapter === undefined ? {} : { adapter: adapterSummary(adapter) };
}
