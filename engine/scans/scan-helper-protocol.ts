import type { MessagePort } from 'node:worker_threads';
import type { WasmMemory } from '../batch/wasm-memory.ts';

/**
 * What passes between a scan thread and its helper threads (scan-helpers.ts, scan-helper.worker.ts): types and
 * the control block's layout only. Both sides import this file and nothing that runs.
 *
 * A helper runs scan.wasm on the scan thread's own memory (a shared WebAssembly.Memory), so the work is handed
 * over as addresses, never copied. Each helper has HELPER_SLOTS Int32 slots of the control block from
 * index * HELPER_SLOTS:
 *
 *   [SEQ]   bumped by the scan thread with each job (the helper waits on it)
 *   [DONE]  the SEQ of the last job the helper finished (the scan thread waits on it)
 *   [KIND]  HelperJob.COLUMNS (feed the row to the helper's symbols of every column), CROSS_SECTIONS (the
 *           helper's share of a registered list of cross-sections, list ARG), or STOP
 *   [ARG]   the cross-section list's id
 *   [PLAN]  how many plan messages the job needs the helper to have taken in first (they come by its port)
 *   [FAILED] 1 once a job threw (the message comes by the helper's port); the scan thread then stops using the helpers
 *   [ROW..ROW+3] the row's addresses: close, high, low, volume (as unsigned 32-bit, through a Uint32Array)
 */
export const HelperSlot = { SEQ: 0, DONE: 1, KIND: 2, ARG: 3, PLAN: 4, FAILED: 5, ROW: 8 } as const;
export const HELPER_SLOTS = 16;
export const HelperJob = { COLUMNS: 1, CROSS_SECTIONS: 2, STOP: 3 } as const;

/** A column kernel call: its export's name and every argument after the leading (n, from, to, row, value). */
export interface ColumnPlan {
  readonly fn: string;
  readonly value: number;
  readonly state: readonly number[];
}

/** One cross-section in the memory: the input's address and length, the outputs', the workspace a rank uses. */
export interface CrossSectionPlan {
  readonly input: number;
  readonly n: number;
  readonly rank: number;
  readonly z: number;
}

export type HelperPlanMessage =
  /** A column, updated on the symbols [from, to) at each COLUMNS job. */
  | { readonly type: 'column'; readonly symbols: number; readonly from: number; readonly to: number; readonly column: ColumnPlan }
  /** Cross-section list `id`: the helper's share of it. */
  | { readonly type: 'crossSections'; readonly id: number; readonly jobs: readonly CrossSectionPlan[] };

export interface HelperWorkerData {
  readonly module: object;
  readonly memory: WasmMemory;
  readonly control: Int32Array;
  readonly index: number;
  /** The helper's rank workspace in the memory, for up to `capacity` values. */
  readonly rankWork: number;
  readonly capacity: number;
  readonly port: MessagePort;
}

/** What a helper posts to its scan thread. */
export type HelperMessage = { readonly type: 'ready' } | { readonly type: 'error'; readonly message: string };
