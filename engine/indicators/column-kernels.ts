import { Atr } from './atr.ts';
import { BollingerBands } from './bbands.ts';
import { Ema } from './ema.ts';
import type { StreamingIndicator } from './indicator.ts';
import { Macd } from './macd.ts';
import { nextPow2, resyncInterval } from './rolling-sum.ts';
import { FLAT_RSI, Rsi } from './rsi.ts';
import { Sma } from './sma.ts';
import { FLAT_STOCH, Stochastic } from './stoch.ts';
import { typicalPrice, Vwap } from './vwap.ts';

/**
 * One indicator across a universe of symbols, its per-symbol state in typed arrays (struct of arrays): what a
 * universe scan updates once per bar close for every symbol (engine/scans/bar-scanner.ts).
 *
 * Each kernel is its class's `update` written as a loop over the symbols, the same operations in the same order,
 * so symbol s's `value` is bit for bit its class's first output after the same bars (column-kernels.test.ts holds
 * every kernel to its class). What makes it several times faster than an instance per symbol: the windows live in
 * bar-major rings (element (ring slot k, symbol s) at k * symbols + s), so a bar's writes and the leaving values'
 * reads run along contiguous rows instead of touching a separate small array per symbol; and the first output is
 * written straight into `value`, with nothing to gather afterwards.
 *
 * A symbol whose close is NaN (no bar yet: never traded) is left out of that bar, as the scan's instances were.
 * Each symbol keeps its own count and ring position, so symbols that started on different bars are exact too.
 */
export interface ColumnKernel {
  /** Feeds bar s (close[s], high[s], low[s], volume[s]) to symbol s, for every symbol whose close is a number. */
  update(close: Float64Array, high: Float64Array, low: Float64Array, volume: Float64Array): void;
  /** Every symbol's first output (its class's `output(0)`), NaN while warming up. */
  readonly value: Float64Array;
}

/** The column kernel for `prototype`'s class and parameters (a configured instance), over `symbols` symbols. */
export function columnKernelFor(prototype: StreamingIndicator, symbols: number): ColumnKernel {
  if (prototype instanceof Sma) return new SmaColumn(symbols, prototype.period);
  if (prototype instanceof Ema) return new EmaColumn(symbols, prototype.period);
  if (prototype instanceof Rsi) return new RsiColumn(symbols, prototype.period);
  if (prototype instanceof Macd) return new MacdColumn(symbols, prototype.fastPeriod, prototype.slowPeriod, prototype.signalPeriod);
  if (prototype instanceof BollingerBands) return new BbandsColumn(symbols, prototype.period, prototype.stdDev);
  if (prototype instanceof Atr) return new AtrColumn(symbols, prototype.period);
  if (prototype instanceof Vwap) return new VwapColumn(symbols, prototype.period);
  if (prototype instanceof Stochastic) return new StochColumn(symbols, prototype.fastKPeriod, prototype.slowKPeriod, prototype.slowDPeriod);
  throw new TypeError(`no column kernel for indicator type ${prototype.type}`);
}

const nans = (n: number): Float64Array => new Float64Array(n).fill(Number.NaN);

/**
 * RollingSum (rolling-sum.ts) for every symbol: per symbol its count, sum, pushes until the next re-summation and
 * ring head; the rings bar-major. `push` is RollingSum.push for one symbol.
 */
class RollingSumColumns {
  readonly count: Int32Array;
  readonly sum: Float64Array;
  private readonly untilResync: Int32Array;
  private readonly head: Int32Array;
  private readonly ring: Float64Array;
  private readonly mask: number;
  private readonly every: number;

  constructor(private readonly symbols: number, readonly period: number) {
    const capacity = nextPow2(period);
    this.count = new Int32Array(symbols);
    this.sum = new Float64Array(symbols);
    this.untilResync = new Int32Array(symbols);
    this.head = new Int32Array(symbols);
    this.ring = new Float64Array(capacity * symbols);
    this.mask = capacity - 1;
    this.every = resyncInterval(period);
  }

  /** Pushes `x` for symbol `s`. */
  push(s: number, x: number): void {
    const n = this.symbols;
    const ring = this.ring;
    const mask = this.mask;
    const period = this.period;
    const head = this.head[s];
    this.head[s] = (head + 1) | 0;
    if (this.count[s] < period) {
      ring[(head & mask) * n + s] = x;
      this.sum[s] += x;
      if (++this.count[s] === period) this.untilResync[s] = this.every;
      return;
    }
    // Read the leaving value before writing: with period == capacity both use the same slot.
    const old = ring[((head - period) & mask) * n + s];
    ring[(head & mask) * n + s] = x;
    this.sum[s] += x - old;
    if (--this.untilResync[s] === 0) {
      this.untilResync[s] = this.every;
      // The window re-summed oldest first from 0 (ringWindowSum).
      let sum = 0;
      for (let k = period; k > 0; k--) sum += ring[((head + 1 - k) & mask) * n + s];
      this.sum[s] = sum;
    }
  }
}

