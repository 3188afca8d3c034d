import { describe, expect, it } from 'vitest';
import { parseDurationMs } from './duration.ts';

describe('parseDurationMs', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['0s', 0],
    ['2h1m1s5ms', 7_261_005],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['30', '1.5s', '', 's', '-1s', '1d', '30 s'])('rejects %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});
