import { parseEngineConfig, type EngineConfig } from '../config/engine-config.ts';

/**
 * A small valid engine config for tests and benchmarks: `probe` signals on every trade so every tick is measured,
 * risk limits loose enough that probe orders pass. Override any top-level field.
 */
export function probeConfig(overrides: Record<string, unknown> = {}): EngineConfig {
  return parseEngineConfig({
    symbols: ['AAPL', 'MSFT', 'NVDA', 'AMZN'],
    indicators: [
      { name: 'sma-20', type: 'sma', params: { period: 20 } },
      { name: 'ema-20', type: 'ema', params: { period: 20 } },
      { name: 'rsi-14', type: 'rsi', params: { period: 14 } },
      { name: 'macd', type: 'macd', params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 } },
      { name: 'bb-20', type: 'bbands', params: { period: 20, stdDev: 2 } },
      { name: 'atr-14', type: 'atr', params: { period: 14 } },
      { name: 'vwap-50', type: 'vwap', params: { period: 50 } },
      { name: 'stoch', type: 'stoch', params: { fastKPeriod: 14, slowKPeriod: 3, slowDPeriod: 3 } },
    ],
    strategies: [{ name: 'probe', type: 'probe', params: { orderQuantity: 1 } }],
    risk: { maxOrderQty: 1000, maxPosition: 1_000_000, maxNotional: 1e12, priceBandBps: 5_000, ordersEnabled: true },
    zeromq: {
      endpoints: [
        { name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' },
        { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' },
      ],
    },
    warmupTicks: 0,
    ...overrides,
  });
}