class SmaColumn implements ColumnKernel {
  readonly value: Float64Array;
  private readonly window: RollingSumColumns;

  constructor(symbols: number, private readonly period: number) {
    this.value = nans(symbols);
    this.window = new RollingSumColumns(symbols, period);
  }

  update(close: Float64Array): void {
    const window = this.window;
    const { count, sum } = window;
    const period = this.period;
    const value = this.value;
    for (let s = 0; s < value.length; s++) {
      const c = close[s];
      if (c !== c) continue;
      window.push(s, c);
      if (count[s] === period) value[s] = sum[s] / period;
    }
  }
}

class EmaColumn implements ColumnKernel {
  readonly value: Float64Array;
  private readonly count: Int32Array;
  private readonly seedSum: Float64Array;
  private readonly alpha: number;

  constructor(symbols: number, private readonly period: number) {
    this.value = nans(symbols);
    this.count = new Int32Array(symbols);
    this.seedSum = new Float64Array(symbols);
    this.alpha = 2 / (period + 1);
  }

  update(close: Float64Array): void {
    const { value, count, seedSum, alpha, period } = this;
    for (let s = 0; s < value.length; s++) {
      const c = close[s];
      if (c !== c) continue;
      if (count[s] === period) {
        value[s] = (c - value[s]) * alpha + value[s];
        continue;
      }
      seedSum[s] += c;
      if (++count[s] === period) value[s] = seedSum[s] / period;
    }
  }
}

class RsiColumn implements ColumnKernel {
  readonly value: Float64Array;
  private readonly count: Int32Array;
  private readonly prevClose: Float64Array;
  private readonly gain: Float64Array;
  private readonly loss: Float64Array;

  constructor(symbols: number, private readonly period: number) {
    this.value = nans(symbols);
    this.count = new Int32Array(symbols);
    this.prevClose = new Float64Array(symbols);
    this.gain = new Float64Array(symbols);
    this.loss = new Float64Array(symbols);
  }

  update(close: Float64Array): void {
    const { value, count, prevClose, gain, loss, period } = this;
    const pm1 = period - 1;
    const inverse = 1 / period;
    for (let s = 0; s < value.length; s++) {
      const x = close[s];
      if (x !== x) continue;
      const change = x - prevClose[s];
      prevClose[s] = x;
      const c = count[s];
      if (c > period) {
        // Rsi.update's branch as two selects (warm-state.ts rsiWarmState: the same bits).
        const g = (gain[s] * pm1 + (change > 0 ? change : 0)) * inverse;
        const l = (loss[s] * pm1 - (change < 0 ? change : 0)) * inverse;
        gain[s] = g;
        loss[s] = l;
        const total = g + l;
        value[s] = total === 0 ? FLAT_RSI : 100 * (g / total);
        continue;
      }
      count[s] = c + 1;
      if (c === 0) continue;
      if (change < 0) loss[s] -= change;
      else gain[s] += change;
      if (c === period) {
        const g = gain[s] / period;
        const l = loss[s] / period;
        gain[s] = g;
        loss[s] = l;
        const total = g + l;
        value[s] = total === 0 ? FLAT_RSI : 100 * (g / total);
      }
    }
  }
}

class MacdColumn implements ColumnKernel {
  readonly value: Float64Array;
  private readonly count: Int32Array;
  private readonly fastSum: Float64Array;
  private readonly slowSum: Float64Array;
  private readonly signalSum: Float64Array;
  private readonly fastEma: Float64Array;
  private readonly slowEma: Float64Array;
  private readonly signalEma: Float64Array;

  constructor(symbols: number, private readonly fastPeriod: number, private readonly slowPeriod: number, private readonly signalPeriod: number) {
    this.value = nans(symbols);
    this.count = new Int32Array(symbols);
    this.fastSum = new Float64Array(symbols);
    this.slowSum = new Float64Array(symbols);
    this.signalSum = new Float64Array(symbols);
    this.fastEma = new Float64Array(symbols);
    this.slowEma = new Float64Array(symbols);
    this.signalEma = new Float64Array(symbols);
  }

