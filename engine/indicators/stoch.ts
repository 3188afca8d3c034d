import { checkFitsInput, checkPeriod, checkSameLength, outputArray, jsValueChecks, type ValueChecks } from './batch-checks.ts';
import { BAR_CLOSE, BAR_HIGH, BAR_LOW, checkStreamingPeriod, SteppedIndicator, stateCount, leastCommonMultiple, type StreamingIndicator } from './indicator.ts';
import { nextPow2, resyncInterval, RollingSum } from './rolling-sum.ts';

/** Stochastic outputs. The streaming `result` is one preallocated object, refilled from `values` when read. */
export interface StochResult {
  slowK: number;
  slowD: number;
}

/** Arrays for `stochBatch`, each aligned with the input. */
export interface StochBatchOutput {
  slowK: Float64Array;
  slowD: Float64Array;
}

const STOCH_OUTPUTS: readonly string[] = Object.freeze(['slowK', 'slowD']);

/**
 * Fast %K on a flat range (highest high == lowest low, 0/0): 50, neutral. TA-Lib STOCH returns 0 there; we
 * differ for the same reason as FLAT_RSI: a halted symbol is not "maximally oversold".
 */
export const FLAT_STOCH = 50;

/**
 * Fast %K = 100 * (close - lowestLow) / (highestHigh - lowestLow), FLAT_STOCH on a zero range.
 * Examples: (11, 12, 8) -> 75; (12, 12, 8) -> 100; (8, 12, 8) -> 0; (5, 5, 5) -> 50.
 */
export function fastK(close: number, highestHigh: number, lowestLow: number): number {
  const range = highestHigh - lowestLow;
  return range === 0 ? FLAT_STOCH : 100 * ((close - lowestLow) / range);
}

/**
 * Stochastic oscillator (TA-Lib STOCH with SMA smoothing): fastK over the last `fastKPeriod` bars'
 * highest high and lowest low (current bar included), slowK = SMA(slowKPeriod) of fastK, slowD =
 * SMA(slowDPeriod) of slowK.
 *
 * Warm-up and alignment: both outputs start at the same index, `fastK - 1 + slowK - 1 + slowD - 1` (17 for
 * 14/3/3); `warmupPeriod = fastK + slowK + slowD - 2`. A flat range gives fastK = FLAT_STOCH (50).
 * Example, 3/2/2 over bars (h, l, c) (10,8,9) (11,9,10) (12,9,11) (12,10,10) (13,11,13) (13,12,12):
 * fastK -, -, 75, 100/3, 100, 200/3; slowK from index 3: 325/6, 200/3, 250/3; output from index 4:
 * (slowK 200/3, slowD 725/12), (250/3, 75).
 *
 * Highest high and lowest low come from two monotonic deques (preallocated Int32 bar numbers and Float64
 * values in power-of-two rings, amortised O(1)); bar numbers wrap as int32 and age is `(now - bar) | 0`, which
 * stays exact across the wrap because ages are < fastKPeriod. The two SMAs are drift-free RollingSums.
 *
 * Guarantees: O(1) amortised per update, no allocation; `stochBatch` gives bit-identical values. Inputs must be
 * finite with low <= high (see StreamingIndicator).
 */
export class Stochastic extends SteppedIndicator implements StreamingIndicator {
  readonly type = 'stoch' as const;
  readonly outputNames = STOCH_OUTPUTS;
  readonly warmupPeriod: number;
  /** Both SMAs' re-summation periods at once: a warm start replays an aligned tail (see StreamingIndicator). */
  readonly replayAlignment: number;
  readonly fastKPeriod: number;
  readonly slowKPeriod: number;
  readonly slowDPeriod: number;
  private readonly maxBar: Int32Array;
  private readonly maxVal: Float64Array;
  private readonly minBar: Int32Array;
  private readonly minVal: Float64Array;
  private readonly dequeMask: number;
  private readonly kWindow: RollingSum;
  private readonly dWindow: RollingSum;
  /** What `result` hands out, filled from `values` when read. */
  private readonly out: StochResult = { slowK: NaN, slowD: NaN };
  /** Operands for the windows' pushes: [fast %K, slow %K] (RollingSum.pushFrom). */
  private readonly pushed = new Float64Array(2);
  private bar = 0;
  /** Bars seen, saturating at fastKPeriod. */
  private bars = 0;
  private maxHead = 0;
  private maxTail = 0;
  private minHead = 0;
  private minTail = 0;

