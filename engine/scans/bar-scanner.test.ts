import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../batch/series.ts';
import { BarAggregator } from '../bars/bar-aggregator.ts';
import { createBarPanel, rowOffset } from '../bars/bar-panel.ts';
import { standardIndicators } from '../config/presets.ts';
import { createIndicator } from '../indicators/registry.ts';
import { BarScanner, createScanArrays } from './bar-scanner.ts';
import { crossSectionRank, crossSectionZScore, RankWorkspace } from './cross-section.ts';
import { openWasmScanKernels } from './wasm-scan-kernels.ts';
import { sameBits } from '../../test/support/indicator-specs.ts';

const SECOND = 1_000_000_000;
const after: Array<() => void> = [];
afterEach(() => {
  for (const close of after.splice(0)) close();
});
const SYMBOLS = 6;

/**
 * 60 one-second bars of trades of `symbols` symbols (a trade every `tradeEveryMs`, each of a random symbol); symbol
 * 5 starts trading at 20 s, symbol 4 is silent from 30 s to 40 s.
 */
function market(capacity = 64, symbols = SYMBOLS, tradeEveryMs = 50): { panel: ReturnType<typeof createBarPanel>; bars: number } {
  const panel = createBarPanel(symbols, capacity);
  const aggregator = new BarAggregator(panel, SECOND);
  const random = seededRandom(8);
  const price = Array.from({ length: symbols }, (_, s) => 20 + s);
  for (let ms = 0; ms < 60_000; ms += tradeEveryMs) {
    const s = Math.floor(random() * symbols);
    if (s === 5 && ms < 20_000) continue;
    if (s === 4 && ms >= 30_000 && ms < 40_000) continue;
    price[s] = Math.round(price[s] * (1 + (random() - 0.5) * 0.004) * 100) / 100;
    aggregator.onTrade(s, price[s], Math.floor(random() * 100), ms * 1_000_000);
  }
  aggregator.onTrade(0, price[0], 1, 60 * SECOND); // closes the bar of 59 s
  return { panel, bars: Atomics.load(panel.closed, 0) };
}

