import type { MessagePort } from 'node:worker_threads';
import type { WasmMemory } from '../batch/wasm-memory.ts';

/**
 * What passes between a scan thread and its helper threads (scan-helpers.ts, scan-helper.worker.ts): types and
 * the control block's layout only. Both sides import this file and nothing that runs.
 *
 * A helper runs scan.wasm on the scan thread's own memory (a shared WebAssembly.Memory), so the work is handed
 * over as addresses, never copied. A job is cut into units (symbol chunks of the columns, or single
 * cross-sections) that the scan thread and every helper claim one at a time until none is left (scan-claims.ts),
 * so a thread the machine is slow to run takes fewer, and one that never wakes takes none.
 *
 * The control block: SHARED_SLOTS Int32 slots first, for every thread,
 *
 *   [CLAIM]      the job's tag (its SEQ, 15 bits) in the high half, the next unclaimed unit in the low half
 *   [COMPLETED]  units done (or given up) in the current job; the scan thread waits for it to reach the job's units
 *
 * then HELPER_SLOTS Int32 slots per helper, from helperBase(index):
 *
 *   [SEQ]   bumped by the scan thread with each job (the helper waits on it)
 *   [KIND]  HelperJob.COLUMNS (feed the row to chunk u's symbols of every column), CROSS_SECTIONS (cross-section u
 *           of a registered list, list ARG), or STOP
 *   [ARG]   the cross-section list's id
 *   [UNITS] how many units the job has
 *   [PLAN]  how many plan messages the job needs the helper to have taken in first (they come by its port)
 *   [FAILED] 1 once a job threw (the message comes by the helper's port); the scan thread then stops using the helpers
 *   [ROW..ROW+3] the row's addresses: close, high, low, volume (as unsigned 32-bit, through a Uint32Array)
 *   (slots 6 and 7 are spare)
 */
export const SharedSlot = { CLAIM: 0, COMPLETED: 1 } as const;
const SHARED_SLOTS = 16;
export const HelperSlot = { SEQ: 0, KIND: 1, ARG: 2, UNITS: 3, PLAN: 4, FAILED: 5, ROW: 8 } as const;
const HELPER_SLOTS = 16;
export const HelperJob = { COLUMNS: 1, CROSS_SECTIONS: 2, STOP: 3 } as const;

/** The first slot of helper `index`'s own slots. */
export function helperBase(index: number): number {
  return SHARED_SLOTS + index * HELPER_SLOTS;
}

/** Int32 slots of the control block of `helpers` helpers. */
export function controlSlots(helpers: number): number {
  return SHARED_SLOTS + helpers * HELPER_SLOTS;
}

/** A column kernel call: its export's name and every argument after the leading (n, from, to, row, value). */
export interface ColumnPlan {
  readonly fn: string;
  readonly value: number;
  readonly state: readonly number[];
}

/**
 * One cross-section in the memory: the input's address and length, the outputs'; then what the thread that ran
 * it copies out of the memory into arrays on shared memory: `from` a view on the memory made by the scan thread
 * (a view on a shared buffer crosses threads as itself, so a helper never reads the memory's buffer, whose size
 * another thread's growth may not yet show it), `to` the target, both of the cross-section's length.
 */
export interface CrossSectionPlan {
  readonly input: number;
  readonly n: number;
  readonly rank: number;
  readonly z: number;
  readonly copies: ReadonlyArray<{ readonly from: Float64Array; readonly to: Float64Array }>;
}

export type HelperPlanMessage =
  /** A column, updated chunk by chunk at each COLUMNS job: unit u is the symbols [cuts[u], cuts[u + 1]). */
  | { readonly type: 'column'; readonly cuts: readonly number[]; readonly column: ColumnPlan }
  /** Cross-section list `id`, each of its cross-sections a unit. */
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
