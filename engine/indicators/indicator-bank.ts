import { Atr } from './atr.ts';
import { BollingerBands } from './bbands.ts';
import { Ema } from './ema.ts';
import type { StreamingIndicator } from './indicator.ts';
import { jsWarmStates, warmIndicator, type WarmStateKernels } from './warm-state.ts';
import { Macd } from './macd.ts';
import { Rsi } from './rsi.ts';
import { Sma } from './sma.ts';
import { Stochastic } from './stoch.ts';
import { Vwap } from './vwap.ts';

/**
 * One symbol's indicators, updated per trade through one monomorphic loop per indicator class.
 *
 * A single loop `indicators[i].update(...)` over eight classes is a megamorphic call site: V8 cannot inline any
 * of the updates and pays an inline-cache miss per call, which made the dispatch cost more than the arithmetic
 * (bench/pipeline.ts). Grouping by class at construction gives each loop one receiver class, so every update
 * inlines. Indicators do not read each other, so the update order across classes does not matter.
 */
export class IndicatorBank {
  private readonly sma: Sma[] = [];
  private readonly ema: Ema[] = [];
  private readonly rsi: Rsi[] = [];
  private readonly macd: Macd[] = [];
  private readonly bbands: BollingerBands[] = [];
  private readonly atr: Atr[] = [];
  private readonly vwap: Vwap[] = [];
  private readonly stoch: Stochastic[] = [];

  /** `indicators` stay in config order for readers (strategies); only the update loops are grouped. */
  constructor(readonly indicators: readonly StreamingIndicator[]) {
    for (const indicator of indicators) {
      if (indicator instanceof Sma) this.sma.push(indicator);
      else if (indicator instanceof Ema) this.ema.push(indicator);
      else if (indicator instanceof Rsi) this.rsi.push(indicator);
      else if (indicator instanceof Macd) this.macd.push(indicator);
      else if (indicator instanceof BollingerBands) this.bbands.push(indicator);
      else if (indicator instanceof Atr) this.atr.push(indicator);
      else if (indicator instanceof Vwap) this.vwap.push(indicator);
      else if (indicator instanceof Stochastic) this.stoch.push(indicator);
      else throw new TypeError(`IndicatorBank has no update loop for indicator type ${indicator.type}`);
    }
  }

  /** A trade at `price` with `size`: high = low = close = price. */
  updateTrade(price: number, size: number): void {
    const sma = this.sma;
    for (let i = 0; i < sma.length; i++) sma[i].update(price);
    const ema = this.ema;
    for (let i = 0; i < ema.length; i++) ema[i].update(price);
    const rsi = this.rsi;
    for (let i = 0; i < rsi.length; i++) rsi[i].update(price);
    const macd = this.macd;
    for (let i = 0; i < macd.length; i++) macd[i].update(price);
    const bbands = this.bbands;
    for (let i = 0; i < bbands.length; i++) bbands[i].update(price);
    const atr = this.atr;
    for (let i = 0; i < atr.length; i++) atr[i].update(price, price, price);
    const vwap = this.vwap;
    for (let i = 0; i < vwap.length; i++) vwap[i].update(price, price, price, size);
    const stoch = this.stoch;
    for (let i = 0; i < stoch.length; i++) stoch[i].update(price, price, price);
  }

  /**
   * Warm start: brings every indicator, on a bank that has seen nothing yet, to the state `updateTrade` would leave
   * after the trades `[from, to)` of `prices` and `sizes`, bit for bit, its state computed by `kernels`
   * (warm-state.ts).
   */
  seed(prices: Float64Array, sizes: Float64Array, from: number, to: number, kernels: WarmStateKernels = jsWarmStates): void {
    const columns = { high: prices, low: prices, close: prices, volume: sizes };
    for (const indicator of this.indicators) warmIndicator(indicator, columns, from, to, kernels);
  }
}
