import { parseEngineConfig, type EngineConfig } from '../../engine/config/engine-config.ts';
import { standardIndicators } from '../../engine/config/presets.ts';

/**
 * A small valid engine config for tests and benchmarks: `probe` signals on every trade so every tick is measured,
 * risk limits loose enough that probe orders pass. Override any top-level field.
 */
export function probeConfig(overrides: Record<string, unknown> = {}): EngineConfig {
  return parseEngineConfig({
    symbols: ['AAPL', 'MSFT', 'NVDA', 'AMZN'],
    indicators: standardIndicators,
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
