/**
 * A sum over the last `period` values, updated in O(1) and kept from drifting.
 *
 * A running `sum += x - old` picks up one rounding error per update; over millions of updates those errors add
 * up. So every `resyncInterval(period)` updates after the window first fills, the sum is recomputed exactly from
 * the window (oldest first). That costs O(period) once per max(RESYNC_MIN, period) updates: amortised O(1), at
 * most one extra add per update, and the error never builds up over more than that many updates: at any moment
 * the sum carries only the rounding of the updates since the last re-summation, at the magnitudes seen in them
 * (so a value far larger than the rest of the window leaves its rounding behind until the next re-summation).
 *
 * The ring is a preallocated Float64Array of power-of-two size, so slots are `counter & mask`:
 *
 *     capacity 8, period 5, head = 11 (next write)
 *     slot:   0    1    2    3    4    5    6    7
 *            [x8] [x9] [x10][x3] [x4] [x5] [x6] [x7]
 *                            ^ old = (head - period) & mask = 6 -> x6 leaves when x11 arrives
 *
 * The batch functions repeat this exact schedule (sequential sum while filling, then `sum += x - old`, then an
 * oldest-first re-summation at index `period - 1 + k * resyncInterval(period)`), which is why streaming and
 * batch results agree bit for bit.
 */
export const RESYNC_MIN = 1024;

/** Updates between exact re-summations for a window of `period` values. */
export function resyncInterval(period: number): number {
  return period > RESYNC_MIN ? period : RESYNC_MIN;
}

/** Smallest power of two >= n (n >= 1, n <= 2^30). */
export function nextPow2(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}

/** Sum of `values[from..to)` in index order, starting from 0: the exact re-summation the batch functions use. */
export function windowSum(values: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += values[i];
  return s;
}

/** The `count` values last written to a power-of-two ring (`mask`) after `head` writes, summed oldest first from 0. */
export function ringWindowSum(ring: Float64Array, mask: number, head: number, count: number): number {
  let s = 0;
  for (let k = count; k > 0; k--) s += ring[(head - k) & mask];
  return s;
}

/**
 * Those `count` values oldest first into `out[offset, offset + slots)`, zeros after them: a window in a `saveState`
 * layout (StreamingIndicator), whatever slot the ring's head stands at.
 */
export function saveWindow(ring: Float64Array, mask: number, head: number, count: number, slots: number, out: Float64Array, offset: number): void {
  for (let k = 0; k < slots; k++) out[offset + k] = k < count ? ring[(head - count + k) & mask] : 0;
}

/** A saved window's `count` values into ring slots 0 .. count - 1: the ring's next write is then slot `count`. */
export function loadWindow(state: Float64Array, offset: number, count: number, ring: Float64Array): void {
  for (let k = 0; k < count; k++) ring[k] = state[offset + k];
}

const PUSH_SCRATCH = new Float64Array(1);

export class RollingSum {
  readonly period: number;
  /** Sum of the values in the window (all values so far while filling). */
  sum = 0;
  /** Values in the window, saturating at `period`. */
  count = 0;
  private readonly ring: Float64Array;
  private readonly mask: number;
  private readonly resyncEvery: number;
  private head = 0;
  private untilResync = 0;

  constructor(period: number) {
    this.period = period;
    const capacity = nextPow2(period);
    this.ring = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.resyncEvery = resyncInterval(period);
  }

  get full(): boolean {
    return this.count === this.period;
  }

  /** Pushes `x` (tests and tools; the tick path uses `pushFrom`). */
  push(x: number): void {
    PUSH_SCRATCH[0] = x;
    this.pushFrom(PUSH_SCRATCH, 0);
  }

  /**
   * Pushes `source[index]`: the operand is read here, so no double crosses the call (indicator.ts,
   * SteppedIndicator: a call V8 does not inline boxes its double arguments).
   */
  pushFrom(source: Float64Array, index: number): void {
    const x = source[index];
    const head = this.head;
    if (this.count < this.period) {
      this.ring[head & this.mask] = x;
      this.head = (head + 1) | 0;
      this.sum += x;
      if (++this.count === this.period) this.untilResync = this.resyncEvery;
      return;
    }
    // Read the leaving value before writing: with period == capacity both use the same slot.
    const old = this.ring[(head - this.period) & this.mask];
    this.ring[head & this.mask] = x;
    this.head = (head + 1) | 0;
    this.sum += x - old;
    if (--this.untilResync === 0) {
      this.untilResync = this.resyncEvery;
      this.resum();
    }
  }

  /** Replaces `sum` with the window's sum recomputed oldest first (ringWindowSum's order); O(period). */
  private resum(): void {
    const ring = this.ring;
    const mask = this.mask;
    const head = this.head;
    let s = 0;
    for (let k = this.count; k > 0; k--) s += ring[(head - k) & mask];
    this.sum = s;
  }

  /** Layout: [count, sum, untilResync, the window's values oldest first (count of them; period slots)]. */
  static stateSize(period: number): number {
    return 3 + period;
  }

  saveState(out: Float64Array, offset: number): void {
    out[offset] = this.count;
    out[offset + 1] = this.sum;
    out[offset + 2] = this.untilResync;
    saveWindow(this.ring, this.mask, this.head, this.count, this.period, out, offset + 3);
  }

  /** Loads a saveState layout; the caller has checked the count (0..period). */
  loadState(state: Float64Array, offset: number): void {
    const count = state[offset];
    this.count = count;
    this.sum = state[offset + 1];
    this.untilResync = state[offset + 2];
    loadWindow(state, offset + 3, count, this.ring);
    this.head = count;
  }

  reset(): void {
    this.sum = 0;
    this.count = 0;
    this.head = 0;
    this.untilResync = 0;
  }
}
