import { describe, expect, it } from 'vitest';
import { probeConfig } from '../../test/support/engine-config.ts';
import { OrderIdSource } from '../pipeline/order.ts';
import { createProcessorCounters, TickProcessor } from '../pipeline/tick-processor.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { TickKind } from '../wire/layout.ts';
import { createTickSource, isPricePath, pricePaths, type PricePath, type TickSourceOptions } from './price-path.ts';
import { GeneratedTick, RandomWalk } from './random-walk.ts';
import { RegimeWalk } from './regime-walk.ts';

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG', 'META', 'TSLA', 'AMD'];
const RATE = 400;

/** `nexus feed`'s defaults for a path on SYMBOLS at RATE ticks per second. */
function feedDefaults(path: PricePath, overrides: Partial<TickSourceOptions> = {}): TickSourceOptions {
  return {
    path, symbolCount: SYMBOLS.length, seed: 1, tradeRatio: 0.8, startPrice: 100, volatility: 0.0005,
    ticksPerSecond: RATE, regimeSeconds: 60, ...overrides,
  };
}

interface Outcome {
  /** Signals (crossings, breakouts, RSI extremes acted on) per strategy, in config order. */
  readonly signals: number[];
  readonly orders: number;
  readonly denied: number;
}

/**
 * Runs `seconds` of a price path through the engine's real tick processor (standard indicators, risk) with the
 * demo's three strategies (cli/commands/engine-demo.ts): the signal logic that orders in production.
 */
function runStrategies(options: TickSourceOptions, seconds: number): Outcome {
  const config = probeConfig({
    symbols: SYMBOLS,
    strategies: [
      { name: 'macd-cross', type: 'macdCross', indicators: ['macd'], params: { orderQuantity: 10 } },
      { name: 'rsi-reversion', type: 'rsiReversion', indicators: ['rsi-14'], params: { orderQuantity: 5, oversold: 25, overbought: 75 } },
      { name: 'bb-breakout', type: 'bollingerBreakout', indicators: ['bb-20'], params: { orderQuantity: 5 } },
    ],
    risk: { maxOrderQty: 100, maxPosition: 200, maxNotional: 250_000, priceBandBps: 200, ordersEnabled: true },
  });
  const counters = createProcessorCounters(config.strategies.length);
  const processor = new TickProcessor({
    config,
    risk: new RiskEngine(config.risk, SYMBOLS.length),
    sink: { signal: () => undefined, order: () => undefined },
    orderIds: new OrderIdSource(1),
    clockNs: () => 0,
    counters,
  });
  const source = createTickSource(options);
  const tick = new GeneratedTick();
  for (let i = 0; i < RATE * seconds; i++) {
    source.next(tick);
    if (tick.kind === TickKind.Trade) processor.onTrade(tick.symbolIndex, tick.price, tick.size, 0);
    else processor.onQuote(tick.symbolIndex, tick.kind === TickKind.Bid, tick.price, 0);
  }
  return { signals: [...counters.signals], orders: counters.ordersAccepted, denied: counters.ordersDenied };
}

/** Per symbol per minute, one decimal. */
function perSymbolMinute(count: number, seconds: number): number {
  return Math.round((count / SYMBOLS.length / (seconds / 60)) * 10) / 10;
}

function summary(path: PricePath, outcome: Outcome, seconds: number): string {
  const [macd, rsi, bands] = outcome.signals;
  return `Price path ${path} ran seconds=${seconds} symbols=${SYMBOLS.length} rate=${RATE}/s: signals macdCross=${macd} ` +
    `rsiReversion=${rsi} bollingerBreakout=${bands}, orders=${outcome.orders} denied=${outcome.denied}, ` +
    `orders per symbol per minute=${perSymbolMinute(outcome.orders, seconds)}`;
}

describe('createTickSource', () => {
  it('builds each path from its own options, as the feed does', () => {
    expect(pricePaths).toEqual(['random', 'regime']);
    expect(createTickSource(feedDefaults('random'))).toBeInstanceOf(RandomWalk);
    expect(createTickSource(feedDefaults('regime'))).toBeInstanceOf(RegimeWalk);
    expect([isPricePath('random'), isPricePath('regime'), isPricePath('Regime'), isPricePath('')]).toEqual([true, true, false, false]);
  });

  it('leaves the random path as it was: the same ticks as a RandomWalk of the same options', () => {
    const viaFactory = createTickSource(feedDefaults('random'));
    const direct = new RandomWalk({ symbolCount: SYMBOLS.length, seed: 1, tradeRatio: 0.8, volatility: 0.0005, startPrice: 100 });
    const a = new GeneratedTick();
    const b = new GeneratedTick();
    for (let i = 0; i < 10_000; i++) {
      viaFactory.next(a);
      direct.next(b);
      expect(a).toEqual(b);
    }
  });
});

describe('price paths under the built-in strategies', () => {
  it('orders a few times a minute per symbol on the regime path and two orders of magnitude more on the random walk', () => {
    const seconds = 60;
    const random = runStrategies(feedDefaults('random'), seconds);
    const regime = runStrategies(feedDefaults('regime'), seconds);
    console.log(summary('random', random, seconds));
    console.log(summary('regime', regime, seconds));

    // Regime: MACD crosses and Bollinger breakouts about once a minute per symbol or less; RSI orders a few times
    // (at one turn of the trend it keeps ordering until the position, shared by all strategies, has flipped).
    expect(perSymbolMinute(regime.signals[0], seconds)).toBeLessThanOrEqual(2);
    expect(perSymbolMinute(regime.signals[1], seconds)).toBeLessThanOrEqual(4);
    expect(perSymbolMinute(regime.signals[2], seconds)).toBeLessThanOrEqual(2);
    expect(perSymbolMinute(regime.orders, seconds)).toBeLessThanOrEqual(6);
    expect(regime.orders).toBeGreaterThan(0);
    // Random walk: the MACD histogram and the bands turn every few trades.
    expect(perSymbolMinute(random.signals[0], seconds)).toBeGreaterThan(100);
    expect(perSymbolMinute(random.signals[2], seconds)).toBeGreaterThan(100);
    expect(random.orders).toBeGreaterThan(50 * regime.orders);
  });

  it.each([1, 2, 3])('keeps the regime path at a few orders a minute per symbol over ten minutes (seed %i, trades only)', (seed) => {
    const seconds = 600;
    const regime = runStrategies(feedDefaults('regime', { seed, tradeRatio: 1 }), seconds);
    console.log(summary('regime', regime, seconds));
    expect(perSymbolMinute(regime.orders, seconds)).toBeLessThanOrEqual(6);
    expect(perSymbolMinute(regime.signals[0], seconds)).toBeLessThanOrEqual(2);
  });
});
