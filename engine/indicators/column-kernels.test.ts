import { beforeAll, describe, expect, it } from 'vitest';
import { randomWalkBars } from '../batch/series.ts';
import { jsScanKernels, type ScanKernels } from '../scans/scan-kernels.ts';
import { openWasmScanKernels } from '../scans/wasm-scan-kernels.ts';
import { columnKernelFor } from './column-kernels.ts';
import type { StreamingIndicator } from './indicator.ts';
import { addFlatStretch, buildIndicator, type IndicatorSpecUnderTest } from '../../test/support/indicator-specs.ts';

// Every column kernel against its class, one instance per symbol fed the same bars: the first output of every
// symbol after every bar, bit for bit. Symbols start on different bars (NaN closes before), and the bars cross the
// windowed indicators' re-summations, a flat and untraded stretch, and an enormous print (VWAP's re-summation
// when rounding leaves its volume sum at or below 0).
const specs: readonly IndicatorSpecUnderTest[] = [
  { type: 'sma', params: { period: 20 } },
  { type: 'sma', params: { period: 1030 } },
  { type: 'ema', params: { period: 12 } },
  { type: 'rsi', params: { period: 14 } },
  { type: 'macd', params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 } },
  { type: 'bbands', params: { period: 20, stdDev: 2 } },
  { type: 'bbands', params: { period: 1030, stdDev: 2.5 } },
  { type: 'atr', params: { period: 14 } },
  { type: 'vwap', params: { period: 20 } },
  { type: 'vwap', params: { period: 50 } },
  { type: 'stoch', params: { fastKPeriod: 14, slowKPeriod: 3, slowDPeriod: 3 } },
  { type: 'stoch', params: { fastKPeriod: 5, slowKPeriod: 1030, slowDPeriod: 3 } },
];

const SYMBOLS = 24;
const BARS = 2_600;

/** Bar-major rows of SYMBOLS random walks; symbol s has no bars (NaN) before bar 7 * s. */
function universe(): { close: Float64Array[]; high: Float64Array[]; low: Float64Array[]; volume: Float64Array[] } {
  const rows = { close: [] as Float64Array[], high: [] as Float64Array[], low: [] as Float64Array[], volume: [] as Float64Array[] };
  const walks = Array.from({ length: SYMBOLS }, (_, s) => randomWalkBars(BARS, s + 1, 20 + s));
  addFlatStretch(walks[3], 1_200, 1_500);
  for (let b = 0; b < BARS; b++) {
    for (const field of ['close', 'high', 'low', 'volume'] as const) {
      rows[field].push(Float64Array.from(walks, (walk, s) => (b < 7 * s ? Number.NaN : walk[field][b])));
    }
  }
  return rows;
}

const build = buildIndicator;

// The same suite for both sets of scan kernels: JavaScript (column-kernels.ts) and WebAssembly (assembly/kernels/
// scan.ts, fed here from arrays outside its memory, so through its copy-in path).
const kernelSets: Record<ScanKernels['name'], () => Promise<ScanKernels>> = {
  js: () => Promise.resolve(jsScanKernels(SYMBOLS)),
  wasm: () => openWasmScanKernels(SYMBOLS),
};

describe.each(Object.keys(kernelSets) as Array<ScanKernels['name']>)('column kernels on %s: an indicator across many symbols, in state arrays', (name) => {
  const rows = universe();
  let kernels: ScanKernels;
  beforeAll(async () => {
    kernels = await kernelSets[name]();
  });
  for (const spec of specs) {
    it(`${spec.type} ${JSON.stringify(spec.params)}: every symbol's first output is its class's, bit for bit, after every bar`, () => {
      const instances = Array.from({ length: SYMBOLS }, () => build(spec));
      const kernel = kernels.columns([instances[0]]);
      const value = kernel.values[0];
      let stable = 0;
      for (let b = 0; b < BARS; b++) {
        const close = rows.close[b];
        kernel.update(close, rows.high[b], rows.low[b], rows.volume[b]);
        for (let s = 0; s < SYMBOLS; s++) {
          if (close[s] === close[s]) instances[s].update(close[s], rows.high[b][s], rows.low[b][s], rows.volume[b][s]);
          const expected = instances[s].output(0);
          if (!Object.is(value[s], expected)) throw new Error(`bar ${b}, symbol ${s}: ${value[s]}, class ${expected}`);
          if (instances[s].isStable) stable++;
        }
      }
      expect(stable).toBeGreaterThan(0); // the comparison reached stable outputs, not only NaN
    });
  }

  it('refuses an indicator it has no kernel for', () => {
    const custom = { type: 'custom' } as unknown as StreamingIndicator;
    expect(() => kernels.columns([custom])).toThrow(/no column kernel for indicator type custom/);
    expect(() => columnKernelFor(custom, 4)).toThrow(/no column kernel for indicator type custom/);
  });
});