  constructor(fastKPeriod = 14, slowKPeriod = 3, slowDPeriod = 3) {
    super(2);
    checkStreamingPeriod('fastKPeriod', fastKPeriod);
    checkStreamingPeriod('slowKPeriod', slowKPeriod);
    checkStreamingPeriod('slowDPeriod', slowDPeriod);
    this.fastKPeriod = fastKPeriod;
    this.slowKPeriod = slowKPeriod;
    this.slowDPeriod = slowDPeriod;
    this.warmupPeriod = fastKPeriod + slowKPeriod + slowDPeriod - 2;
    this.replayAlignment = leastCommonMultiple(resyncInterval(slowKPeriod), resyncInterval(slowDPeriod));
    const capacity = nextPow2(fastKPeriod + 1);
    this.maxBar = new Int32Array(capacity);
    this.maxVal = new Float64Array(capacity);
    this.minBar = new Int32Array(capacity);
    this.minVal = new Float64Array(capacity);
    this.dequeMask = capacity - 1;
    this.kWindow = new RollingSum(slowKPeriod);
    this.dWindow = new RollingSum(slowDPeriod);
  }

  get isStable(): boolean {
    return this.dWindow.full;
  }

  /** The preallocated `{ slowK, slowD }`, refilled from `values` on each read; null while warming up. */
  get result(): Readonly<StochResult> | null {
    if (!this.dWindow.full) return null;
    const out = this.out;
    out.slowK = this.values[0];
    out.slowD = this.values[1];
    return out;
  }

  step(bar: Float64Array): void {
    const close = bar[BAR_CLOSE];
    const high = bar[BAR_HIGH];
    const low = bar[BAR_LOW];
    const now = this.bar;
    this.bar = (now + 1) | 0;
    const fk = this.fastKPeriod;
    const mask = this.dequeMask;

    // Highest high: values decrease from head to tail; a new high evicts every value <= it from the tail.
    const maxBar = this.maxBar;
    const maxVal = this.maxVal;
    let h = this.maxHead;
    let t = this.maxTail;
    while (h !== t && ((now - maxBar[h & mask]) | 0) >= fk) h = (h + 1) | 0;
    while (h !== t && maxVal[(t - 1) & mask] <= high) t = (t - 1) | 0;
    maxBar[t & mask] = now;
    maxVal[t & mask] = high;
    this.maxHead = h;
    this.maxTail = (t + 1) | 0;
    const highest = maxVal[h & mask];

    // Lowest low: the mirror image.
    const minBar = this.minBar;
    const minVal = this.minVal;
    h = this.minHead;
    t = this.minTail;
    while (h !== t && ((now - minBar[h & mask]) | 0) >= fk) h = (h + 1) | 0;
    while (h !== t && minVal[(t - 1) & mask] >= low) t = (t - 1) | 0;
    minBar[t & mask] = now;
    minVal[t & mask] = low;
    this.minHead = h;
    this.minTail = (t + 1) | 0;
    const lowest = minVal[h & mask];

    if (this.bars < fk) {
      if (++this.bars < fk) return;
    }
    const kWindow = this.kWindow;
    // fastK written out (a double returned by a call that is not inlined is boxed: indicator.ts), stored by one of
    // two stores rather than as a conditional (a phi of the integer FLAT_STOCH and a double is boxed: rsi.ts), and
    // pushed from an array (RollingSum.pushFrom).
    const range = highest - lowest;
    const pushed = this.pushed;
    if (range === 0) pushed[0] = FLAT_STOCH;
    else pushed[0] = 100 * ((close - lowest) / range);
    kWindow.pushFrom(pushed, 0);
    if (!kWindow.full) return;
    const slowK = kWindow.sum / this.slowKPeriod;
    pushed[1] = slowK;
    const dWindow = this.dWindow;
    dWindow.pushFrom(pushed, 1);
    if (!dWindow.full) return;
    this.values[0] = slowK;
    this.values[1] = dWindow.sum / this.slowDPeriod;
  }

  /**
   * Layout: [bars, slowK, slowD, highest-high deque length, lowest-low deque length, the highest-high deque head to
   * tail as (age, value) pairs (fastKPeriod pairs of slots), the lowest-low deque likewise, then the slowK and
   * slowD RollingSum states]. Ages count back from the last bar fed (0 = it): only ages matter to the deques, so
   * the layout does not carry the int32 bar number, and a loaded instance numbers its bars afresh.
   */
  get stateSize(): number {
    return 5 + 4 * this.fastKPeriod + RollingSum.stateSize(this.slowKPeriod) + RollingSum.stateSize(this.slowDPeriod);
  }

