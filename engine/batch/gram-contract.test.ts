import { beforeAll, describe, expect, it } from 'vitest';
import { buildWasm } from '../../assembly/build.ts';
import { gramBackends, openedForSuite } from '../../test/support/batch-backends.ts';
import { gramBatch } from './gram.ts';
import { Mulberry32 } from '../random/mulberry32.ts';

/**
 * The Gram matrix contract (gram.ts) on every backend against the reference: js, wasm and workers bit for bit (the
 * same partial sums in the same order), gpu within GRAM_GPU_TOLERANCE on standardised rows; the same checks with
 * the same messages, nothing written on a refusal.
 */
const backends = gramBackends;

beforeAll(async () => {
  await buildWasm();
}, 120_000);

/** `rows` rows of `length` standardised values (mean 0, population deviation 1), as the correlation passes them. */
function standardisedRows(rows: number, length: number, seed: number): Float64Array {
  const random = new Mulberry32(seed);
  const z = new Float64Array(rows * length);
  for (let i = 0; i < rows; i++) {
    const row = z.subarray(i * length, (i + 1) * length);
    // A common factor plus noise, so that rows correlate (entries spread over [-1, 1], not all near 0).
    for (let k = 0; k < length; k++) row[k] = (i % 3) * Math.sin(k / 3) + random.next() - 0.5;
    const mean = row.reduce((a, b) => a + b, 0) / length;
    const sd = Math.sqrt(row.reduce((a, b) => a + (b - mean) * (b - mean), 0) / length);
    for (let k = 0; k < length; k++) row[k] = (row[k] - mean) / sd;
  }
  return z;
}

describe.each(backends)('gram on $name', ({ create, tolerance }) => {
  const opened = openedForSuite(create);

  it.each([
    { rows: 1, length: 2 },
    { rows: 2, length: 3 },
    { rows: 7, length: 4 },
    { rows: 37, length: 53 },
    { rows: 64, length: 256 },
  ])('equals the reference on $rows rows of $length values', async ({ rows, length }) => {
    const z = standardisedRows(rows, length, rows * 1000 + length);
    const expected = gramBatch(z, rows, length);
    const got = await opened().gram(z, rows, length);
    expect(got).toHaveLength(rows * rows);
    for (let k = 0; k < rows * rows; k++) {
      if (tolerance === undefined) {
        if (!Object.is(got[k], expected[k])) expect.fail(`entry (${Math.floor(k / rows)}, ${k % rows}): ${got[k]} != ${expected[k]}`);
      } else if (!(Math.abs(got[k] - expected[k]) <= tolerance)) {
        expect.fail(`entry (${Math.floor(k / rows)}, ${k % rows}): ${got[k]} is more than ${tolerance} from ${expected[k]}`);
      }
    }
    // Symmetric, and a standardised row's product with itself is its variance, 1.
    for (let i = 0; i < rows; i++) {
      if (length > 1) expect(Math.abs(got[i * rows + i] - 1)).toBeLessThan(tolerance ?? 1e-12);
      for (let j = 0; j < i; j++) expect(got[i * rows + j]).toBe(got[j * rows + i]);
    }
  });

  it('writes into a given out array and returns it; zero rows give an empty matrix', async () => {
    const z = standardisedRows(5, 9, 3);
    const out = new Float64Array(25);
    expect(await opened().gram(z, 5, 9, out)).toBe(out);
    expect(out[1]).toBe(out[5]);
    expect(Math.abs(out[6] - 1)).toBeLessThan(tolerance ?? 1e-12);
    expect(await opened().gram(new Float64Array(0), 0, 4)).toHaveLength(0);
  });

  it.each([
    { label: 'negative rows', rows: -1, length: 3, z: 3, out: undefined, message: 'rows must be an integer >= 0, got -1' },
    { label: 'fractional length', rows: 1, length: 2.5, z: 3, out: undefined, message: 'length must be an integer >= 1, got 2.5' },
    { label: 'zero length', rows: 2, length: 0, z: 0, out: undefined, message: 'length must be an integer >= 1, got 0' },
    { label: 'short z', rows: 2, length: 3, z: 5, out: undefined, message: 'z has 5 values, expected rows x length = 6' },
    { label: 'wrong out', rows: 2, length: 3, z: 6, out: 3, message: 'out has 3 slots, expected the input length 4' },
  ])('refuses $label with the reference message', async ({ rows, length, z, out, message }) => {
    const output = out === undefined ? undefined : new Float64Array(out).fill(7);
    await expect(Promise.resolve().then(() => opened().gram(new Float64Array(z), rows, length, output))).rejects.toThrow(new RangeError(message));
    if (output) expect(Array.from(output)).toEqual([7, 7, 7]);
  });

  it('names the first non-finite value and leaves out untouched', async () => {
    const z = standardisedRows(4, 10, 9);
    z[17] = Number.NaN;
    z[30] = Number.POSITIVE_INFINITY;
    const out = new Float64Array(16).fill(7);
    await expect(Promise.resolve().then(() => opened().gram(z, 4, 10, out))).rejects.toThrow(new RangeError('z[17] is not finite (NaN)'));
    expect(out.every((v) => v === 7)).toBe(true);
  });
});
