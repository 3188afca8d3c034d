import { describe, expect, it } from 'vitest';
import { createIndicator } from './registry.ts';
import { IndicatorBank } from './indicator-bank.ts';

const specs = [
  { type: 'stoch', params: { fastKPeriod: 5, slowKPeriod: 3, slowDPeriod: 3 } },
  { type: 'sma', params: { period: 4 } },
  { type: 'ema', params: { period: 4 } },
  { type: 'rsi', params: { period: 4 } },
  { type: 'macd', params: { fastPeriod: 3, slowPeriod: 6, signalPeriod: 3 } },
  { type: 'bbands', params: { period: 4, stdDev: 2 } },
  { type: 'atr', params: { period: 4 } },
  { type: 'vwap', params: { period: 4 } },
];

describe('IndicatorBank', () => {
  it('updates every indicator exactly as calling each one in config order would', () => {
    const banked = specs.map((spec, i) => createIndicator(spec, `indicators[${i}]`));
    const direct = specs.map((spec, i) => createIndicator(spec, `indicators[${i}]`));
    const bank = new IndicatorBank(banked);
    expect(bank.indicators).toBe(banked);
    let price = 100;
    for (let t = 0; t < 200; t++) {
      price += Math.sin(t) * 0.7;
      const size = 1 + (t % 7);
      bank.updateTrade(price, size);
      for (const indicator of direct) indicator.update(price, price, price, size);
    }
    banked.forEach((indicator, i) => {
      expect(indicator.isStable).toBe(true);
      for (let o = 0; o < indicator.outputNames.length; o++) expect(indicator.output(o)).toBe(direct[i].output(o));
    });
  });

  it('seeds every indicator from a history as feeding it would', () => {
    const seeded = specs.map((spec, i) => createIndicator(spec, `indicators[${i}]`));
    const fed = new IndicatorBank(specs.map((spec, i) => createIndicator(spec, `indicators[${i}]`)));
    const prices = Float64Array.from({ length: 300 }, (_, t) => 50 + Math.cos(t / 3) * 2 + (t % 11) * 0.01);
    const sizes = Float64Array.from({ length: 300 }, (_, t) => t % 6);
    new IndicatorBank(seeded).seed(prices, sizes, 20, 300);
    for (let t = 20; t < 300; t++) fed.updateTrade(prices[t], sizes[t]);
    seeded.forEach((indicator, i) => {
      for (let o = 0; o < indicator.outputNames.length; o++) expect(indicator.output(o)).toBe(fed.indicators[i].output(o));
    });
  });
});
