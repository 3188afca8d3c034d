import type { BarPanel } from '../bars/bar-panel.ts';
import type { BackendChoice } from '../batch/create-backend.ts';
import type { ScanArrays, ScanSettings } from './bar-scanner.ts';
import type { BackendReport } from './backend-report.ts';

/**
 * What passes between the engine's main thread (scan-thread.ts) and its scan thread (scan.worker.ts). Types and
 * the control block's layout only: both sides import this file and nothing that runs.
 *
 * The control block (an Int32Array on a SharedArrayBuffer) carries the requests, so asking for a scan costs the
 * tick thread two atomic stores and a notify, never a message:
 *
 *   [BAR]   the bar number to scan (or feed) next  [BUSY]  1 from a request until it is done (notified at 0)
 *   [WAKE]  bumped with each request (the thread waits on it)        [STOP]  1: exit
 *   [MODE]  what the request is: ScanMode.SCAN (a bar close) or ScanMode.FEED (a warm start's history bars:
 *           feed the per-bar indicators through BAR, no scan, no report)
 *   [FED]   after a FEED: the bars it fed, or -1 when it failed (the failure also comes as a `failed` message)
 *   [CONSUMED] scan reports the main thread has taken in (and handed to onBar strategies): scan k writes result
 *           set k % 2 (ScanWorkerData.slots), so the thread writes a set only once the scan before it in that set
 *           was consumed; otherwise it skips the bar (`skipped`), never overwriting what a strategy may be reading
 */
export const ScanControl = { BAR: 0, BUSY: 1, WAKE: 2, STOP: 3, MODE: 4, FED: 5, CONSUMED: 6, SLOTS: 7 } as const;
export const ScanMode = { SCAN: 0, FEED: 1 } as const;

export interface ScanWorkerData {
  readonly panel: BarPanel;
  readonly control: Int32Array;
  readonly settings: ScanSettings;
  readonly symbols: readonly string[];
  readonly topSymbols: number;
  /** Threads of the per-bar part (the scan thread and its helpers); undefined: scanThreadsFor(backend). */
  readonly scanThreads?: number;
  readonly intervalNs: number;
  /** The batch backend asked for (the correlation runs on it; scan-backend.ts). */
  readonly backend: BackendChoice;
  /** The result sets on shared memory that scans write in turn (see CONSUMED). */
  readonly slots: readonly ScanArrays[];
}

/** The figures of a finished scan the main thread reads into metrics (the report itself travels as JSON bytes). */
export interface ScanFigures {
  readonly bar: number;
  readonly indicatorsMs: number;
  readonly crossSectionMs: number;
  readonly correlationMs: number;
}

/**
 * First, once, the backend the thread opened (before it takes any request). Then per request:
 * a finished scan (its report already serialised here, as JSON bytes the main thread publishes as they are), one
 * whose rows the tick thread overwrote while it read them (discarded, counted), or one that failed. Each carries
 * the scanner's running count of bars the per-bar indicators could not be fed (BarScanner.barsMissed).
 */
export type ScanWorkerMessage =
  | { readonly type: 'backend'; readonly report: BackendReport }
  | {
    readonly type: 'scan'; readonly figures: ScanFigures; readonly json: Uint8Array; readonly barsMissed: number;
    /** The result set it wrote, and its bar's start in exchange time (ns). */
    readonly slot: number; readonly barStartNs: number;
    /** Scans so far whose correlation the backend failed (js computed it), and the last failure's message. */
    readonly backendFallbacks: number; readonly backendError: string;
  }
  | { readonly type: 'skipped'; readonly bar: number; readonly barsMissed: number }
  | { readonly type: 'torn'; readonly bar: number; readonly barsMissed: number }
  | { readonly type: 'failed'; readonly bar: number; readonly message: string; readonly barsMissed: number };