  saveState(out: Float64Array, offset: number): void {
    const fk = this.fastKPeriod;
    const mask = this.dequeMask;
    const last = (this.bar - 1) | 0;
    out[offset] = this.bars;
    out[offset + 1] = this.values[0];
    out[offset + 2] = this.values[1];
    const maxLength = (this.maxTail - this.maxHead) | 0;
    const minLength = (this.minTail - this.minHead) | 0;
    out[offset + 3] = maxLength;
    out[offset + 4] = minLength;
    const maxBase = offset + 5;
    const minBase = maxBase + 2 * fk;
    for (let k = 0; k < fk; k++) {
      const maxSlot = (this.maxHead + k) & mask;
      const minSlot = (this.minHead + k) & mask;
      out[maxBase + 2 * k] = k < maxLength ? (last - this.maxBar[maxSlot]) | 0 : 0;
      out[maxBase + 2 * k + 1] = k < maxLength ? this.maxVal[maxSlot] : 0;
      out[minBase + 2 * k] = k < minLength ? (last - this.minBar[minSlot]) | 0 : 0;
      out[minBase + 2 * k + 1] = k < minLength ? this.minVal[minSlot] : 0;
    }
    const kBase = minBase + 2 * fk;
    this.kWindow.saveState(out, kBase);
    this.dWindow.saveState(out, kBase + RollingSum.stateSize(this.slowKPeriod));
  }

  loadState(state: Float64Array, offset: number): void {
    const fk = this.fastKPeriod;
    const bars = stateCount(this.type, state, offset, fk);
    const maxLength = stateCount(this.type, state, offset + 3, fk);
    const minLength = stateCount(this.type, state, offset + 4, fk);
    const kBase = offset + 5 + 4 * fk;
    const dBase = kBase + RollingSum.stateSize(this.slowKPeriod);
    stateCount(this.type, state, kBase, this.slowKPeriod);
    stateCount(this.type, state, dBase, this.slowDPeriod);
    this.bars = bars;
    this.bar = 0;
    this.values[0] = state[offset + 1];
    this.values[1] = state[offset + 2];
    const maxBase = offset + 5;
    const minBase = maxBase + 2 * fk;
    for (let k = 0; k < maxLength; k++) {
      this.maxBar[k] = (-1 - state[maxBase + 2 * k]) | 0;
      this.maxVal[k] = state[maxBase + 2 * k + 1];
    }
    for (let k = 0; k < minLength; k++) {
      this.minBar[k] = (-1 - state[minBase + 2 * k]) | 0;
      this.minVal[k] = state[minBase + 2 * k + 1];
    }
    this.maxHead = 0;
    this.maxTail = maxLength;
    this.minHead = 0;
    this.minTail = minLength;
    this.kWindow.loadState(state, kBase);
    this.dWindow.loadState(state, dBase);
  }

  reset(): void {
    this.bar = 0;
    this.bars = 0;
    this.maxHead = 0;
    this.maxTail = 0;
    this.minHead = 0;
    this.minTail = 0;
    this.kWindow.reset();
    this.dWindow.reset();
    this.values.fill(NaN);
  }
}

// Batch workspace: deque slots and the fastK ring, grown on demand and reused, so a call with an `out` allocates
// nothing in steady state. Batch functions are synchronous, so one module-level workspace cannot be shared by
// two calls at once.
let dequeSlots = new Int32Array(64);
let fastKRing = new Float64Array(16);

/**
 * Stochastic over whole series: two arrays aligned with the inputs, both NaN before index
 * `fastK + slowK + slowD - 3`. Reuses `out` when given. Throws RangeError for bad periods, a period longer than
 * the input, arrays of different lengths, a non-finite value or high < low (naming the index).
 */
