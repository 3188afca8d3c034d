import { SharedSlot } from './scan-helper-protocol.ts';

/**
 * Units of a job claimed one at a time by every thread that runs it (the scan thread and its helpers:
 * scan-helper-protocol.ts). The claim word holds the job's tag and the next unit together, so one
 * compare-and-exchange both checks that the job is still the current one and takes the unit: a helper that wakes
 * late, after its job was done by others and the next one began, can never take a unit of the next job for one of
 * its own.
 */

const UNIT_BITS = 10;
/** The most units a job may have (the columns have 4 a thread, a cross-section list one per scanned indicator and one). */
export const MAX_UNITS = (1 << UNIT_BITS) - 1;
/**
 * The job tag's bits: 21, so a thread would have to stall between reading a job and claiming for 2^21 jobs (over a
 * minute of bar closes even in a backtest) to see its tag again.
 */
const TAG_MASK = (1 << (31 - UNIT_BITS)) - 1;

/** The claim word of job `seq` with `next` its next unclaimed unit (a non-negative int32). */
export function claimWord(seq: number, next: number): number {
  return ((seq & TAG_MASK) << UNIT_BITS) | next;
}

/** Opens job `seq` for claims: every unit unclaimed, none done. */
export function openClaims(control: Int32Array, seq: number): void {
  Atomics.store(control, SharedSlot.COMPLETED, 0);
  Atomics.store(control, SharedSlot.CLAIM, claimWord(seq, 0));
}

/** Claims the next unit of job `seq` (`units` of them); -1 when none is left or the job is no longer current. */
export function claimUnit(control: Int32Array, seq: number, units: number): number {
  const tag = claimWord(seq, 0);
  for (;;) {
    const word = Atomics.load(control, SharedSlot.CLAIM);
    if ((word & ~MAX_UNITS) !== tag) return -1;
    const next = word & MAX_UNITS;
    if (next >= units) return -1;
    if (Atomics.compareExchange(control, SharedSlot.CLAIM, word, word + 1) === word) return next;
  }
}

/** Counts `count` units of the current job done (or given up), and wakes the scan thread if it waits. */
export function completeUnits(control: Int32Array, count = 1): void {
  Atomics.add(control, SharedSlot.COMPLETED, count);
  Atomics.notify(control, SharedSlot.COMPLETED);
}

/** Takes every unit of job `seq` still unclaimed and counts them done: nobody runs them. */
export function cancelUnclaimed(control: Int32Array, seq: number, units: number): void {
  const tag = claimWord(seq, 0);
  for (;;) {
    const word = Atomics.load(control, SharedSlot.CLAIM);
    const next = word & MAX_UNITS;
    if ((word & ~MAX_UNITS) !== tag || next >= units) return;
    if (Atomics.compareExchange(control, SharedSlot.CLAIM, word, claimWord(seq, units)) === word) {
      completeUnits(control, units - next);
      return;
    }
  }
}
