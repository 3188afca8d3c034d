/**
 * One of every streaming indicator with its common parameters: the set the demo, the benchmarks and the tests
 * run, so "eight indicators on" means the same thing everywhere it is measured.
 */
export const standardIndicators = [
  { name: 'sma-20', type: 'sma', params: { period: 20 } },
  { name: 'ema-20', type: 'ema', params: { period: 20 } },
  { name: 'rsi-14', type: 'rsi', params: { period: 14 } },
  { name: 'macd', type: 'macd', params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 } },
  { name: 'bb-20', type: 'bbands', params: { period: 20, stdDev: 2 } },
  { name: 'atr-14', type: 'atr', params: { period: 14 } },
  { name: 'vwap-50', type: 'vwap', params: { period: 50 } },
  { name: 'stoch', type: 'stoch', params: { fastKPeriod: 14, slowKPeriod: 3, slowDPeriod: 3 } },
] as const;
