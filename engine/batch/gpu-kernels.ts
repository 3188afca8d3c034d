/**
 * The GPU indicator kernels: gpu.js kernel sources (gpu.js compiles them to WGSL compute shaders in `webgpu` mode),
 * one thread per output value, f32 throughout.
 *
 * Data-parallel forms of the sequential indicators, chosen to stay accurate in f32:
 * - Windowed sums are summed fresh per output (no running or prefix sums, whose error grows with the series).
 * - Every sum is ANCHORED at the current value: SMA(t) = x[t] + mean(x[t-j] - x[t]). The differences are small
 *   next to prices, so their rounding is too, and a constant series gives exactly its value (zero-width bands).
 * - Exponential and Wilder smoothing (EMA, RSI, ATR, MACD) is the recursion unrolled into its weights:
 *   ema(t) = sum_j a q^j x[t-j] + q^m seed, q = 1 - a, m steps after the seed. Within HORIZON steps of the seed
 *   the sum is exact (seed included); further on it keeps `horizon(q)` terms, the first K with q^K <= 2^-24 (the
 *   f32 epsilon), and carries the rest by the oldest kept input (EMA, MACD, ATR: weights still sum to 1, so the
 *   dropped part is q^K times a deviation, below f32 resolution) or drops it (RSI's two averages). Cost: K
 *   multiply-adds per output, K ~ 8.3 x period for EMA, 11.6 x period for Wilder smoothing.
 *
 * Layouts (how a thread finds its bar t and symbol s, and how an input is read), both 2D so that no index
 * exceeds 2^24, where f32 stops holding integers:
 * - `panel`: inputs are bar-major panels given as 2D [symbols, bars] arrays; thread (x, y) = (symbol, bar - first).
 * - `folded`: one series folded into rows of FOLD_WIDTH; thread (x, y) is bar first + y * FOLD_WIDTH + x.
 *   FOLD_WIDTH is a power of two, so the row of bar i, floor((i + 0.5) / FOLD_WIDTH), is exact.
 * gpu.js hoists every local to function scope: names are unique within a kernel, loop counters included.
 * Every kernel takes (inputs..., params..., first, n) and returns the value at bar t >= first; earlier bars are
 * warm-up, written as NaN by the caller, never computed.
 */
export type KernelLayout = 'panel' | 'folded';
export const FOLD_WIDTH = 1024;

/** The number of smoothing terms kept for decay factor q in [0, 1): the first K with q^K <= 2^-24. */
export function horizon(q: number): number {
  if (!(q >= 0 && q < 1)) throw new RangeError(`decay factor must be in [0, 1), got ${q}`);
  if (q === 0) return 1;
  return Math.max(1, Math.ceil(Math.log(2 ** -24) / Math.log(q)));
}

export type KernelName = 'smaOf' | 'emaOf' | 'macdLine' | 'rsi' | 'atr' | 'bbandsDeviation' | 'vwap' | 'stochFastK';

interface LayoutCode {
  /** Statements that define `t` (and `s` in the panel layout), returning 0 for a thread past the series. */
  readonly thread: string;
  /** The expression reading input `array` at bar expression `bar`. */
  read(array: string, bar: string): string;
}

const layouts: Readonly<Record<KernelLayout, LayoutCode>> = {
  panel: {
    thread: 'const s = this.thread.x; const t = first + this.thread.y;',
    read: (array, bar) => `${array}[${bar}][s]`,
  },
  folded: {
    thread: `const t = first + this.thread.y * ${FOLD_WIDTH} + this.thread.x; if (t >= n) { return 0; }`,
    read: (array, bar) =>
      `${array}[Math.floor(((${bar}) + 0.5) / ${FOLD_WIDTH})][(${bar}) - Math.floor(((${bar}) + 0.5) / ${FOLD_WIDTH}) * ${FOLD_WIDTH}]`,
  },
};

/** True range at bar `i` (i >= 1) into `name`, as statements. */
function trueRange(r: LayoutCode['read'], name: string, i: string): string {
  return `let ${name} = ${r('h', i)} - ${r('l', i)};
    const ${name}Up = Math.abs(${r('h', i)} - ${r('c', `${i} - 1`)});
    if (${name}Up > ${name}) { ${name} = ${name}Up; }
    const ${name}Down = Math.abs(${r('l', i)} - ${r('c', `${i} - 1`)});
    if (${name}Down > ${name}) { ${name} = ${name}Down; }`;
}

