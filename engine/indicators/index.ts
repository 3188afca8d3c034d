/**
 * Streaming (O(1) per update) and batch (whole-array) technical indicators with TA-Lib alignment.
 * See README.md for the warm-up table and the numerical guarantees.
 */
export type { IndicatorType, StreamingIndicator } from './indicator.ts';
export { MAX_PERIOD } from './indicator.ts';
export { Sma, smaBatch } from './sma.ts';
export { Ema, emaBatch } from './ema.ts';
export { FLAT_RSI, Rsi, rsiBatch, rsiFromAverages } from './rsi.ts';
export { Macd, macdBatch, type MacdBatchOutput, type MacdResult } from './macd.ts';
export { BollingerBands, bbandsBatch, type BollingerBatchOutput, type BollingerResult } from './bbands.ts';
export { Atr, atrBatch, trueRange } from './atr.ts';
export { typicalPrice, Vwap, vwapBatch } from './vwap.ts';
export { FLAT_STOCH, fastK, Stochastic, stochBatch, type StochBatchOutput, type StochResult } from './stoch.ts';
export {
  createIndicator,
  indicatorTypes,
  instantiate,
  parseIndicatorShorthand,
  validateIndicatorSpec,
  type IndicatorSpec,
} from './registry.ts';
