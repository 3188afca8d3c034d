import { describe, expect, it } from 'vitest';
import { bandRegime, BollingerBreakoutStrategy, breakoutSignal } from './bollinger-breakout.ts';
import { macdCrossDirection, MacdCrossStrategy } from './macd-cross.ts';
import { probeDirection, ProbeStrategy } from './probe.ts';
import { rsiReversionDirection, RsiReversionStrategy } from './rsi-reversion.ts';
import type { IndicatorReader, Strategy } from './strategy.ts';

/** A stand-in indicator whose stability and outputs a test sets by hand. */
class FakeIndicator implements IndicatorReader {
  isStable = false;
  outputs: number[];

  constructor(outputCount: number) {
    this.outputs = new Array<number>(outputCount).fill(Number.NaN);
  }

  set(...outputs: number[]): this {
    this.isStable = true;
    this.outputs = outputs;
    return this;
  }

  output(index: number): number {
    return this.outputs[index];
  }
}

/** Runs a strategy over a sequence of steps for one symbol whose state sits at offset 3 of a shared array. */
function run(strategy: Strategy, steps: ReadonlyArray<() => { price: number; position: number }>, indicator: IndicatorReader[]): number[] {
  const state = new Float64Array(3 + strategy.stateSize + 2);
  return steps.map((step) => {
    const { price, position } = step();
    return strategy.evaluate(indicator, price, position, state, 3);
  });
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

describe('MacdCrossStrategy', () => {
  it('signals on histogram crosses only after warm-up and a previous histogram', () => {
    const macd = new FakeIndicator(3);
    const strategy = new MacdCrossStrategy('cross', 2);
    const at = (histogram: number | null) => () => {
      if (histogram === null) macd.isStable = false;
      else macd.set(0, 0, histogram);
      return { price: 100, position: 0 };
    };
    expect(run(strategy, [at(null), at(0.5), at(-0.5), at(-0.2), at(0.1), at(0.3), at(Number.NaN), at(-0.1)], [macd]))
      .toEqual([0, 0, -1, 0, 1, 0, 0, -1]);
    expect(strategy).toMatchObject({ type: 'macdCross', stateSize: 2, orderQuantity: 2, name: 'cross' });
  });

  it('keeps state per symbol in its own slots', () => {
    const macd = new FakeIndicator(3);
    const strategy = new MacdCrossStrategy('cross', 1);
    const state = new Float64Array(4);
    strategy.evaluate([macd.set(0, 0, -1)], 100, 0, state, 0);
    strategy.evaluate([macd.set(0, 0, 1)], 100, 0, state, 2); // symbol 2's first observation
    expect(strategy.evaluate([macd.set(0, 0, 1)], 100, 0, state, 0)).toBe(1);
    expect(strategy.evaluate([macd.set(0, 0, 2)], 100, 0, state, 2)).toBe(0);
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

describe('RsiReversionStrategy', () => {
  it('reads the RSI value and the position and stays silent while warming up', () => {
    const rsi = new FakeIndicator(1);
    const strategy = new RsiReversionStrategy('revert', 1, { oversold: 20, overbought: 80 });
    expect(strategy.evaluate([rsi], 100, 0, new Float64Array(0), 0)).toBe(0);
    expect(strategy.evaluate([rsi.set(15)], 100, 0, new Float64Array(0), 0)).toBe(1);
    expect(strategy.evaluate([rsi.set(25)], 100, 0, new Float64Array(0), 0)).toBe(0);
    expect(strategy.evaluate([rsi.set(85)], 100, 1, new Float64Array(0), 0)).toBe(-1);
    expect(strategy.stateSize).toBe(0);
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

describe('BollingerBreakoutStrategy', () => {
  it('signals once per breakout and re-arms inside the bands', () => {
    const bands = new FakeIndicator(3);
    const strategy = new BollingerBreakoutStrategy('breakout', 1);
    const at = (price: number, stable = true) => () => {
      if (stable) bands.set(110, 100, 90);
      else bands.isStable = false;
      return { price, position: 0 };
    };
    expect(run(strategy, [at(120, false), at(115), at(100), at(111), at(112), at(105), at(111), at(85), at(80)], [bands]))
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

describe('ProbeStrategy', () => {
  it('signals on every tick and keeps the position within one order quantity', () => {
    const strategy = new ProbeStrategy('probe', 3);
    const state = new Float64Array(1);
    let position = 0;
    const sides: number[] = [];
    for (let i = 0; i < 20; i++) {
      const side = strategy.evaluate([], 100, position, state, 0);
      sides.push(side);
      if (i % 7 !== 3) position += side * strategy.orderQuantity; // risk denies every 7th order
      expect(Math.abs(position)).toBeLessThanOrEqual(3);
    }
    expect(sides.every((side) => side === 1 || side === -1)).toBe(true);
    expect(sides.slice(0, 4)).toEqual([1, -1, 1, -1]);
  });
});