/** Kernel bodies by name; `r` reads an input in the chosen layout. */
const bodies: Readonly<Record<KernelName, { readonly args: string; body(r: LayoutCode['read']): string }>> = {
  // Mean of the `period` values of `x` ending at bar t, where x's bar 0 is bar `offset` of the series.
  smaOf: {
    args: 'x, period, offset',
    body: (r) => `
    const xt = ${r('x', 't - offset')};
    let acc = 0.0;
    for (let j = 0; j < period; j++) { acc += ${r('x', 't - offset - j')} - xt; }
    return xt + acc / period;`,
  },
  // EMA seeded at bar `seedAt` with the mean of the `period` values ending there (x's bar 0 is bar `offset`).
  emaOf: {
    args: 'x, period, alpha, terms, seedAt, offset',
    body: (r) => `
    const q = 1.0 - alpha;
    const m = t - seedAt;
    const xt = ${r('x', 't - offset')};
    let acc = 0.0;
    let qm = 1.0;
    const kept = Math.min(m, terms);
    for (let j = 0; j < kept; j++) { acc += alpha * qm * (${r('x', 't - offset - j')} - xt); qm *= q; }
    if (m < terms) {
      let seed = 0.0;
      for (let i = 0; i < period; i++) { seed += ${r('x', 'seedAt - offset - i')} - xt; }
      acc += qm * (seed / period);
    } else {
      acc += qm * (${r('x', 't - offset - terms')} - xt);
    }
    return xt + acc;`,
  },
  // fast EMA - slow EMA, both seeded at bar slow - 1 (TA-Lib MACD), both anchored at x[t] so it cancels.
  macdLine: {
    args: 'x, fast, slow, fastAlpha, slowAlpha, fastTerms, slowTerms',
    body: (r) => `
    const m = t - (slow - 1);
    const xt = ${r('x', 't')};
    let fastAcc = 0.0;
    let qm = 1.0;
    const fastKept = Math.min(m, fastTerms);
    for (let j = 0; j < fastKept; j++) { fastAcc += fastAlpha * qm * (${r('x', 't - j')} - xt); qm *= 1.0 - fastAlpha; }
    if (m < fastTerms) {
      let seed = 0.0;
      for (let i = 0; i < fast; i++) { seed += ${r('x', 'slow - 1 - i')} - xt; }
      fastAcc += qm * (seed / fast);
    } else {
      fastAcc += qm * (${r('x', 't - fastTerms')} - xt);
    }
    let slowAcc = 0.0;
    qm = 1.0;
    const slowKept = Math.min(m, slowTerms);
    for (let k = 0; k < slowKept; k++) { slowAcc += slowAlpha * qm * (${r('x', 't - k')} - xt); qm *= 1.0 - slowAlpha; }
    if (m < slowTerms) {
      let slowSeed = 0.0;
      for (let u = 0; u < slow; u++) { slowSeed += ${r('x', 'slow - 1 - u')} - xt; }
      slowAcc += qm * (slowSeed / slow);
    } else {
      slowAcc += qm * (${r('x', 't - slowTerms')} - xt);
    }
    return fastAcc - slowAcc;`,
  },
  // Wilder RSI: averages seeded at bar `period` with the means of the first `period` gains and losses. Bars with
  // no change at the end (a halt) scale both averages by q each and leave their ratio alone, so the RSI is
  // evaluated at the last bar that moved: exact however long the halt, where a truncated sum would reach 0 / 0.
  // (The f64 recursion itself underflows to 0 / 0 = 50 after ~9,500 flat bars at period 14; at period 1, q = 0,
  // one flat bar is 0 / 0 = 50, so there is no scan.)
  rsi: {
    args: 'x, period, terms',
    body: (r) => `
    const alpha = 1.0 / period;
    const q = 1.0 - alpha;
    let flat = 0;
    let scan = t - period;
    if (period < 2) { scan = 0; }
    for (let h = 0; h < scan; h++) {
      if (${r('x', 't - h')} !== ${r('x', 't - h - 1')}) { break; }
      flat++;
    }
    const te = t - flat;
    const m = te - period;
    let gain = 0.0;
    let loss = 0.0;
    let qm = 1.0;
    const kept = Math.min(m, terms);
    for (let j = 0; j < kept; j++) {
      const d = ${r('x', 'te - j')} - ${r('x', 'te - j - 1')};
      if (d > 0.0) { gain += alpha * qm * d; } else { loss -= alpha * qm * d; }
      qm *= q;
    }
    if (m < terms) {
      let seedGain = 0.0;
      let seedLoss = 0.0;
      for (let i = 1; i <= period; i++) {
        const e = ${r('x', 'i')} - ${r('x', 'i - 1')};
        if (e > 0.0) { seedGain += e; } else { seedLoss -= e; }
      }
      gain += qm * (seedGain / period);
      loss += qm * (seedLoss / period);
    }
    const total = gain + loss;
    if (total === 0.0) { return 50.0; }
    return 100.0 * (gain / total);`,
  },
  // Wilder ATR: seeded at bar `period` with the mean true range of bars 1..period.
  atr: {
    args: 'h, l, c, period, terms',
    body: (r) => `
    const alpha = 1.0 / period;
    const q = 1.0 - alpha;
    const m = t - period;
    let acc = 0.0;
    let qm = 1.0;
    const kept = Math.min(m, terms);
    for (let j = 0; j < kept; j++) {
      ${trueRange(r, 'tr', 't - j')}
      acc += alpha * qm * tr;
      qm *= q;
    }
    if (m < terms) {
      let seed = 0.0;
      for (let i = 1; i <= period; i++) {
        ${trueRange(r, 'seedTr', 'i')}
        seed += seedTr;
      }
      acc += qm * (seed / period);
    } else {
      ${trueRange(r, 'oldTr', 't - terms')}
      acc += qm * oldTr;
    }
    return acc;`,
  },
  // Population standard deviation of the window, two passes over deviations from x[t].
  bbandsDeviation: {
    args: 'x, period',
    body: (r) => `
    const xt = ${r('x', 't')};
    let sum = 0.0;
    for (let j = 0; j < period; j++) { sum += ${r('x', 't - j')} - xt; }
    const mean = sum / period;
    let m2 = 0.0;
    for (let k = 0; k < period; k++) {
      const d = ${r('x', 't - k')} - xt - mean;
      m2 += d * d;
    }
    return Math.sqrt(m2 / period);`,
  },
  // sum(tp * volume) / sum(volume) over the window, anchored at tp[t]; the mean tp where no bar traded.
  vwap: {
    args: 'h, l, c, v, period',
    body: (r) => `
    const tpt = (${r('h', 't')} + ${r('l', 't')} + ${r('c', 't')}) / 3.0;
    let volume = 0.0;
    let weighted = 0.0;
    let plain = 0.0;
    for (let j = 0; j < period; j++) {
      const d = (${r('h', 't - j')} + ${r('l', 't - j')} + ${r('c', 't - j')}) / 3.0 - tpt;
      const traded = ${r('v', 't - j')};
      volume += traded;
      weighted += d * traded;
      plain += d;
    }
    if (volume === 0.0) { return tpt + plain / period; }
    return tpt + weighted / volume;`,
  },
  // 100 * (close - lowest low) / (highest high - lowest low) over the window; 50 on a flat window.
  stochFastK: {
    args: 'h, l, c, period',
    body: (r) => `
    let highest = ${r('h', 't')};
    let lowest = ${r('l', 't')};
    for (let j = 1; j < period; j++) {
      highest = Math.max(highest, ${r('h', 't - j')});
      lowest = Math.min(lowest, ${r('l', 't - j')});
    }
    const range = highest - lowest;
    if (range === 0.0) { return 50.0; }
    return 100.0 * ((${r('c', 't')} - lowest) / range);`,
  },
};

/** The gpu.js source of kernel `name` in `layout`: `function (inputs..., params..., first, n) { ... }`. */
export function kernelSource(name: KernelName, layout: KernelLayout): string {
  const code = layouts[layout];
  const { args, body } = bodies[name];
  return `function (${args}, first, n) {
    ${code.thread}
    ${body(code.read)}
  }`;
}

/**
 * The Gram matrix (engine/batch/gram.ts) as one gpu.js kernel: thread (x, y) = entry (i = y, j = x), a dot product
 * of two rows of the 2D input [length, rows] in f32, divided by the length. Products commute exactly, so entries
 * (i, j) and (j, i) are the same sum and the result is symmetric.
 */
export const gramKernelSource = `function (z, length) {
  const gi = this.thread.y;
  const gj = this.thread.x;
  let gsum = 0;
  for (let gk = 0; gk < length; gk++) {
    gsum += z[gi][gk] * z[gj][gk];
  }
  return gsum / length;
}`;
