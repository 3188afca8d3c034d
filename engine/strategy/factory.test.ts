import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config-error.ts';
import { createStrategy, type StrategySpecInput } from './factory.ts';

const indicators: ReadonlyMap<string, string> = new Map([
  ['macd1', 'macd'],
  ['fast', 'ema'],
  ['rsi14', 'rsi'],
  ['bands', 'bbands'],
]);

function configErrorOf(spec: StrategySpecInput): ConfigError {
  try {
    createStrategy(spec, indicators, 'strategies[0]');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('createStrategy', () => {
  it.each<[StrategySpecInput, string, number, number]>([
    [{ name: 'a', type: 'macdCross', indicators: ['macd1'] }, 'macdCross', 2, 1],
    [{ name: 'b', type: 'rsiReversion', indicators: ['rsi14'], params: { oversold: 25, overbought: 75, orderQuantity: 3 } }, 'rsiReversion', 0, 3],
    [{ name: 'c', type: 'bollingerBreakout', indicators: ['bands'] }, 'bollingerBreakout', 2, 1],
    [{ name: 'd', type: 'probe' }, 'probe', 1, 1],
    [{ name: 'e', type: 'probe', indicators: [], params: { orderQuantity: 10 } }, 'probe', 1, 10],
  ])('builds %j', (spec, origin, stateSize, orderQuantity) => {
    const strategy = createStrategy(spec, indicators, 'strategies[0]');
    expect(strategy).toMatchObject({ name: spec.name, origin, stateSize, sharedSize: 0, params: { orderQuantity } });
    expect(strategy.indicatorNames).toEqual(spec.indicators ?? []);
  });

  it.each([
    [{ name: 'x', type: 'meanRevert' }, 'strategies[0].type', 'unknown strategy type "meanRevert" (known: macdCross, rsiReversion, bollingerBreakout, probe; or give a module)'],
    [{ name: '', type: 'probe' }, 'strategies[0].name', 'non-empty string'],
    [{ name: 'x', type: 'macdCross', indicators: ['fast'] }, 'strategies[0].indicators[0]', 'indicator "fast" is of type ema, macdCross needs macd'],
    [{ name: 'x', type: 'macdCross', indicators: ['slow'] }, 'strategies[0].indicators[0]', 'no indicator named "slow" (defined: macd1, fast, rsi14, bands)'],
    [{ name: 'x', type: 'macdCross' }, 'strategies[0].indicators', 'macdCross needs 1 indicator(s) (macd), got 0'],
    [{ name: 'x', type: 'macdCross', indicators: ['macd1', 'macd1'] }, 'strategies[0].indicators[1]', 'macdCross takes 1 indicator(s) (macd), got 2'],
    [{ name: 'x', type: 'probe', indicators: ['fast'] }, 'strategies[0].indicators[0]', 'probe takes no indicators, got 1'],
    [{ name: 'x', type: 'rsiReversion', indicators: ['bands'] }, 'strategies[0].indicators[0]', 'is of type bbands, rsiReversion needs rsi'],
    [{ name: 'x', type: 'bollingerBreakout', indicators: ['rsi14'] }, 'strategies[0].indicators[0]', 'bollingerBreakout needs bbands'],
    [{ name: 'x', type: 'probe', params: { orderQuantity: 0 } }, 'strategies[0].params.orderQuantity', 'integer between 1 and'],
    [{ name: 'x', type: 'probe', params: { orderQuantity: 1.5 } }, 'strategies[0].params.orderQuantity', 'got 1.5'],
    [{ name: 'x', type: 'probe', params: { oversold: 20 } }, 'strategies[0].params.oversold', 'unknown parameter for probe (known: orderQuantity)'],
    [{ name: 'x', type: 'rsiReversion', indicators: ['rsi14'], params: { oversold: -1 } }, 'strategies[0].params.oversold', 'must be a number between 0 and 100, got -1'],
    [{ name: 'x', type: 'rsiReversion', indicators: ['rsi14'], params: { overbought: '80' } }, 'strategies[0].params.overbought', 'got "80"'],
    [{ name: 'x', type: 'rsiReversion', indicators: ['rsi14'], params: { oversold: 60, overbought: 40 } }, 'strategies[0].params.oversold', 'must be below overbought (40)'],
  ])('rejects %j at %s', (spec, path, message) => {
    const error = configErrorOf(spec as StrategySpecInput);
    expect(error.path).toBe(path);
    expect(error.message).toContain(message);
  });

  it('applies the RSI defaults of 30 and 70', () => {
    const strategy = createStrategy({ name: 'r', type: 'rsiReversion', indicators: ['rsi14'] }, indicators, 's');
    expect(strategy.params).toEqual({ orderQuantity: 1, oversold: 30, overbought: 70 });
    expect(strategy.roles).toEqual(['rsi']);
  });
});
