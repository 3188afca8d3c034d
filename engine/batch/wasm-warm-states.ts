import { join } from 'node:path';
import { Atr } from '../indicators/atr.ts';
import { BollingerBands } from '../indicators/bbands.ts';
import { Ema } from '../indicators/ema.ts';
import type { StreamingIndicator } from '../indicators/indicator.ts';
import { Macd } from '../indicators/macd.ts';
import { Rsi } from '../indicators/rsi.ts';
import { Sma } from '../indicators/sma.ts';
import { Stochastic } from '../indicators/stoch.ts';
import { Vwap } from '../indicators/vwap.ts';
import { stochTailStart, type HistoryColumns, type WarmStateKernels } from '../indicators/warm-state.ts';
import { compileKernelModule, defaultWasmDir } from './wasm-backend.ts';
import { instantiateKernels, SharedWasmMemory } from './wasm-memory.ts';

/** The warm-state kernels of indicators.wasm (assembly/kernels/warm-state.ts); pointers are byte addresses. */
interface WarmKernels {
  heapBase(): number;
  emaWarmState(close: number, n: number, period: number, out: number): void;
  rsiWarmState(close: number, n: number, period: number, out: number): void;
  atrWarmState(high: number, low: number, close: number, n: number, period: number, out: number): void;
  macdWarmState(close: number, n: number, fast: number, slow: number, signal: number, out: number): void;
  smaWarmState(close: number, n: number, period: number, out: number): void;
  bbandsWarmState(close: number, n: number, period: number, stdDev: number, out: number): void;
  vwapWarmState(high: number, low: number, close: number, volume: number, n: number, period: number, out: number): void;
  stochWarmScratchBytes(fastK: number, slowK: number, slowD: number): number;
  stochWarmState(
    high: number, low: number, close: number, n: number, start: number, fastK: number, slowK: number, slowD: number, out: number,
    scratch: number,
  ): void;
}

/** A block of the memory that is grown (released and taken again, larger) when a call needs more. */
class Region {
  address = 0;
  capacity = 0;

  constructor(private readonly memory: SharedWasmMemory) {}

  /** The address of room for `count` f64 (kept from the last call when it is big enough). */
  reserve(count: number): number {
    if (count > this.capacity) {
      let capacity = Math.max(64, this.capacity);
      if (this.capacity > 0) {
        this.memory.release(this.address);
        // Nothing held until the new block is taken: a failed allocate leaves no freed block to hand out.
        this.capacity = 0;
        this.address = 0;
      }
      while (capacity < count) capacity *= 2;
      this.address = this.memory.allocate(capacity);
      this.capacity = capacity;
    }
    return this.address;
  }
}

/**
 * The WebAssembly warm-state kernels (WarmStateKernels `wasm`): the same states as the JS kernels, bit for bit
 * (warm-state.test.ts), from a copy of the history's columns in the module's own memory.
 *
 * A warm start asks for every indicator of a symbol over the same columns in turn; the columns are copied in once
 * per symbol (the last copy is kept while the same arrays and range are asked for), then each kernel runs on them
 * in place and its state is copied out. For trades (high, low and close the same array) one copy serves all three.
 * Synchronous and single-threaded: one instance per thread that warm-starts (each worker opens its own).
 */
export class WasmWarmStates implements WarmStateKernels {
  readonly name = 'wasm' as const;
  private readonly closeRegion: Region;
  private readonly highRegion: Region;
  private readonly lowRegion: Region;
  private readonly volumeRegion: Region;
  private readonly outRegion: Region;
  private readonly scratchRegion: Region;
  /** What the column regions hold now. */
  private copied: { columns: HistoryColumns | undefined; from: number; to: number } = { columns: undefined, from: 0, to: 0 };

  constructor(private readonly kernels: WarmKernels, private readonly memory: SharedWasmMemory) {
    this.closeRegion = new Region(memory);
    this.highRegion = new Region(memory);
    this.lowRegion = new Region(memory);
    this.volumeRegion = new Region(memory);
    this.outRegion = new Region(memory);
    this.scratchRegion = new Region(memory);
  }

