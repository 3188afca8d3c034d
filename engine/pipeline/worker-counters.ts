import { DENY_REASON_SLOTS } from '../risk/risk-engine.ts';
import type { ProcessorCounters } from './tick-processor.ts';

/**
 * One worker's counters in a SharedArrayBuffer, so the main thread can total them on a metrics scrape or a
 * status request without a message per tick. Float64 words:
 *
 *     [0] ordersAccepted  [1] ordersDenied  [2] orderPoolExhausted  [3] tradesProcessed  [4] quotesProcessed
 *     [5] unownedDecisions  [6] otherShardDecisions
 *     [8 .. 8+S)          signals per strategy index           (the worker's TickProcessor counts here directly)
 *     [8+S .. 8+S+D)      risk denials per DenyReason code     (the worker's RiskEngine counts here directly)
 *     [8+S+D .. 8+2S+D)   faults per strategy index            (the worker's TickProcessor counts here directly)
 *
 * The scalar fields live in the worker's plain ProcessorCounters object (fast field increments) and are copied
 * here once per batch by `publish`, before the batch's outputs are published and its input slots released (the
 * ring's atomic publish/release orders these plain stores before them): a main thread that has collected a
 * record, or sees a worker's input ring empty, reads counters covering those ticks. Readers see each word whole
 * (aligned 8-byte stores on x86-64 and arm64); the words of one snapshot may come from consecutive batches.
 */
const SCALARS = 8;

/** The scalar counters, in word order: what `publish` copies and `addInto` sums. */
const SCALAR_FIELDS = [
  'ordersAccepted', 'ordersDenied', 'orderPoolExhausted', 'tradesProcessed', 'quotesProcessed', 'unownedDecisions', 'otherShardDecisions',
] as const satisfies ReadonlyArray<keyof ProcessorCounters>;

/** The number fields of ProcessorCounters; the check below fails to compile when one is not in SCALAR_FIELDS. */
type ScalarKey = { [K in keyof ProcessorCounters]: ProcessorCounters[K] extends number ? K : never }[keyof ProcessorCounters];
type MustHold<T extends true> = T;
/** Compile-time checks (no code): every scalar is carried, and they fit the block's SCALARS words. */
export type ScalarFieldsChecked = MustHold<[Exclude<ScalarKey, (typeof SCALAR_FIELDS)[number]>] extends [never] ? true : false>
  | MustHold<(typeof SCALAR_FIELDS)['length'] extends 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 ? true : false>;

/** Sets every scalar of `totals` to 0 (before the workers' counters are summed into it again). */
export function zeroScalars(totals: ProcessorCounters): void {
  for (const field of SCALAR_FIELDS) totals[field] = 0;
}

export class WorkerCounters {
  readonly sab: SharedArrayBuffer;
  /** Signals per strategy index; a worker's ProcessorCounters.signals. */
  readonly signals: Float64Array;
  /** Risk denials by DenyReason code; a worker's RiskEngine denial storage. */
  readonly denials: Float64Array;
  /** Faults per strategy index; a worker's ProcessorCounters.strategyFaults. */
  readonly strategyFaults: Float64Array;
  private readonly words: Float64Array;

  constructor(strategyCount: number, sab?: SharedArrayBuffer) {
    const bytes = (SCALARS + 2 * strategyCount + DENY_REASON_SLOTS) * 8;
    if (sab !== undefined && sab.byteLength !== bytes) {
      throw new RangeError(`WorkerCounters for ${strategyCount} strategies need ${bytes} bytes, got ${sab.byteLength}`);
    }
    this.sab = sab ?? new SharedArrayBuffer(bytes);
    this.words = new Float64Array(this.sab);
    this.signals = new Float64Array(this.sab, SCALARS * 8, strategyCount);
    this.denials = new Float64Array(this.sab, (SCALARS + strategyCount) * 8, DENY_REASON_SLOTS);
    this.strategyFaults = new Float64Array(this.sab, (SCALARS + strategyCount + DENY_REASON_SLOTS) * 8, strategyCount);
  }

  /** Worker: a ProcessorCounters whose `signals` are this block's (scalars start at 0; `publish` copies them). */
  processorCounters(): ProcessorCounters {
    return {
      signals: this.signals,
      strategyFaults: this.strategyFaults,
      ordersAccepted: 0,
      ordersDenied: 0,
      orderPoolExhausted: 0,
      unownedDecisions: 0,
      otherShardDecisions: 0,
      tradesProcessed: 0,
      quotesProcessed: 0,
    };
  }

  /** Worker, once per batch: copies the scalar counters into shared memory. */
  publish(counters: ProcessorCounters): void {
    const words = this.words;
    for (let i = 0; i < SCALAR_FIELDS.length; i++) words[i] = counters[SCALAR_FIELDS[i]];
  }

  /** Main: adds this worker's counters to `totals` and `denials` (the caller zeroes them first). */
  addInto(totals: ProcessorCounters, denials: Float64Array): void {
    const words = this.words;
    for (let i = 0; i < SCALAR_FIELDS.length; i++) totals[SCALAR_FIELDS[i]] += words[i];
    for (let i = 0; i < this.signals.length; i++) totals.signals[i] += this.signals[i];
    for (let i = 0; i < this.strategyFaults.length; i++) totals.strategyFaults[i] += this.strategyFaults[i];
    for (let i = 0; i < this.denials.length; i++) denials[i] += this.denials[i];
  }
}
