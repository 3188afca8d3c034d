// Multi-symbol scans on the worker pool against one thread: `npx tsx bench/scan-pool.ts [symbols] [bars] [runs]`.
// Prints ns per point (per symbol per bar), median of `runs`, and speed-ups. Not a test; the reported figures
// come from `npm run bench:indicators` (multi-symbol part), which also measures the memory-bandwidth ceiling.
//
//   js symbol-major     the JS batch function on each symbol's contiguous series
//   wasm SIMD x1        the wasm backend's emaMany / rsiMany on resident arrays, on this thread
//   workers xN          createWorkersBackend({ workers: N }): the same kernels on N worker threads, column shards
//                       of resident arrays in the shared memory
import { emaBatch } from '../engine/indicators/ema.ts';
import { rsiBatch } from '../engine/indicators/rsi.ts';
import { randomWalkBars } from '../engine/batch/series.ts';
import { toBarMajor } from '../engine/batch/panel.ts';
import { createWasmBackend } from '../engine/batch/wasm-backend.ts';
import { createWorkersBackend } from '../engine/batch/workers-backend.ts';

const symbols = Number(process.argv[2] ?? 2000);
const bars = Number(process.argv[3] ?? 10_000);
const runs = Number(process.argv[4] ?? 5);
const points = symbols * bars;

const series = Array.from({ length: symbols }, (_, s) => randomWalkBars(bars, 1000 + s, 20 + (s % 100)).close);
const panel = toBarMajor(series);
const columnOut = new Float64Array(bars);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function time(run: () => unknown): Promise<number> {
  await run(); // warm-up
  const ns: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await run();
    ns.push(Number(process.hrtime.bigint() - start) / points);
  }
  return median(ns);
}

interface Panels {
  emaMany(close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): unknown;
  rsiMany(close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): unknown;
  allocate(length: number): Float64Array;
}

const results: Record<string, Record<string, number>> = { EMA20: {}, RSI14: {} };
results.EMA20['js symbol-major'] = await time(() => {
  for (let s = 0; s < symbols; s++) emaBatch(series[s], 20, columnOut);
});
results.RSI14['js symbol-major'] = await time(() => {
  for (let s = 0; s < symbols; s++) rsiBatch(series[s], 14, columnOut);
});

async function panelRows(label: string, backend: Panels): Promise<void> {
  const input = backend.allocate(points);
  input.set(panel);
  const out = backend.allocate(points);
  results.EMA20[label] = await time(() => backend.emaMany(input, symbols, bars, 20, out));
  results.RSI14[label] = await time(() => backend.rsiMany(input, symbols, bars, 14, out));
}

const wasm = await createWasmBackend();
await panelRows('wasm SIMD x1', wasm);
await wasm.close();
for (const workers of [1, 2]) {
  const backend = await createWorkersBackend({ workers });
  await panelRows(`workers x${workers}`, backend);
  await backend.close();
}

console.log(`${symbols} symbols x ${bars} bars, ns per point, median of ${runs}`);
for (const [label, r] of Object.entries(results)) {
  console.log(`${label}: ${Object.entries(r).map(([name, ns]) => `${name} ${ns.toFixed(2)}`).join(' | ')}`);
  console.log(`${label}: workers x2 vs wasm SIMD x1 ${(r['wasm SIMD x1'] / r['workers x2']).toFixed(2)}x, x2 vs x1 ${(r['workers x1'] / r['workers x2']).toFixed(2)}x`);
}
