import { Atr } from './atr.ts';
import { BollingerBands } from './bbands.ts';
import { Ema } from './ema.ts';
import type { StreamingIndicator } from './indicator.ts';
import { Macd } from './macd.ts';
import { Rsi } from './rsi.ts';
import { Sma } from './sma.ts';
import { Stochastic } from './stoch.ts';
import { Vwap } from './vwap.ts';

/**
 * One indicator across many symbols: instance s is symbol s's. A universe scan updates a whole column per bar and
 * reads one output of all of it, so each of those loops has one receiver class and inlines, where a loop over
 * each symbol's mixed bank (IndicatorBank) or over a mixed list would not (a call site that sees eight classes is
 * megamorphic: measured several times slower over 10,000 symbols).
 */
export class IndicatorColumn {
  constructor(readonly instances: readonly StreamingIndicator[]) {}

  /**
   * Feeds bar s (close[s], high[s], low[s], volume[s]) to instance s, for every symbol whose close is a number
   * (NaN: no bar yet, left out).
   */
  update(close: Float64Array, high: Float64Array, low: Float64Array, volume: Float64Array): void {
    const first = this.instances[0];
    if (first === undefined) return;
    if (first instanceof Sma) updateSma(this.instances as Sma[], close);
    else if (first instanceof Ema) updateEma(this.instances as Ema[], close);
    else if (first instanceof Rsi) updateRsi(this.instances as Rsi[], close);
    else if (first instanceof Macd) updateMacd(this.instances as Macd[], close);
    else if (first instanceof BollingerBands) updateBbands(this.instances as BollingerBands[], close);
    else if (first instanceof Atr) updateAtr(this.instances as Atr[], close, high, low);
    else if (first instanceof Vwap) updateVwap(this.instances as Vwap[], close, high, low, volume);
    else if (first instanceof Stochastic) updateStoch(this.instances as Stochastic[], close, high, low);
    else {
      for (let s = 0; s < this.instances.length; s++) {
        const c = close[s];
        if (c === c) this.instances[s].update(c, high[s], low[s], volume[s]);
      }
    }
  }

  /** Output `index` of every instance into `out`. */
  read(index: number, out: Float64Array): void {
    const first = this.instances[0];
    if (first === undefined) return;
    if (first instanceof Sma) readSma(this.instances as Sma[], index, out);
    else if (first instanceof Ema) readEma(this.instances as Ema[], index, out);
    else if (first instanceof Rsi) readRsi(this.instances as Rsi[], index, out);
    else if (first instanceof Macd) readMacd(this.instances as Macd[], index, out);
    else if (first instanceof BollingerBands) readBbands(this.instances as BollingerBands[], index, out);
    else if (first instanceof Atr) readAtr(this.instances as Atr[], index, out);
    else if (first instanceof Vwap) readVwap(this.instances as Vwap[], index, out);
    else if (first instanceof Stochastic) readStoch(this.instances as Stochastic[], index, out);
    else for (let s = 0; s < this.instances.length; s++) out[s] = this.instances[s].output(index);
  }
}

// One function per class: each loop's update call has one receiver class.
function updateSma(list: readonly Sma[], close: Float64Array): void {
  for (let s = 0; s < list.length; s++) if (close[s] === close[s]) list[s].update(close[s]);
}

function updateEma(list: readonly Ema[], close: Float64Array): void {
  for (let s = 0; s < list.length; s++) if (close[s] === close[s]) list[s].update(close[s]);
}

function updateRsi(list: readonly Rsi[], close: Float64Array): void {
  for (let s = 0; s < list.length; s++) if (close[s] === close[s]) list[s].update(close[s]);
}

function updateMacd(list: readonly Macd[], close: Float64Array): void {
  for (let s = 0; s < list.length; s++) if (close[s] === close[s]) list[s].update(close[s]);
}

function updateBbands(list: readonly BollingerBands[], close: Float64Array): void {
  for (let s = 0; s < list.length; s++) if (close[s] === close[s]) list[s].update(close[s]);
}

function updateAtr(list: readonly Atr[], close: Float64Array, high: Float64Array, low: Float64Array): void {
  for (let s = 0; s < list.length; s++) if (close[s] === close[s]) list[s].update(close[s], high[s], low[s]);
}

function updateVwap(list: readonly Vwap[], close: Float64Array, high: Float64Array, low: Float64Array, volume: Float64Array): void {
  for (let s = 0; s < list.length; s++) if (close[s] === close[s]) list[s].update(close[s], high[s], low[s], volume[s]);
}

function updateStoch(list: readonly Stochastic[], close: Float64Array, high: Float64Array, low: Float64Array): void {
  for (let s = 0; s < list.length; s++) if (close[s] === close[s]) list[s].update(close[s], high[s], low[s]);
}

// The readers likewise (a shared generic reader would share one call site's feedback among the classes).
function readSma(list: readonly Sma[], index: number, out: Float64Array): void {
  for (let s = 0; s < list.length; s++) out[s] = list[s].output(index);
}

function readEma(list: readonly Ema[], index: number, out: Float64Array): void {
  for (let s = 0; s < list.length; s++) out[s] = list[s].output(index);
}

function readRsi(list: readonly Rsi[], index: number, out: Float64Array): void {
  for (let s = 0; s < list.length; s++) out[s] = list[s].output(index);
}

function readMacd(list: readonly Macd[], index: number, out: Float64Array): void {
  for (let s = 0; s < list.length; s++) out[s] = list[s].output(index);
}

function readBbands(list: readonly BollingerBands[], index: number, out: Float64Array): void {
  for (let s = 0; s < list.length; s++) out[s] = list[s].output(index);
}

function readAtr(list: readonly Atr[], index: number, out: Float64Array): void {
  for (let s = 0; s < list.length; s++) out[s] = list[s].output(index);
}

function readVwap(list: readonly Vwap[], index: number, out: Float64Array): void {
  for (let s = 0; s < list.length; s++) out[s] = list[s].output(index);
}

function readStoch(list: readonly Stochastic[], index: number, out: Float64Array): void {
  for (let s = 0; s < list.length; s++) out[s] = list[s].output(index);
}
