// Multi-symbol scans on the worker pool against one thread: `npx tsx bench/scan-pool.ts [symbols] [bars] [runs]`.
// Prints ns per point (per symbol per bar), median of `runs`, and speed-ups. Not a test.
//
//   js symbol-major    the JS batch function on each symbol's contiguous series (no transposes, no checks)
//   js in-process      the workers' own work (parallel checks + tiled compute) over the whole bar-major panel,
//                      on this thread: what one worker does, without messages
//   workers xN         createWorkersBackend({ workers: N }).emaMany / rsiMany on SharedArrayBuffer panels
import { emaBatch } from '../engine/indicators/ema.ts';
import { rsiBatch } from '../engine/indicators/rsi.ts';
import { randomWalkBars } from '../engine/indicators/series.ts';
import { createWorkersBackend, type WorkersBackend } from '../engine/indicators/backends/workers-backend.ts';
import { runScanTask } from '../engine/workers/scan-tasks.ts';

const symbols = Number(process.argv[2] ?? 2000);
const bars = Number(process.argv[3] ?? 10_000);
const runs = Number(process.argv[4] ?? 5);
const points = symbols * bars;

function sharedArray(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * 8));
}

const series = Array.from({ length: symbols }, (_, s) => randomWalkBars(bars, 1000 + s, 20 + (s % 100)).close);
const panel = sharedArray(points);
for (let s = 0; s < symbols; s++) for (let t = 0; t < bars; t++) panel[t * symbols + s] = series[s][t];
const out = sharedArray(points);
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

const kernels = [
  { label: 'EMA20', kernel: 'ema' as const, period: 20, batch: emaBatch, many: (b: WorkersBackend) => b.emaMany(panel, symbols, bars, 20, out) },
  { label: 'RSI14', kernel: 'rsi' as const, period: 14, batch: rsiBatch, many: (b: WorkersBackend) => b.rsiMany(panel, symbols, bars, 14, out) },
];

const results: Record<string, Record<string, number>> = {};
for (const k of kernels) results[k.label] = {};

for (const k of kernels) {
  results[k.label]['js symbol-major'] = await time(() => {
    for (let s = 0; s < symbols; s++) k.batch(series[s], k.period, columnOut);
  });
  const range = { symbols, bars, first: 0, count: symbols, inputs: [{ buffer: panel.buffer as SharedArrayBuffer, byteOffset: 0, length: points }] };
  results[k.label]['js in-process'] = await time(() => {
    runScanTask({ ...range, kind: 'check', highLow: false });
    runScanTask({ ...range, kind: 'compute', kernel: k.kernel, params: [k.period], outputs: [{ buffer: out.buffer as SharedArrayBuffer, byteOffset: 0, length: points }] });
  });
}
for (const workers of [1, 2]) {
  const backend = await createWorkersBackend({ workers });
  for (const k of kernels) results[k.label][`workers x${workers}`] = await time(() => k.many(backend));
  await backend.close();
}

console.log(`${symbols} symbols x ${bars} bars, ns per point, median of ${runs}`);
for (const k of kernels) {
  const r = results[k.label];
  const cells = Object.entries(r).map(([name, ns]) => `${name} ${ns.toFixed(2)}`).join(' | ');
  console.log(`${k.label}: ${cells}`);
  console.log(
    `${k.label}: x2 vs x1 ${(r['workers x1'] / r['workers x2']).toFixed(2)}x, x2 vs js in-process ${(r['js in-process'] / r['workers x2']).toFixed(2)}x, ` +
      `x2 vs js symbol-major ${(r['js symbol-major'] / r['workers x2']).toFixed(2)}x`,
  );
}