describe('BarScanner', () => {
  it('updates each symbol\'s per-bar indicators once per bar, as streaming its bars would', async () => {
    const { panel, bars } = market();
    expect(bars).toBe(60);
    const scanner = new BarScanner(panel, { indicators: standardIndicators }, () => 0);
    for (let b = 0; b < bars; b++) await scanner.scan(b);
    for (let s = 0; s < SYMBOLS; s++) {
      const direct = standardIndicators.map((spec, i) => createIndicator({ type: spec.type, params: { ...spec.params } }, `i${i}`));
      for (let b = 0; b < bars; b++) {
        const at = rowOffset(panel, b) + s;
        if (Number.isNaN(panel.close[at])) continue;
        for (const indicator of direct) indicator.update(panel.close[at], panel.high[at], panel.low[at], panel.volume[at]);
      }
      direct.forEach((indicator, k) => {
        expect(Object.is(scanner.result.values[k][s], indicator.output(0)), `${standardIndicators[k].name} of symbol ${s}`).toBe(true);
      });
    }
  });

  it('catches the indicators up on the bars of skipped scans, so skipping changes no value', async () => {
    const { panel, bars } = market();
    const every = new BarScanner(panel, { indicators: standardIndicators }, () => 0);
    const some = new BarScanner(panel, { indicators: standardIndicators }, () => 0);
    for (let b = 0; b < bars; b++) await every.scan(b);
    for (const b of [3, 4, 17, 40, bars - 1]) await some.scan(b);
    expect(some.result.barsFed).toBe(bars - 41);
    expect(some.barsMissed).toBe(0);
    for (let k = 0; k < standardIndicators.length; k++) expect([...some.result.values[k]]).toEqual([...every.result.values[k]]);
    await expect(some.scan(bars - 1)).rejects.toThrow(/was scanned already/);
  });

  it('ranks and z-scores the bar\'s returns and each indicator across the symbols, and correlates returns', async () => {
    const { panel, bars } = market();
    const scanner = new BarScanner(panel, { indicators: standardIndicators, correlation: { symbols: 5, window: 20 } }, () => 0);
    for (let b = 0; b < bars; b++) await scanner.scan(b);
    const result = scanner.result;
    const last = rowOffset(panel, bars - 1);
    const before = rowOffset(panel, bars - 2);
    for (let s = 0; s < SYMBOLS; s++) expect(result.returns[s]).toBe(panel.close[last + s] / panel.close[before + s] - 1);
    const rank = new Float64Array(SYMBOLS);
    const z = new Float64Array(SYMBOLS);
    crossSectionRank(result.returns, rank, new RankWorkspace(SYMBOLS));
    crossSectionZScore(result.returns, z);
    expect([...result.returnRank]).toEqual([...rank]);
    expect([...result.returnZ]).toEqual([...z]);
    crossSectionRank(result.values[2], rank, new RankWorkspace(SYMBOLS));
    expect([...result.ranks[2]]).toEqual([...rank]);
    const correlation = result.correlation ?? new Float64Array(0);
    expect(correlation).toHaveLength(25);
    for (let i = 0; i < 5; i++) {
      expect(correlation[i * 5 + i]).toBe(1);
      for (let j = 0; j < 5; j++) {
        expect(Math.abs(correlation[i * 5 + j])).toBeLessThanOrEqual(1 + 1e-12);
        expect(correlation[i * 5 + j]).toBe(correlation[j * 5 + i]);
      }
    }
  });

  it('computes the correlation on js when the backend fails a scan, and counts it', async () => {
    const { panel, bars } = market();
    const settings = { indicators: [], correlation: { symbols: 5, window: 20 } };
    const failing = { gram: (): Float64Array => { throw new Error('device lost'); } };
    const reference = new BarScanner(panel, settings, () => 0);
    const scanner = new BarScanner(panel, settings, () => 0, failing);
    for (let b = 0; b < bars; b++) {
      const [a, x] = [await reference.scan(b), await scanner.scan(b)];
      expect([...(x.correlation ?? [])]).toEqual([...(a.correlation ?? [])]);
    }
    expect(scanner.backendFallbacks).toBe(bars - 20); // every scan with a full window
    expect(scanner.lastBackendError).toBe('device lost');
  });

  // Results on shared memory (as the scan thread has them: each thread copies its own cross-sections' out), and
  // on unshared memory (copied out by the scan thread once every cross-section is done).
  it.each([[1, true], [2, true], [3, true], [2, false]] as const)('gives every result the same bits on the WebAssembly kernels (%i threads, shared results: %s) as on the JavaScript ones, skipped scans included', async (threads, shared) => {
    // 40 symbols: the columns' chunks (four a thread, cut on 16 symbols) hold 16, 16 and 8 of them (the rest empty),
    // each claimed by whichever thread comes first.
    const symbols = 40;
    const { panel, bars } = market(64, symbols, 5);
    const settings = { indicators: standardIndicators, correlation: { symbols: 5, window: 20 } };
    const js = new BarScanner(panel, settings, () => 0);
    const kernels = await openWasmScanKernels(symbols, undefined, threads);
    expect(kernels.threads).toBe(threads);
    after.push(() => kernels.close());
    // Two result sets, as the scan thread has: each registers its own cross-sections with the helpers.
    const wasm = new BarScanner(panel, settings, () => 0, undefined, [0, 1].map(() => createScanArrays(symbols, standardIndicators.length, 5, shared)), kernels);
    let compared = 0;
    for (let b = 0; b < bars; b++) {
      if (b % 7 === 3) continue; // skipped scans: the next one catches the indicators up
      const [x, y] = [await js.scan(b), await wasm.scan(b, b % 2)];
      expect(y.barsFed).toBe(x.barsFed);
      const arrays = ['returns', 'returnRank', 'returnZ', 'correlation'] as const;
      for (const key of arrays) expect(sameBits(y[key], x[key]), `${key} at bar ${b}`).toBe(true);
      for (let k = 0; k < standardIndicators.length; k++) {
        for (const key of ['values', 'ranks', 'zscores'] as const) expect(sameBits(y[key][k], x[key][k]), `${key}[${k}] at bar ${b}`).toBe(true);
        if (!Number.isNaN(x.values[k][0])) compared++;
      }
    }
    expect(compared).toBeGreaterThan(100); // warm values compared, not only NaN
  });

  it('counts bars that left the panel before a late scan could feed them', async () => {
    const { panel, bars } = market(16);
    const scanner = new BarScanner(panel, { indicators: [{ name: 'ema', type: 'ema', params: { period: 3 } }] }, () => 0);
    await scanner.scan(bars - 1);
    // Bars 0-43 left the 16-slot ring; bar 44's slot is the next one written, so it is not trusted either.
    expect(scanner.barsMissed).toBe(bars - 15);
    expect(scanner.result.barsFed).toBe(15);
  });
});
