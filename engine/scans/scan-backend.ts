import type { AnyBatchBackend } from '../batch/batch-backend.ts';
import type { Workload } from '../batch/calibration.ts';
import { createBackend, type AutoExplanation, type BackendChoice } from '../batch/create-backend.ts';
import { adapterSummary, type GpuAdapterReport } from '../batch/gpu-adapter.ts';
import { createJsBackend } from '../batch/js-backend.ts';
import type { BackendReport } from './backend-report.ts';

/**
 * Opens the backend for the correlation of `workload` (shape `correlation`: symbols x window): `auto` decides by
 * the calibration (measured on first use and cached, engine/batch/calibration.ts), falling back to js when its
 * pick does not start; a named backend that cannot start (no GPU adapter, no wasm build) falls back to js too, and
 * the report says why: a scan backend is an accelerator, and the engine trades without it.
 */
export async function openScanBackend(
  requested: BackendChoice, workload: Workload, env: NodeJS.ProcessEnv = process.env,
): Promise<{ readonly backend: AnyBatchBackend; readonly report: BackendReport }> {
  try {
    if (requested === 'auto') {
      let explanation: AutoExplanation | undefined;
      const backend = await createBackend('auto', { workload, env, onDecision: (e) => void (explanation = e) });
      return { backend, report: { requested, backend: backend.name, reason: autoReason(explanation), ...adapterOf(backend) } };
    }
    const backend = await createBackend(requested, { env });
    return { backend, report: { requested, backend: backend.name, reason: 'as configured', ...adapterOf(backend) } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { backend: createJsBackend(), report: { requested, backend: 'js', reason: `${message}; js runs it instead` } };
  }
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