  update(close: Float64Array): void {
    const { value, count, fastSum, slowSum, signalSum, fastEma, slowEma, signalEma, fastPeriod, slowPeriod, signalPeriod } = this;
    const fastAlpha = 2 / (fastPeriod + 1);
    const slowAlpha = 2 / (slowPeriod + 1);
    const signalAlpha = 2 / (signalPeriod + 1);
    const warm = slowPeriod + signalPeriod - 1;
    for (let s = 0; s < value.length; s++) {
      const x = close[s];
      if (x !== x) continue;
      const c = count[s];
      if (c >= slowPeriod) {
        fastEma[s] = (x - fastEma[s]) * fastAlpha + fastEma[s];
        slowEma[s] = (x - slowEma[s]) * slowAlpha + slowEma[s];
      } else {
        slowSum[s] += x;
        if (c >= slowPeriod - fastPeriod) fastSum[s] += x;
        if (c < slowPeriod - 1) {
          count[s] = c + 1;
          continue;
        }
        fastEma[s] = fastSum[s] / fastPeriod;
        slowEma[s] = slowSum[s] / slowPeriod;
      }
      const macd = fastEma[s] - slowEma[s];
      if (c >= warm) {
        signalEma[s] = (macd - signalEma[s]) * signalAlpha + signalEma[s];
        value[s] = macd;
        continue;
      }
      count[s] = c + 1;
      signalSum[s] += macd;
      if (c + 1 === warm) {
        signalEma[s] = signalSum[s] / signalPeriod;
        value[s] = macd;
      }
    }
  }
}

/** BollingerBands (bbands.ts); `value` is the upper band, its first output. */
class BbandsColumn implements ColumnKernel {
  readonly value: Float64Array;
  private readonly count: Int32Array;
  private readonly head: Int32Array;
  private readonly untilResync: Int32Array;
  private readonly run: Int32Array;
  private readonly sum: Float64Array;
  private readonly m2: Float64Array;
  private readonly last: Float64Array;
  private readonly ring: Float64Array;
  private readonly mask: number;
  private readonly every: number;

  constructor(symbols: number, private readonly period: number, private readonly stdDev: number) {
    const capacity = nextPow2(period);
    this.value = nans(symbols);
    this.count = new Int32Array(symbols);
    this.head = new Int32Array(symbols);
    this.untilResync = new Int32Array(symbols);
    this.run = new Int32Array(symbols);
    this.sum = new Float64Array(symbols);
    this.m2 = new Float64Array(symbols);
    this.last = nans(symbols);
    this.ring = new Float64Array(capacity * symbols);
    this.mask = capacity - 1;
    this.every = resyncInterval(period);
  }

  update(close: Float64Array): void {
    const { value, count, head, untilResync, run, sum, m2, last, ring, mask, period: p } = this;
    const n = value.length;
    for (let s = 0; s < n; s++) {
      const x = close[s];
      if (x !== x) continue;
      if (x === last[s]) {
        if (run[s] < p) run[s]++;
      } else {
        run[s] = 1;
        last[s] = x;
      }
      const h = head[s];
      head[s] = (h + 1) | 0;
      if (count[s] < p) {
        ring[(h & mask) * n + s] = x;
        sum[s] += x;
        if (++count[s] === p) {
          untilResync[s] = this.every;
          this.resync(s, h + 1);
          this.publish(s);
        }
        continue;
      }
      // Read the leaving value before writing: with period == capacity both use the same slot.
      const old = ring[((h - p) & mask) * n + s];
      ring[(h & mask) * n + s] = x;
      const d = x - old;
      const oldMean = sum[s] / p;
      const newSum = sum[s] + d;
      sum[s] = newSum;
      m2[s] += d * ((x - newSum / p) + (old - oldMean));
      if (--untilResync[s] === 0) {
        untilResync[s] = this.every;
        this.resync(s, h + 1);
      }
      this.publish(s);
    }
  }

  /** BollingerBands.resync: sum and M2 from the ring, oldest first, with `head` the ring position after the last. */
  private resync(s: number, head: number): void {
    const { ring, mask, period: p } = this;
    const n = this.value.length;
    let sum = 0;
    for (let k = p; k > 0; k--) sum += ring[((head - k) & mask) * n + s];
    const mean = sum / p;
    let m2 = 0;
    for (let k = p; k > 0; k--) {
      const d = ring[((head - k) & mask) * n + s] - mean;
      m2 += d * d;
    }
    this.sum[s] = sum;
    this.m2[s] = m2;
  }

  /** BollingerBands.publish, its upper band. */
  private publish(s: number): void {
    if (this.run[s] === this.period) {
      this.value[s] = this.last[s];
      return;
    }
    const mean = this.sum[s] / this.period;
    const m2 = this.m2[s];
    const band = m2 > 0 ? this.stdDev * Math.sqrt(m2 / this.period) : 0;
    this.value[s] = mean + band;
  }
}

