import { Atr } from './atr.ts';
import { BollingerBands } from './bbands.ts';
import { Ema } from './ema.ts';
import { BAR_CLOSE, BAR_HIGH, BAR_LOW, BAR_SLOTS, BAR_VOLUME, type StreamingIndicator } from './indicator.ts';
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
const TRADE_SCRATCH = new Float64Array(2);

export class IndicatorBank {
  private readonly sma: Sma[] = [];
  private readonly ema: Ema[] = [];
  private readonly rsi: Rsi[] = [];
  private readonly macd: Macd[] = [];
  private readonly bbands: BollingerBands[] = [];
  private readonly atr: Atr[] = [];
  private readonly vwap: Vwap[] = [];
  private readonly stoch: Stochastic[] = [];
  /**
   * The bar every indicator of the bank is stepped with: the caller writes a trade here and calls `step()`, so no
   * double crosses a call on the tick path (indicator.ts, SteppedIndicator).
   */
  readonly bar = new Float64Array(BAR_SLOTS);

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

  /** A trade at `price` with `size`: high = low = close = price (tests and tools; the tick path: `stepTrade`). */
  updateTrade(price: number, size: number): void {
    TRADE_SCRATCH[0] = price;
    TRADE_SCRATCH[1] = size;
    this.stepTrade(TRADE_SCRATCH, 0, 1);
  }

  /**
   * The trade whose price and size are `register[priceSlot]` and `register[sizeSlot]` (the tick processor's tick
   * register): read here, so no double crosses the call.
   */
  stepTrade(register: Float64Array, priceSlot: number, sizeSlot: number): void {
    const price = register[priceSlot];
    const bar = this.bar;
    bar[BAR_CLOSE] = price;
    bar[BAR_HIGH] = price;
    bar[BAR_LOW] = price;
    bar[BAR_VOLUME] = register[sizeSlot];
    this.step();
  }

  /** Feeds every indicator the bar in `bar`. */
  step(): void {
    const bar = this.bar;
    const sma = this.sma;
    for (let i = 0; i < sma.length; i++) sma[i].step(bar);
    const ema = this.ema;
    for (let i = 0; i < ema.length; i++) ema[i].step(bar);
    const rsi = this.rsi;
    for (let i = 0; i < rsi.length; i++) rsi[i].step(bar);
    const macd = this.macd;
    for (let i = 0; i < macd.length; i++) macd[i].step(bar);
    const bbands = this.bbands;
    for (let i = 0; i < bbands.length; i++) bbands[i].step(bar);
    const atr = this.atr;
    for (let i = 0; i < atr.length; i++) atr[i].step(bar);
    const vwap = this.vwap;
    for (let i = 0; i < vwap.length; i++) vwap[i].step(bar);
    const stoch = this.stoch;
    for (let i = 0; i < stoch.length; i++) stoch[i].step(bar);
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