  stateAfter(indicator: StreamingIndicator, columns: HistoryColumns, from: number, to: number, out: Float64Array): boolean {
    const k = this.kernels;
    const n = to - from;
    const state = this.outRegion.reserve(indicator.stateSize);
    if (indicator instanceof Ema) k.emaWarmState(this.close(columns, from, to), n, indicator.period, state);
    else if (indicator instanceof Rsi) k.rsiWarmState(this.close(columns, from, to), n, indicator.period, state);
    else if (indicator instanceof Sma) k.smaWarmState(this.close(columns, from, to), n, indicator.period, state);
    else if (indicator instanceof Macd) {
      k.macdWarmState(this.close(columns, from, to), n, indicator.fastPeriod, indicator.slowPeriod, indicator.signalPeriod, state);
    } else if (indicator instanceof BollingerBands) {
      k.bbandsWarmState(this.close(columns, from, to), n, indicator.period, indicator.stdDev, state);
    } else if (indicator instanceof Atr) {
      const close = this.close(columns, from, to);
      k.atrWarmState(this.high(columns), this.low(columns), close, n, indicator.period, state);
    } else if (indicator instanceof Vwap) {
      const close = this.close(columns, from, to);
      k.vwapWarmState(this.high(columns), this.low(columns), close, this.volumeRegion.address, n, indicator.period, state);
    } else if (indicator instanceof Stochastic) {
      const close = this.close(columns, from, to);
      const { fastKPeriod, slowKPeriod, slowDPeriod } = indicator;
      const scratch = this.scratchRegion.reserve(Math.ceil(k.stochWarmScratchBytes(fastKPeriod, slowKPeriod, slowDPeriod) / 8));
      const start = stochTailStart(n, fastKPeriod, slowKPeriod, slowDPeriod);
      k.stochWarmState(this.high(columns), this.low(columns), close, n, start, fastKPeriod, slowKPeriod, slowDPeriod, state, scratch);
    } else {
      return false;
    }
    this.memory.get(state, out.subarray(0, indicator.stateSize));
    return true;
  }

  /**
   * The address of the close column's `[from, to)`, copying every column in unless the last copy was of the same
   * arrays and range; call it first, then `high`, `low`, `volume` for the same columns.
   */
  private close(columns: HistoryColumns, from: number, to: number): number {
    const copied = this.copied;
    const n = to - from;
    if (copied.columns !== columns || copied.from !== from || copied.to !== to) {
      // Marked stale first: a copy that throws (no room to grow) leaves nothing taken for a good copy.
      copied.columns = undefined;
      this.put(this.closeRegion, columns.close, from, n);
      if (columns.high !== columns.close) this.put(this.highRegion, columns.high, from, n);
      if (columns.low !== columns.close) this.put(this.lowRegion, columns.low, from, n);
      this.put(this.volumeRegion, columns.volume, from, n);
      copied.columns = columns;
      copied.from = from;
      copied.to = to;
    }
    return this.closeRegion.address;
  }

  private high(columns: HistoryColumns): number {
    return columns.high === columns.close ? this.closeRegion.address : this.highRegion.address;
  }

  private low(columns: HistoryColumns): number {
    return columns.low === columns.close ? this.closeRegion.address : this.lowRegion.address;
  }

  private put(region: Region, values: Float64Array, from: number, n: number): void {
    this.memory.put(region.reserve(Math.max(1, n)), values.subarray(from, from + n));
  }
}

/**
 * Loads the warm-state kernels from build/wasm/indicators.wasm (or `dir`) on a memory of their own; rejects with
 * an Error naming the file and `npm run build:wasm` when the build has not run.
 */
export async function openWasmWarmStates(dir = defaultWasmDir()): Promise<WasmWarmStates> {
  const module = await compileKernelModule(join(dir, 'indicators.wasm'));
  // The heap starts above the module's static data; an instance on a scratch memory tells where that ends.
  const base = instantiateKernels<WarmKernels>(module, new SharedWasmMemory(0).memory).heapBase();
  const memory = new SharedWasmMemory(base);
  return new WasmWarmStates(instantiateKernels<WarmKernels>(module, memory.memory), memory);
}
