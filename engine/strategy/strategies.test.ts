import { describe, expect, it } from 'vitest';
import { bandRegime, bollingerBreakout, breakoutSignal } from './bollinger-breakout.ts';
import { macdCross, macdCrossDirection } from './macd-cross.ts';
import { probe, probeDirection } from './probe.ts';
import { rsiReversion, rsiReversionDirection } from './rsi-reversion.ts';
import type { IndicatorReader, ParamSchema, ParamValues, StrategyDefinition } from './sdk.ts';
import { EngineStrategyContext, roleReadersOf, type StrategyActions } from './strategy-context.ts';

/** A stand-in indicator whose stability and outputs a test sets by hand. */
class FakeIndicator implements IndicatorReader {
  isStable = false;
  values: Float64Array;

  constructor(outputCount: number) {
    this.values = new Float64Array(outputCount).fill(Number.NaN);
  }

  set(...outputs: number[]): this {
    this.isStable = true;
    this.values = Float64Array.from(outputs);
    return this;
  }

  output(index: number): number {
    return this.values[index];
  }
}

/**
 * One built-in strategy on the engine's own context over `symbols` symbols, each reading `indicator` under every
 * role; `trade` runs onTrade for a symbol at a price and position and returns the side it ordered (0: none).
 */
function harness(definition: StrategyDefinition, indicator: IndicatorReader, params: Record<string, number> = {}, symbols = 1) {
  const positions = new Float64Array(symbols);
  const sides: number[] = [];
  const actions: StrategyActions = {
    order: (_symbol, _strategy, side, quantity) => { sides.push(side * quantity); },
    signal: () => undefined,
  };
  const roles = Object.keys(definition.indicators ?? {});
  const states = Array.from({ length: symbols }, () => new Float64Array(definition.state ?? 0));
  const context = new EngineStrategyContext(
    0, Object.freeze({ orderQuantity: 1, ...params }) as ParamValues<ParamSchema>, ['S0', 'S1', 'S2'].slice(0, symbols),
    states.map(() => roleReadersOf(roles, roles.map(() => indicator))), states, new Float64Array(0),
    { positions, lastPrices: new Float64Array(symbols), bids: new Float64Array(symbols), asks: new Float64Array(symbols), handled: new Uint8Array(symbols).fill(1) }, actions,
  );
  return {
    trade(price: number, position = 0, symbol = 0): number {
      positions[symbol] = position;
      sides.length = 0;
      context.enter(symbol, price, 1, 0);
      definition.onTrade(context);
      return sides[0] ?? 0;
    },
  };
}

describe('macdCrossDirection', () => {
  it.each([
    [-0.5, 0.2, 1],
    [0, 0.1, 1],
    [0.3, 0.4, 0],
    [0.3, -0.1, -1],
    [0, -0.2, -1],
    [-0.3, 0, 0],
    [-0.3, -0.1, 0],
    [Number.NaN, 0.2, 0],
  ])('previous %d, histogram %d -> %d', (previous, histogram, expected) => {
    expect(macdCrossDirection(previous, histogram)).toBe(expected);
  });
});

describe('macdCross', () => {
  it('orders on histogram crosses only after warm-up and a previous histogram, of orderQuantity', () => {
    const macd = new FakeIndicator(3);
    const run = harness(macdCross as StrategyDefinition, macd, { orderQuantity: 2 });
    const at = (histogram: number | null): number => {
      if (histogram === null) macd.isStable = false;
      else macd.set(0, 0, histogram);
      return run.trade(100);
    };
    expect([null, 0.5, -0.5, -0.2, 0.1, 0.3, Number.NaN, -0.1].map(at)).toEqual([0, 0, -2, 0, 2, 0, 0, -2]);
  });

  it('keeps state per symbol in its own slots', () => {
    const macd = new FakeIndicator(3);
    const run = harness(macdCross as StrategyDefinition, macd, {}, 2);
    macd.set(0, 0, -1);
    run.trade(100, 0, 0);
    macd.set(0, 0, 1);
    run.trade(100, 0, 1); // symbol 1's first observation
    expect(run.trade(100, 0, 0)).toBe(1);
    macd.set(0, 0, 2);
    expect(run.trade(100, 0, 1)).toBe(0);
  });
});

