import type { BackendName } from '../batch/batch-backend.ts';
import type { BackendChoice } from '../batch/create-backend.ts';

/**
 * Which batch backend the scans' correlation matrix runs on, and why (docs/scans.md). The engine shows it in its
 * status (`indicatorBackend`), its log and `nexus_engine_indicator_backend{backend}`.
 */
export interface BackendReport {
  /** What the config (or NEXUS_INDICATOR_BACKEND, from the TradingEngine's spec.engine.backend) asked for. */
  readonly requested: BackendChoice;
  /** What runs: a backend, or `none` when nothing configured runs on one (no correlation scan). */
  readonly backend: BackendName | 'none';
  /** Why, in one line: the calibration's figures for `auto`, the reason a named backend could not start. */
  readonly reason: string;
  /** The GPU adapter (vendor, device, software or hardware) when the gpu backend runs. */
  readonly adapter?: string;
  /**
   * What runs the scans' per-bar part (the scanned indicators, ranks and z-scores: scan-kernels.ts), with its
   * reason; absent where the engine runs no scans. The values are the same bits either way.
   */
  readonly scanKernels?: 'js' | 'wasm';
  readonly scanKernelsReason?: string;
}

/** The report when no configured work runs on a batch backend. */
export function unusedBackend(requested: BackendChoice): BackendReport {
  return { requested, backend: 'none', reason: 'nothing configured runs on a batch backend (it serves scans.correlation)' };
}