export function stochBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  fastKPeriod = 14,
  slowKPeriod = 3,
  slowDPeriod = 3,
  out?: StochBatchOutput,
): StochBatchOutput {
  const result = prepareStochBatch(high, low, close, fastKPeriod, slowKPeriod, slowDPeriod, out);
  const { slowK: slowKOut, slowD: slowDOut } = result;
  const n = close.length;
  if (n === 0) return result;

  const fk = fastKPeriod;
  const sk = slowKPeriod;
  const sd = slowDPeriod;
  const dequeCap = nextPow2(fk + 1);
  if (dequeSlots.length < 2 * dequeCap) dequeSlots = new Int32Array(2 * dequeCap);
  const ringCap = nextPow2(sk);
  if (fastKRing.length < ringCap) fastKRing = new Float64Array(ringCap);
  const deque = dequeSlots;
  const ring = fastKRing;
  const dm = dequeCap - 1;
  const rm = ringCap - 1;
  const minBase = dequeCap;
  let maxHead = 0;
  let maxTail = 0;
  let minHead = 0;
  let minTail = 0;

  // fastK rolling sum (window sk over the fastK series) and slowK rolling sum (window sd over the slowK series,
  // whose values live in slowKOut until the warm-up slots are cleared at the end), on RollingSum's schedule.
  const kEvery = resyncInterval(sk);
  const dEvery = resyncInterval(sd);
  let kCount = 0;
  let kSum = 0;
  let kUntil = 0;
  let dCount = 0;
  let dSum = 0;
  let dUntil = 0;
  const firstSlowK = fk + sk - 2;

  for (let i = 0; i < n; i++) {
    while (maxHead !== maxTail && deque[maxHead & dm] <= i - fk) maxHead++;
    while (maxHead !== maxTail && high[deque[(maxTail - 1) & dm]] <= high[i]) maxTail--;
    deque[maxTail & dm] = i;
    maxTail++;
    while (minHead !== minTail && deque[minBase + (minHead & dm)] <= i - fk) minHead++;
    while (minHead !== minTail && low[deque[minBase + ((minTail - 1) & dm)]] >= low[i]) minTail--;
    deque[minBase + (minTail & dm)] = i;
    minTail++;
    slowDOut[i] = NaN;
    if (i < fk - 1) {
      slowKOut[i] = NaN;
      continue;
    }

    const k = fastK(close[i], high[deque[maxHead & dm]], low[deque[minBase + (minHead & dm)]]);
    const kSlot = i - (fk - 1); // position in the fastK series
    if (kCount < sk) {
      ring[kSlot & rm] = k;
      kSum += k;
      if (++kCount === sk) kUntil = kEvery;
    } else {
      const old = ring[(kSlot - sk) & rm];
      ring[kSlot & rm] = k;
      kSum += k - old;
      if (--kUntil === 0) {
        kUntil = kEvery;
        kSum = 0;
        for (let s = kSlot - sk + 1; s <= kSlot; s++) kSum += ring[s & rm];
      }
    }
    if (kCount < sk) {
      slowKOut[i] = NaN;
      continue;
    }
    const slowK = kSum / sk;
    slowKOut[i] = slowK;
    if (dCount < sd) {
      dSum += slowK;
      if (++dCount === sd) dUntil = dEvery;
    } else {
      dSum += slowK - slowKOut[i - sd];
      if (--dUntil === 0) {
        dUntil = dEvery;
        dSum = 0;
        for (let s = i - sd + 1; s <= i; s++) dSum += slowKOut[s];
      }
    }
    if (dCount === sd) slowDOut[i] = dSum / sd;
  }
  // slowK values before the first slowD were only the slowD window's history: TA-Lib aligns both outputs.
  const first = firstSlowK + sd - 1;
  for (let i = firstSlowK; i < first && i < n; i++) slowKOut[i] = NaN;
  return result;
}

/**
 * Every argument check of `stochBatch`, in its order and with its messages, and its output arrays (the caller's
 * `out` reused, or new ones): shared by every batch backend so they refuse exactly the same inputs. Throws
 * before anything is written; the outputs are returned as they are (not yet filled).
 */
export function prepareStochBatch(high: Float64Array, low: Float64Array, close: Float64Array, fastKPeriod: number, slowKPeriod: number, slowDPeriod: number, out?: StochBatchOutput, values: ValueChecks = jsValueChecks): StochBatchOutput {
  checkPeriod('fastKPeriod', fastKPeriod);
  checkPeriod('slowKPeriod', slowKPeriod);
  checkPeriod('slowDPeriod', slowDPeriod);
  const n = close.length;
  checkSameLength(n, { high, low });
  const slowKOut = outputArray('out.slowK', out?.slowK, n, [high, low, close]);
  const slowDOut = outputArray('out.slowD', out?.slowD, n, [high, low, close, slowKOut]);
  const result = out ?? { slowK: slowKOut, slowD: slowDOut };
  if (n === 0) return result;
  checkFitsInput('fastKPeriod', fastKPeriod, n);
  checkFitsInput('slowKPeriod', slowKPeriod, n);
  checkFitsInput('slowDPeriod', slowDPeriod, n);
  values.finite('high', high);
  values.finite('low', low);
  values.finite('close', close);
  values.highLow(high, low);
  return result;
}
