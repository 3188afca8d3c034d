/**
 * Argument checks shared by the batch (whole-array) indicator functions. Every check runs before any output
 * is written, so a throwing call leaves a caller's `out` arrays untouched.
 */

/** Throws RangeError unless `period` is an integer >= 1. */
export function checkPeriod(name: string, period: number): void {
  if (!Number.isInteger(period) || period < 1) {
    throw new RangeError(`${name} must be an integer >= 1, got ${period}`);
  }
}

/** Throws RangeError when a period needs more values than the input holds. */
export function checkFitsInput(name: string, period: number, length: number): void {
  if (period > length) {
    throw new RangeError(`${name} (${period}) is larger than the input length (${length})`);
  }
}

/** Throws RangeError naming the first index whose value is NaN or infinite. */
export function checkFinite(name: string, values: Float64Array): void {
  // Fast path without a branch per value: v * 0 is 0 for every finite v and NaN for NaN and +-Infinity, and a
  // NaN survives the sum. Two accumulators halve the add-latency chain.
  const n = values.length;
  let a = 0;
  let b = 0;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    a += values[i] * 0;
    b += values[i + 1] * 0;
  }
  if (i < n) a += values[i] * 0;
  if (a + b === 0) return;
  for (i = 0; i < n; i++) {
    const v = values[i];
    if (v - v !== 0) throw new RangeError(`${name}[${i}] is not finite (${v})`);
  }
}

/** Throws RangeError unless every array has `length` elements. */
export function checkSameLength(length: number, named: Readonly<Record<string, Float64Array>>): void {
  for (const name of Object.keys(named)) {
    if (named[name].length !== length) {
      throw new RangeError(`${name} has ${named[name].length} values, expected ${length} (all inputs must match)`);
    }
  }
}

/** Throws RangeError naming the first index where high < low. */
export function checkHighLow(high: Float64Array, low: Float64Array): void {
  for (let i = 0; i < high.length; i++) {
    if (high[i] < low[i]) throw new RangeError(`high[${i}] (${high[i]}) is below low[${i}] (${low[i]})`);
  }
}

/** Throws RangeError naming the first negative volume. */
export function checkNonNegative(name: string, values: Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0) throw new RangeError(`${name}[${i}] is negative (${values[i]})`);
  }
}

function where(i: number, symbols: number): string {
  return `symbol ${i % symbols}, bar ${Math.floor(i / symbols)}`;
}

/**
 * Throws RangeError naming the first non-finite value of a bar-major panel (backends/panel.ts) by flat index,
 * symbol and bar.
 */
export function checkFinitePanel(name: string, values: Float64Array, symbols: number): void {
  try {
    checkFinite(name, values); // the fast branch-free scan
  } catch {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v - v !== 0) throw new RangeError(`${name}[${i}] (${where(i, symbols)}) is not finite (${v})`);
    }
  }
}

/** Throws RangeError naming the first high < low of a bar-major panel by flat index, symbol and bar. */
export function checkHighLowPanel(high: Float64Array, low: Float64Array, symbols: number): void {
  for (let i = 0; i < high.length; i++) {
    if (high[i] < low[i]) {
      throw new RangeError(`high[${i}] (${high[i]}) is below low[${i}] (${low[i]}) (${where(i, symbols)})`);
    }
  }
}

/**
 * The O(n) value checks of the batch and panel functions, in the call order of the prepare/check functions. A
 * backend that scans faster elsewhere (the wasm backend, in its memory) passes its own, which must throw exactly
 * these RangeErrors: it can defer each check and, on a hit, run the JS one to build the message. `symbols` is
 * given for panels (the message names the symbol and bar).
 */
export interface ValueChecks {
  finite(name: string, values: Float64Array, symbols?: number): void;
  highLow(high: Float64Array, low: Float64Array, symbols?: number): void;
  nonNegative(name: string, values: Float64Array): void;
}

/** The checks above, run here and now. */
export const jsValueChecks: ValueChecks = Object.freeze({
  finite(name: string, values: Float64Array, symbols?: number): void {
    if (symbols === undefined) checkFinite(name, values);
    else checkFinitePanel(name, values, symbols);
  },
  highLow(high: Float64Array, low: Float64Array, symbols?: number): void {
    if (symbols === undefined) checkHighLow(high, low);
    else checkHighLowPanel(high, low, symbols);
  },
  nonNegative: checkNonNegative,
});

function overlaps(a: Float64Array, b: Float64Array): boolean {
  if (a.buffer !== b.buffer) return false;
  const aEnd = a.byteOffset + a.byteLength;
  const bEnd = b.byteOffset + b.byteLength;
  return a.byteOffset < bEnd && b.byteOffset < aEnd;
}

/**
 * Returns `out` (checked: right length, not sharing memory with any input) or a new array of `length`.
 * Batch functions read inputs behind the write position, so an output that aliases an input would corrupt them.
 */
export function outputArray(
  name: string,
  out: Float64Array | undefined,
  length: number,
  inputs: readonly Float64Array[],
): Float64Array {
  if (out === undefined) return new Float64Array(length);
  if (out.length !== length) {
    throw new RangeError(`${name} has ${out.length} slots, expected the input length ${length}`);
  }
  for (const input of inputs) {
    if (overlaps(out, input)) throw new RangeError(`${name} shares memory with an input array`);
  }
  return out;
}

/**
 * The checks of the one-input batch functions (SMA, EMA, RSI) in their order: period, `out`, then (for a
 * non-empty input) period against the length and finite closes. Returns `out` or a new output array.
 */
export function prepareCloseBatch(
  close: Float64Array, period: number, out: Float64Array | undefined, values: ValueChecks = jsValueChecks,
): Float64Array {
  checkPeriod('period', period);
  const n = close.length;
  const result = outputArray('out', out, n, [close]);
  if (n === 0) return result;
  checkFitsInput('period', period, n);
  values.finite('close', close);
  return result;
}
