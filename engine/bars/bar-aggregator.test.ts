import { describe, expect, it } from 'vitest';
import { BarAggregator, MAX_AHEAD_NS, MAX_GAP_BARS } from './bar-aggregator.ts';
import { createBarPanel, rowOffset, type BarPanel } from './bar-panel.ts';

const SECOND = 1_000_000_000;

/** Bar `bar` of symbol `s` as [open, high, low, close, volume]. */
function barOf(panel: BarPanel, bar: number, s: number): number[] {
  const at = rowOffset(panel, bar) + s;
  return [panel.open[at], panel.high[at], panel.low[at], panel.close[at], panel.volume[at]];
}

describe('BarAggregator', () => {
  it('builds OHLCV bars aligned to the interval and closes them when a later interval opens', () => {
    const panel = createBarPanel(3, 8);
    const bars = new BarAggregator(panel, SECOND);
    expect(bars.openBarStartNs).toBeNaN();
    expect(bars.onTrade(0, 10, 1, 5.2 * SECOND)).toBe(0);
    expect(bars.openBarStartNs).toBe(5 * SECOND);
    bars.onTrade(0, 12, 2, 5.5 * SECOND);
    bars.onTrade(1, 50, 7, 5.6 * SECOND);
    bars.onTrade(0, 9, 3, 5.9 * SECOND);
    expect(Atomics.load(panel.closed, 0)).toBe(0);
    expect(bars.onTrade(1, 51, 1, 6.0 * SECOND)).toBe(1); // the first trade at 6 s closes [5 s, 6 s)
    expect(Atomics.load(panel.closed, 0)).toBe(1);
    expect(barOf(panel, 0, 0)).toEqual([10, 12, 9, 9, 6]);
    expect(barOf(panel, 0, 1)).toEqual([50, 50, 50, 50, 7]);
    expect(barOf(panel, 0, 2)).toEqual([NaN, NaN, NaN, NaN, NaN]); // never traded
    // 6 s: symbol 0 quiet (a flat bar at its last close, volume 0); 7 s and 8 s: nobody trades; 9 s closes them.
    expect(bars.onTrade(2, 30, 4, 9.1 * SECOND)).toBe(3);
    expect(Atomics.load(panel.closed, 0)).toBe(4);
    expect(barOf(panel, 1, 0)).toEqual([9, 9, 9, 9, 0]);
    expect(barOf(panel, 1, 1)).toEqual([51, 51, 51, 51, 1]);
    expect(barOf(panel, 2, 1)).toEqual([51, 51, 51, 51, 0]);
    expect(barOf(panel, 3, 2)).toEqual([NaN, NaN, NaN, NaN, NaN]);
    expect([...panel.interval.subarray(0, 4)]).toEqual([5, 6, 7, 8]);
  });

  it('counts a late print into the open bar, and closes only the latest empty bars of a long gap', () => {
    const panel = createBarPanel(1, 4);
    const bars = new BarAggregator(panel, SECOND);
    bars.onTrade(0, 10, 1, 10 * SECOND);
    bars.onTrade(0, 11, 1, 9.5 * SECOND); // late: joins the open bar
    expect(bars.lateTrades).toBe(1);
    expect(bars.onTrade(0, 12, 1, 100 * SECOND)).toBe(4); // the bar of 10 s, then 3 of the 89 empty ones (the panel)
    expect(bars.gapBarsSkipped).toBe(86);
    expect(Atomics.load(panel.closed, 0)).toBe(4);
    expect(barOf(panel, 0, 0)).toEqual([10, 11, 10, 11, 2]);
    expect(barOf(panel, 3, 0)).toEqual([11, 11, 11, 11, 0]);
    expect([...panel.interval]).toEqual([10, 97, 98, 99]); // the latest empty intervals before the new one
    const wide = new BarAggregator(createBarPanel(1, 64), SECOND);
    wide.onTrade(0, 10, 1, 0);
    expect(wide.onTrade(0, 10, 1, 3_600 * SECOND)).toBe(1 + MAX_GAP_BARS); // an hour of silence: 16 empty bars
    expect(wide.gapBarsSkipped).toBe(3_599 - MAX_GAP_BARS);
  });

  it('leaves a print stamped far in the future out of the bars, which go on closing', () => {
    const panel = createBarPanel(1, 8);
    const bars = new BarAggregator(panel, SECOND);
    bars.onTrade(0, 10, 1, 10 * SECOND);
    expect(bars.onTrade(0, 99, 1, 10 * SECOND + MAX_AHEAD_NS + SECOND)).toBe(0);
    expect(bars.futureTrades).toBe(1);
    expect(bars.onTrade(0, 11, 1, 11 * SECOND)).toBe(1);
    expect(barOf(panel, 0, 0)).toEqual([10, 10, 10, 10, 1]);
  });

  it('refuses an interval below 1 ms and a panel too small to scan', () => {
    expect(() => new BarAggregator(createBarPanel(1, 4), 999_999)).toThrow(RangeError);
    expect(() => createBarPanel(1, 1)).toThrow(/capacity must be an integer >= 2/);
    expect(() => createBarPanel(0, 4)).toThrow(/symbols must be an integer >= 1/);
  });
});
