import { join } from 'node:path';
import { compileKernelModule, defaultWasmDir } from '../batch/wasm-backend.ts';
import { instantiateKernels, SharedWasmMemory } from '../batch/wasm-memory.ts';
import { Atr } from '../indicators/atr.ts';
import { BollingerBands } from '../indicators/bbands.ts';
import type { ColumnKernel } from '../indicators/column-kernels.ts';
import { Ema } from '../indicators/ema.ts';
import type { StreamingIndicator } from '../indicators/indicator.ts';
import { Macd } from '../indicators/macd.ts';
import { nextPow2 } from '../indicators/rolling-sum.ts';
import { Rsi } from '../indicators/rsi.ts';
import { Sma } from '../indicators/sma.ts';
import { Stochastic } from '../indicators/stoch.ts';
import { Vwap } from '../indicators/vwap.ts';
import type { ScanKernels } from './scan-kernels.ts';

/** The exports of build/wasm/scan.wasm (assembly/kernels/scan.ts); pointers are byte addresses. */
interface ScanExports {
  heapBase(): number;
  smaColumn(n: number, close: number, value: number, count: number, sum: number, until: number, head: number, ring: number, mask: number, period: number): void;
  emaColumn(n: number, close: number, value: number, count: number, seedSum: number, period: number): void;
  rsiColumn(n: number, close: number, value: number, count: number, prevClose: number, gain: number, loss: number, period: number): void;
  macdColumn(
    n: number, close: number, value: number, count: number, fastSum: number, slowSum: number, signalSum: number,
    fastEma: number, slowEma: number, signalEma: number, fastPeriod: number, slowPeriod: number, signalPeriod: number,
  ): void;
  bbandsColumn(
    n: number, close: number, value: number, count: number, head: number, until: number, run: number, sum: number, m2: number,
    last: number, ring: number, mask: number, period: number, stdDev: number,
  ): void;
  atrColumn(n: number, close: number, high: number, low: number, value: number, count: number, prevClose: number, atr: number, period: number): void;
  vwapColumn(
    n: number, close: number, high: number, low: number, volume: number, value: number, count: number, head: number, until: number,
    traded: number, sumPv: number, sumVol: number, sumTp: number, pvRing: number, volRing: number, tpRing: number, mask: number, period: number,
  ): void;
  stochColumn(
    n: number, close: number, high: number, low: number, value: number, bar: number, seen: number,
    maxHead: number, maxTail: number, minHead: number, minTail: number, maxBar: number, maxVal: number, minBar: number, minVal: number,
    capacity: number, fastK: number,
    kCount: number, kSum: number, kUntil: number, kHead: number, kRing: number, kMask: number, slowK: number,
    dCount: number, dSum: number, dUntil: number, dHead: number, dRing: number, dMask: number, slowD: number,
  ): void;
  rankWorkspaceBytes(capacity: number): number;
  rank(values: number, n: number, out: number, work: number, capacity: number, depth: number): void;
  zscore(values: number, n: number, out: number): void;
}

/** A column kernel's call with its arrays' addresses bound: (close, high, low, volume) addresses. */
type ColumnCall = (close: number, high: number, low: number, volume: number) => void;

/**
 * The WebAssembly scan kernels (ScanKernels `wasm`) for `symbols` symbols: every state array, the row a kernel
 * reads and the cross-sections' workspace live in the module's own memory (a shared WebAssembly.Memory, so views
 * on it never detach as it grows). A kernel is fed in place from arrays made by `array`; an array from elsewhere
 * is copied in first (the same values, one copy more). Values are the JS kernels' bit for bit.
 */
export class WasmScanKernels implements ScanKernels {
  readonly name = 'wasm' as const;
  /** Where an input from outside the memory is copied for a call (close, high, low, volume; and cross-section input). */
  private readonly staging: Float64Array[];
  private readonly rankOut: Float64Array;
  private readonly zOut: Float64Array;
  private readonly rankWork: number;

