import type { StreamingIndicator } from '../indicators/indicator.ts';
import { Mulberry32 } from '../random/mulberry32.ts';

/**
 * Deterministic bar series for tests and benchmarks: a seeded random walk on a 0.01 price grid, so equal
 * closes, equal highs and flat stretches occur the way they do in real ticks. Same seed, same bars, everywhere.
 */
export interface Bars {
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** Floats in [0, 1) from a seeded mulberry32 (engine/random), as a function for compact test-data code. */
export function seededRandom(seed: number): () => number {
  const rng = new Mulberry32(seed);
  return () => rng.next();
}

const tick = (x: number): number => Math.round(x * 100) / 100;

/**
 * `count` bars starting near `start`: close moves by up to +-0.5% per bar (1 bar in 10 unchanged), high/low
 * extend past open/close by up to 0.3%, volume is an integer in [0, 1000) with 1 bar in 20 at exactly 0.
 */
export function randomWalkBars(count: number, seed = 1, start = 100): Bars {
  const random = seededRandom(seed);
  const high = new Float64Array(count);
  const low = new Float64Array(count);
  const close = new Float64Array(count);
  const volume = new Float64Array(count);
  let price = start;
  for (let i = 0; i < count; i++) {
    const open = price;
    if (random() >= 0.1) price = Math.max(0.01, tick(price * (1 + (random() - 0.5) * 0.01)));
    close[i] = price;
    high[i] = tick(Math.max(open, price) * (1 + random() * 0.003));
    low[i] = Math.max(0.01, tick(Math.min(open, price) * (1 - random() * 0.003)));
    volume[i] = random() < 0.05 ? 0 : Math.floor(random() * 1000);
  }
  return { high, low, close, volume };
}

/** Feeds every bar to `indicator` and returns each output as an array aligned with the bars. */
export function streamOutputs(indicator: StreamingIndicator, bars: Bars): Float64Array[] {
  const n = bars.close.length;
  const outputs = indicator.outputNames.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    indicator.update(bars.close[i], bars.high[i], bars.low[i], bars.volume[i]);
    for (let k = 0; k < outputs.length; k++) outputs[k][i] = indicator.output(k);
  }
  return outputs;
}