describe('rsiReversionDirection', () => {
  it.each([
    [25, 0, 1],
    [25, 1, 0],
    [25, -1, 1],
    [75, 0, -1],
    [75, -1, 0],
    [75, 1, -1],
    [50, 0, 0],
    [30, 0, 0],
    [70, 0, 0],
    [Number.NaN, 0, 0],
  ])('rsi %d, position %d -> %d', (rsi, position, expected) => {
    expect(rsiReversionDirection(rsi, position, 30, 70)).toBe(expected);
  });
});

describe('rsiReversion', () => {
  it('reads the RSI value and the position and stays silent while warming up', () => {
    const rsi = new FakeIndicator(1);
    const run = harness(rsiReversion as StrategyDefinition, rsi, { oversold: 20, overbought: 80 });
    expect(run.trade(100)).toBe(0);
    rsi.set(15);
    expect(run.trade(100)).toBe(1);
    rsi.set(25);
    expect(run.trade(100)).toBe(0);
    rsi.set(85);
    expect(run.trade(100, 1)).toBe(-1);
    expect(rsiReversion.state).toBeUndefined();
  });
});

describe('bandRegime and breakoutSignal', () => {
  it.each([
    [111, 1],
    [110, 0],
    [100, 0],
    [90, 0],
    [89, -1],
    [Number.NaN, 0],
  ])('price %d against bands 110/90 -> regime %d', (price, expected) => {
    expect(bandRegime(price, 110, 90)).toBe(expected);
  });

  it.each([
    [0, 1, 1],
    [1, 1, 0],
    [1, 0, 0],
    [1, -1, -1],
    [0, -1, -1],
    [-1, -1, 0],
    [-1, 0, 0],
  ])('previous regime %d, regime %d -> signal %d', (previous, regime, expected) => {
    expect(breakoutSignal(previous, regime)).toBe(expected);
  });
});

describe('bollingerBreakout', () => {
  it('orders once per breakout and re-arms inside the bands', () => {
    const bands = new FakeIndicator(3);
    const run = harness(bollingerBreakout as StrategyDefinition, bands);
    const at = ([price, stable]: [number, boolean]): number => {
      if (stable) bands.set(110, 100, 90);
      else bands.isStable = false;
      return run.trade(price);
    };
    expect(([[120, false], [115, true], [100, true], [111, true], [112, true], [105, true], [111, true], [85, true], [80, true]] as Array<[number, boolean]>).map(at))
      .toEqual([0, 0, 0, 1, 0, 0, 1, -1, 0]);
  });
});

describe('probeDirection', () => {
  it.each([
    [0, 0, 1],
    [0, 1, -1],
    [0, -1, 1],
    [5, 1, -1],
    [5, -1, -1],
    [-5, -1, 1],
    [-5, 1, 1],
  ])('position %d, previous side %d -> %d', (position, previous, expected) => {
    expect(probeDirection(position, previous)).toBe(expected);
  });
});

describe('probe', () => {
  it('orders on every tick and keeps the position within one order quantity', () => {
    const run = harness(probe as StrategyDefinition, new FakeIndicator(0), { orderQuantity: 3 });
    let position = 0;
    const sides: number[] = [];
    for (let i = 0; i < 20; i++) {
      const side = run.trade(100, position);
      sides.push(side);
      if (i % 7 !== 3) position += side; // risk denies every 7th order
      expect(Math.abs(position)).toBeLessThanOrEqual(3);
    }
    expect(sides.every((side) => side === 3 || side === -3)).toBe(true);
    expect(sides.slice(0, 4)).toEqual([3, -3, 3, -3]);
  });
});