  constructor(private readonly kernels: ScanExports, private readonly memory: SharedWasmMemory, readonly symbols: number) {
    this.staging = Array.from({ length: 5 }, () => this.array(symbols));
    this.rankOut = this.array(symbols);
    this.zOut = this.array(symbols);
    this.rankWork = memory.allocate(Math.ceil(kernels.rankWorkspaceBytes(symbols) / 8));
  }

  array(length: number): Float64Array {
    return this.f64(length, 0);
  }

  column(prototype: StreamingIndicator): ColumnKernel {
    const k = this.kernels;
    const n = this.symbols;
    const value = this.f64(n, Number.NaN);
    const at = value.byteOffset;
    const i32 = (length = n): number => this.i32(length);
    const f64 = (length = n, fill = 0): number => this.f64(length, fill).byteOffset;
    let call: ColumnCall;
    if (prototype instanceof Sma) {
      const { period } = prototype;
      const ring = rollingColumns(f64, i32, n, period);
      call = (close) => k.smaColumn(n, close, at, ring.count, ring.sum, ring.until, ring.head, ring.ring, ring.mask, period);
    } else if (prototype instanceof Ema) {
      const { period } = prototype;
      const count = i32();
      const seedSum = f64();
      call = (close) => k.emaColumn(n, close, at, count, seedSum, period);
    } else if (prototype instanceof Rsi) {
      const { period } = prototype;
      const [count, prevClose, gain, loss] = [i32(), f64(), f64(), f64()];
      call = (close) => k.rsiColumn(n, close, at, count, prevClose, gain, loss, period);
    } else if (prototype instanceof Macd) {
      const { fastPeriod, slowPeriod, signalPeriod } = prototype;
      const count = i32();
      const [fastSum, slowSum, signalSum, fastEma, slowEma, signalEma] = [f64(), f64(), f64(), f64(), f64(), f64()];
      call = (close) => k.macdColumn(n, close, at, count, fastSum, slowSum, signalSum, fastEma, slowEma, signalEma, fastPeriod, slowPeriod, signalPeriod);
    } else if (prototype instanceof BollingerBands) {
      const { period, stdDev } = prototype;
      const capacity = nextPow2(period);
      const [count, head, until, run] = [i32(), i32(), i32(), i32()];
      const [sum, m2, last, ring] = [f64(), f64(), f64(n, Number.NaN), f64(capacity * n)];
      call = (close) => k.bbandsColumn(n, close, at, count, head, until, run, sum, m2, last, ring, capacity - 1, period, stdDev);
    } else if (prototype instanceof Atr) {
      const { period } = prototype;
      const [count, prevClose, atr] = [i32(), f64(), f64()];
      call = (close, high, low) => k.atrColumn(n, close, high, low, at, count, prevClose, atr, period);
    } else if (prototype instanceof Vwap) {
      const { period } = prototype;
      const capacity = nextPow2(period);
      const [count, head, until, traded] = [i32(), i32(), i32(), i32()];
      const [sumPv, sumVol, sumTp] = [f64(), f64(), f64()];
      const [pvRing, volRing, tpRing] = [f64(capacity * n), f64(capacity * n), f64(capacity * n)];
      call = (close, high, low, volume) => k.vwapColumn(
        n, close, high, low, volume, at, count, head, until, traded, sumPv, sumVol, sumTp, pvRing, volRing, tpRing, capacity - 1, period,
      );
    } else if (prototype instanceof Stochastic) {
      const { fastKPeriod, slowKPeriod, slowDPeriod } = prototype;
      const capacity = nextPow2(fastKPeriod + 1);
      const [bar, seen, maxHead, maxTail, minHead, minTail] = [i32(), i32(), i32(), i32(), i32(), i32()];
      const [maxBar, maxVal, minBar, minVal] = [i32(capacity * n), f64(capacity * n), i32(capacity * n), f64(capacity * n)];
      const kw = rollingColumns(f64, i32, n, slowKPeriod);
      const dw = rollingColumns(f64, i32, n, slowDPeriod);
      call = (close, high, low) => k.stochColumn(
        n, close, high, low, at, bar, seen, maxHead, maxTail, minHead, minTail, maxBar, maxVal, minBar, minVal, capacity, fastKPeriod,
        kw.count, kw.sum, kw.until, kw.head, kw.ring, kw.mask, slowKPeriod,
        dw.count, dw.sum, dw.until, dw.head, dw.ring, dw.mask, slowDPeriod,
      );
    } else {
      throw new TypeError(`no column kernel for indicator type ${prototype.type}`);
    }
    const staging = this.staging;
    return {
      value,
      update: (close, high, low, volume) => call(
        this.addressOf(close, staging[0]), this.addressOf(high, staging[1]), this.addressOf(low, staging[2]), this.addressOf(volume, staging[3]),
      ),
    };
  }