class AtrColumn implements ColumnKernel {
  readonly value: Float64Array;
  private readonly count: Int32Array;
  private readonly prevClose: Float64Array;
  private readonly atr: Float64Array;

  constructor(symbols: number, private readonly period: number) {
    this.value = nans(symbols);
    this.count = new Int32Array(symbols);
    this.prevClose = new Float64Array(symbols);
    this.atr = new Float64Array(symbols);
  }

  update(close: Float64Array, high: Float64Array, low: Float64Array): void {
    const { value, count, prevClose, atr, period: p } = this;
    const pm1 = p - 1;
    const inverse = 1 / p;
    for (let s = 0; s < value.length; s++) {
      const x = close[s];
      if (x !== x) continue;
      const h = high[s];
      const l = low[s];
      const previous = prevClose[s];
      let tr = h - l;
      const up = Math.abs(h - previous);
      if (up > tr) tr = up;
      const down = Math.abs(l - previous);
      if (down > tr) tr = down;
      prevClose[s] = x;
      const c = count[s];
      if (c > p) {
        const next = (atr[s] * pm1 + tr) * inverse;
        atr[s] = next;
        value[s] = next;
        continue;
      }
      count[s] = c + 1;
      if (c === 0) continue;
      atr[s] += tr;
      if (c === p) {
        atr[s] /= p;
        value[s] = atr[s];
      }
    }
  }
}

class VwapColumn implements ColumnKernel {
  readonly value: Float64Array;
  private readonly count: Int32Array;
  private readonly head: Int32Array;
  private readonly untilResync: Int32Array;
  private readonly traded: Int32Array;
  private readonly sumPv: Float64Array;
  private readonly sumVol: Float64Array;
  private readonly sumTp: Float64Array;
  private readonly pvRing: Float64Array;
  private readonly volRing: Float64Array;
  private readonly tpRing: Float64Array;
  private readonly mask: number;
  private readonly every: number;

  constructor(symbols: number, private readonly period: number) {
    const capacity = nextPow2(period);
    this.value = nans(symbols);
    this.count = new Int32Array(symbols);
    this.head = new Int32Array(symbols);
    this.untilResync = new Int32Array(symbols);
    this.traded = new Int32Array(symbols);
    this.sumPv = new Float64Array(symbols);
    this.sumVol = new Float64Array(symbols);
    this.sumTp = new Float64Array(symbols);
    this.pvRing = new Float64Array(capacity * symbols);
    this.volRing = new Float64Array(capacity * symbols);
    this.tpRing = new Float64Array(capacity * symbols);
    this.mask = capacity - 1;
    this.every = resyncInterval(period);
  }

  update(close: Float64Array, high: Float64Array, low: Float64Array, volume: Float64Array): void {
    const { value, count, head, untilResync, traded, sumPv, sumVol, sumTp, pvRing, volRing, tpRing, mask, period: p } = this;
    const n = value.length;
    for (let s = 0; s < n; s++) {
      const x = close[s];
      if (x !== x) continue;
      const v = volume[s];
      const tp = typicalPrice(high[s], low[s], x);
      const pv = tp * v;
      if (v !== 0) traded[s]++;
      const h = head[s];
      head[s] = (h + 1) | 0;
      const slot = (h & mask) * n + s;
      if (count[s] < p) {
        pvRing[slot] = pv;
        volRing[slot] = v;
        tpRing[slot] = tp;
        sumPv[s] += pv;
        sumVol[s] += v;
        sumTp[s] += tp;
        if (++count[s] === p) {
          untilResync[s] = this.every;
          value[s] = traded[s] === 0 ? sumTp[s] / p : sumPv[s] / sumVol[s];
        }
        continue;
      }
      // Read the leaving bar before writing: with period == capacity both use the same slot.
      const oldSlot = ((h - p) & mask) * n + s;
      const oldPv = pvRing[oldSlot];
      const oldVol = volRing[oldSlot];
      const oldTp = tpRing[oldSlot];
      pvRing[slot] = pv;
      volRing[slot] = v;
      tpRing[slot] = tp;
      if (oldVol !== 0) traded[s]--;
      sumPv[s] += pv - oldPv;
      sumVol[s] += v - oldVol;
      sumTp[s] += tp - oldTp;
      // Re-sum on schedule, or at once when rounding left no volume although a bar in the window traded.
      if (--untilResync[s] === 0 || (traded[s] !== 0 && sumVol[s] <= 0)) {
        if (untilResync[s] === 0) untilResync[s] = this.every;
        let pvs = 0;
        let vols = 0;
        let tps = 0;
        for (let k = p; k > 0; k--) {
          const at = ((h + 1 - k) & mask) * n + s;
          pvs += pvRing[at];
          vols += volRing[at];
          tps += tpRing[at];
        }
        sumPv[s] = pvs;
        sumVol[s] = vols;
        sumTp[s] = tps;
      } else if (traded[s] === 0) {
        sumPv[s] = 0;
        sumVol[s] = 0;
      }
      value[s] = traded[s] === 0 ? sumTp[s] / p : sumPv[s] / sumVol[s];
    }
  }
}

