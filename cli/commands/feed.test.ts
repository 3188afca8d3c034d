import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/args.ts';
import { feedCommand, feedHelp, tickSourceOptions } from './feed.ts';

describe('nexus feed price paths', () => {
  it('documents --path and --regime-seconds in its help', () => {
    expect(feedHelp).toContain('--path <value>');
    expect(feedHelp).toContain('price path: random | regime');
    expect(feedHelp).toContain('--regime-seconds <number>');
    expect(feedHelp).toContain('(default random)');
  });

  it('turns its options into the price path the tick source is built from', () => {
    const values = { path: 'regime', seed: 3, 'trade-ratio': 1, volatility: 0.0005, 'regime-seconds': 30 };
    expect(tickSourceOptions(values, 8, 400)).toEqual({
      path: 'regime', symbolCount: 8, seed: 3, tradeRatio: 1, startPrice: 100, volatility: 0.0005, ticksPerSecond: 400, regimeSeconds: 30,
    });
  });

  it.each([
    [['--path', 'trend'], '--path must be one of random, regime, got "trend"'],
    [['--path', 'regime', '--regime-seconds', '0'], '--regime-seconds must be > 0, got 0'],
    [['--regime-seconds', 'soon'], '--regime-seconds must be a number, got "soon"'],
  ])('refuses %j before opening a socket: %s', async (argv, message) => {
    const refused = feedCommand(argv);
    await expect(refused).rejects.toThrow(UsageError);
    await expect(refused).rejects.toThrow(message);
  });
});