  crossSection(values: Float64Array, rank: Float64Array, z: Float64Array): void {
    const input = this.addressOf(values, this.staging[4]);
    this.rankAt(input, values.length, rank, -1);
    const zTo = this.memory.holds(z) ? z : this.zOut;
    this.kernels.zscore(input, values.length, zTo.byteOffset);
    if (zTo !== z) z.set(zTo.subarray(0, values.length));
  }

  /**
   * The rank alone, its introsort given `introsortDepth` quicksort levels before it turns to its heapsort (tests
   * pass 0 to prove the heapsort; -1, what crossSection passes, is 2 log2 of the bucket).
   */
  rank(values: Float64Array, out: Float64Array, introsortDepth: number): void {
    this.rankAt(this.addressOf(values, this.staging[4]), values.length, out, introsortDepth);
  }

  private rankAt(input: number, n: number, out: Float64Array, depth: number): void {
    const to = this.memory.holds(out) ? out : this.rankOut;
    this.kernels.rank(input, n, to.byteOffset, this.rankWork, this.symbols, depth);
    if (to !== out) out.set(to.subarray(0, n));
  }

  /** `values`' address in the memory: its own, or `staging`'s after a copy into it. */
  private addressOf(values: Float64Array, staging: Float64Array): number {
    if (values.length > this.symbols) throw new RangeError(`${values.length} values exceed the scan kernels' ${this.symbols} symbols`);
    if (this.memory.holds(values)) return values.byteOffset;
    staging.set(values);
    return staging.byteOffset;
  }

  /** A new f64 array in the memory, every element `fill` (a block taken again may hold old bytes). */
  private f64(length: number, fill: number): Float64Array {
    const view = this.memory.array(this.memory.allocate(Math.max(1, length)), length);
    view.fill(fill);
    return view;
  }

  /** The address of a new i32 array of zeros in the memory. */
  private i32(length: number): number {
    return this.f64(Math.ceil(length / 2), 0).byteOffset;
  }
}

/** The arrays of a RollingSumColumns (column-kernels.ts) over `n` symbols, for `period`. */
function rollingColumns(
  f64: (length?: number) => number, i32: (length?: number) => number, n: number, period: number,
): { count: number; sum: number; until: number; head: number; ring: number; mask: number } {
  const capacity = nextPow2(period);
  return { count: i32(), sum: f64(), until: i32(), head: i32(), ring: f64(capacity * n), mask: capacity - 1 };
}

/**
 * Loads build/wasm/scan.wasm (or from `dir`) on a memory of its own, for `symbols` symbols; rejects with an Error
 * naming the file and `npm run build:wasm` when the build has not run.
 */
export async function openWasmScanKernels(symbols: number, dir = defaultWasmDir()): Promise<WasmScanKernels> {
  const module = await compileKernelModule(join(dir, 'scan.wasm'));
  // The heap starts above the module's static data; an instance on a scratch memory tells where that ends.
  const base = instantiateKernels<ScanExports>(module, new SharedWasmMemory(0).memory).heapBase();
  const memory = new SharedWasmMemory(base);
  return new WasmScanKernels(instantiateKernels<ScanExports>(module, memory.memory), memory, symbols);
}