/**
 * Stochastic (stoch.ts); `value` is slow %K, its first output, set once slow %D has its window (as the class
 * publishes both together). Each symbol's two monotonic deques (highest high, lowest low) are its own slice of
 * the deque arrays, `capacity` entries from s * capacity.
 */
class StochColumn implements ColumnKernel {
  readonly value: Float64Array;
  private readonly bar: Int32Array;
  private readonly seen: Int32Array;
  private readonly maxHead: Int32Array;
  private readonly maxTail: Int32Array;
  private readonly minHead: Int32Array;
  private readonly minTail: Int32Array;
  private readonly maxBar: Int32Array;
  private readonly maxVal: Float64Array;
  private readonly minBar: Int32Array;
  private readonly minVal: Float64Array;
  private readonly capacity: number;
  private readonly kWindow: RollingSumColumns;
  private readonly dWindow: RollingSumColumns;

  constructor(symbols: number, private readonly fastKPeriod: number, private readonly slowKPeriod: number, private readonly slowDPeriod: number) {
    this.value = nans(symbols);
    this.bar = new Int32Array(symbols);
    this.seen = new Int32Array(symbols);
    this.maxHead = new Int32Array(symbols);
    this.maxTail = new Int32Array(symbols);
    this.minHead = new Int32Array(symbols);
    this.minTail = new Int32Array(symbols);
    this.capacity = nextPow2(fastKPeriod + 1);
    this.maxBar = new Int32Array(this.capacity * symbols);
    this.maxVal = new Float64Array(this.capacity * symbols);
    this.minBar = new Int32Array(this.capacity * symbols);
    this.minVal = new Float64Array(this.capacity * symbols);
    this.kWindow = new RollingSumColumns(symbols, slowKPeriod);
    this.dWindow = new RollingSumColumns(symbols, slowDPeriod);
  }

  update(close: Float64Array, high: Float64Array, low: Float64Array): void {
    const { value, bar, seen, maxBar, maxVal, minBar, minVal, kWindow, dWindow, fastKPeriod: fk, slowKPeriod, slowDPeriod } = this;
    const mask = this.capacity - 1;
    for (let s = 0; s < value.length; s++) {
      const x = close[s];
      if (x !== x) continue;
      const base = s * this.capacity;
      const now = bar[s];
      bar[s] = (now + 1) | 0;
      // Highest high: values decrease from head to tail; a new high evicts every value <= it from the tail.
      const hi = high[s];
      let h = this.maxHead[s];
      let t = this.maxTail[s];
      while (h !== t && ((now - maxBar[base + (h & mask)]) | 0) >= fk) h = (h + 1) | 0;
      while (h !== t && maxVal[base + ((t - 1) & mask)] <= hi) t = (t - 1) | 0;
      maxBar[base + (t & mask)] = now;
      maxVal[base + (t & mask)] = hi;
      this.maxHead[s] = h;
      this.maxTail[s] = (t + 1) | 0;
      const highest = maxVal[base + (h & mask)];
      // Lowest low: the mirror image.
      const lo = low[s];
      h = this.minHead[s];
      t = this.minTail[s];
      while (h !== t && ((now - minBar[base + (h & mask)]) | 0) >= fk) h = (h + 1) | 0;
      while (h !== t && minVal[base + ((t - 1) & mask)] >= lo) t = (t - 1) | 0;
      minBar[base + (t & mask)] = now;
      minVal[base + (t & mask)] = lo;
      this.minHead[s] = h;
      this.minTail[s] = (t + 1) | 0;
      const lowest = minVal[base + (h & mask)];

      if (seen[s] < fk && ++seen[s] < fk) continue;
      const range = highest - lowest;
      kWindow.push(s, range === 0 ? FLAT_STOCH : 100 * ((x - lowest) / range));
      if (kWindow.count[s] !== slowKPeriod) continue;
      const slowK = kWindow.sum[s] / slowKPeriod;
      dWindow.push(s, slowK);
      if (dWindow.count[s] !== slowDPeriod) continue;
      value[s] = slowK;
    }
  }
}
