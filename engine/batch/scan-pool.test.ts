import { afterEach, describe, expect, it } from 'vitest';
import { emaBatch } from '../indicators/ema.ts';
import { rsiBatch } from '../indicators/rsi.ts';
import { toBarMajor, symbolColumn } from './panel.ts';
import { randomWalkBars } from './series.ts';
import { createScanPool, ScanPool, shardBounds, type PanelScan, type ScanPoolOptions } from './scan-pool.ts';

const faultyWorker = new URL('./fixtures/faulty.worker.ts', import.meta.url);

const SYMBOLS = 37; // two shards on two workers, [0, 16) and [16, 37): full tiles and a partial one
const BARS = 500;
const PERIOD = 20;

const closes = Array.from({ length: SYMBOLS }, (_, s) => randomWalkBars(BARS, 7 + s, 40 + s).close);
const panel = toBarMajor(closes);

function shared(values: Float64Array): Float64Array {
  const array = new Float64Array(new SharedArrayBuffer(values.byteLength));
  array.set(values);
  return array;
}

function emaScan(input: Float64Array, output: Float64Array, command?: number): PanelScan {
  return {
    kernel: 'ema', params: command === undefined ? [PERIOD] : [PERIOD, command], symbols: SYMBOLS, bars: BARS,
    inputs: [input], outputs: [output],
  };
}

/** Fails unless every symbol's column of `out` is emaBatch of its closes, bit for bit. */
function expectEma(out: Float64Array): void {
  for (let s = 0; s < SYMBOLS; s++) {
    const column = symbolColumn(out, SYMBOLS, s);
    const expected = emaBatch(closes[s], PERIOD);
    for (let t = 0; t < BARS; t++) {
      if (!Object.is(column[t], expected[t])) expect.fail(`symbol ${s}, bar ${t}: ${column[t]}, expected ${expected[t]}`);
    }
  }
}

const pools: ScanPool[] = [];
async function startPool(options: ScanPoolOptions): Promise<ScanPool> {
  const pool = await createScanPool(options);
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  return expect.fail('the promise did not reject');
}

describe('shardBounds', () => {
  it.each([
    { symbols: 2000, shards: 2, bounds: [0, 1000, 2000] },
    { symbols: 100, shards: 3, bounds: [0, 32, 64, 100] },
    { symbols: 37, shards: 2, bounds: [0, 16, 37] },
    { symbols: 150, shards: 2, bounds: [0, 72, 150] },
    { symbols: 7, shards: 2, bounds: [0, 4, 7] },
    { symbols: 1, shards: 4, bounds: [0, 1] },
    { symbols: 0, shards: 2, bounds: [0] },
  ])('splits $symbols symbols over $shards workers at $bounds', ({ symbols, shards, bounds }) => {
    expect(shardBounds(symbols, shards, 8)).toEqual(bounds);
  });
});

describe('ScanPool', () => {
  it('scans SharedArrayBuffer panels in place, each symbol equal to the JS batch function', async () => {
    const pool = await startPool({ workers: 2 });
    expect(pool.size).toBe(2);
    const out = new Float64Array(new SharedArrayBuffer(SYMBOLS * BARS * 8));
    await pool.scan(emaScan(shared(panel), out));
    expectEma(out);
  });

  it('scans wide panels (several 64-symbol tiles and 64-bar blocks per worker) bit for bit', async () => {
    const pool = await startPool({ workers: 2 });
    const symbols = 150; // shards [0, 72) and [72, 150): a full tile and a partial one each
    const bars = 203;
    const series = Array.from({ length: symbols }, (_, s) => randomWalkBars(bars, 300 + s, 30 + s).close);
    const out = new Float64Array(new SharedArrayBuffer(symbols * bars * 8));
    await pool.scan({ kernel: 'rsi', params: [14], symbols, bars, inputs: [shared(toBarMajor(series))], outputs: [out] });
    for (let s = 0; s < symbols; s++) {
      const column = symbolColumn(out, symbols, s);
      const expected = rsiBatch(series[s], 14);
      for (let t = 0; t < bars; t++) {
        if (!Object.is(column[t], expected[t])) expect.fail(`symbol ${s}, bar ${t}: ${column[t]}, expected ${expected[t]}`);
      }
    }
  });

  it('copies ordinary arrays through its own SharedArrayBuffers and writes the result back', async () => {
    const pool = await startPool({ workers: 2 });
    const out = new Float64Array(SYMBOLS * BARS);
    await pool.scan(emaScan(panel, out));
    expectEma(out);
    const again = new Float64Array(SYMBOLS * BARS); // the staging buffers are reused
    await pool.scan(emaScan(panel, again));
    expectEma(again);
  });

  it('rejects with the RangeError a worker threw, with its message', async () => {
    const pool = await startPool({ workers: 2 });
    const out = new Float64Array(SYMBOLS * BARS).fill(7);
    const error = await failureOf(pool.scan({ ...emaScan(panel, out), params: [0] }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('period must be an integer >= 1, got 0');
    expect(out.every((v) => v === 7)).toBe(true); // a staged output is copied back only after success
  });

  it.each([
    { how: 'process.exit(7)', command: -7, reason: 'exited with code 7' },
    { how: 'an uncaught exception', command: -8, reason: 'crashed: Fixture scan worker blew up' },
  ])('replaces a worker that dies of $how, failing only its task', async ({ command, reason }) => {
    const pool = await startPool({ workers: 2, workerUrl: faultyWorker });
    const [victim, survivor] = pool.threadIds;
    const error = await failureOf(pool.scan(emaScan(panel, new Float64Array(SYMBOLS * BARS), command)));
    expect(error.message).toBe(`scan worker 0 (thread ${victim}) ${reason} while running a task; the pool replaced it`);
    expect(pool.threadIds[0]).not.toBe(victim);
    expect(pool.threadIds[1]).toBe(survivor);
    const out = new Float64Array(SYMBOLS * BARS);
    await pool.scan(emaScan(panel, out));
    expectEma(out);
  });

  it('refuses a scan whose tasks do not fit in the queue, before running any of it', async () => {
    const pool = await startPool({ workers: 1, maxQueuedTasks: 2, workerUrl: faultyWorker });
    const outs = Array.from({ length: 4 }, () => new Float64Array(SYMBOLS * BARS));
    const running = pool.scan(emaScan(panel, outs[0], 200)); // one shard, on the only worker
    const queued = [pool.scan(emaScan(panel, outs[1])), pool.scan(emaScan(panel, outs[2]))];
    const error = await failureOf(pool.scan(emaScan(panel, outs[3])));
    expect(error.message).toBe('scan queue full (2 tasks)');
    await Promise.all([running, ...queued]);
    outs.slice(0, 3).forEach(expectEma);
    expect(outs[3].every((v) => v === 0)).toBe(true);
  });

  it('closes by rejecting queued tasks, finishing the running one and stopping its workers', async () => {
    const pool = await startPool({ workers: 1, workerUrl: faultyWorker });
    const out = new Float64Array(SYMBOLS * BARS);
    const running = pool.scan(emaScan(panel, out, 200));
    const queued = [pool.scan(emaScan(panel, new Float64Array(SYMBOLS * BARS))), pool.scan(emaScan(panel, new Float64Array(SYMBOLS * BARS)))];
    expect(pool.queued).toBe(2);
    const closed = pool.close();
    for (const scan of queued) expect((await failureOf(scan)).message).toBe('scan pool closed before the task started');
    await running;
    expectEma(out);
    await closed;
    expect(pool.threadIds).toEqual([]);
    expect((await failureOf(pool.scan(emaScan(panel, out)))).message).toBe('scan pool is closed');
    await pool.close(); // idempotent
  });

  it('fails to start when a worker module does not load, naming the worker', async () => {
    const url = new URL('../threads/fixtures/throws.worker.ts', import.meta.url);
    const error = await failureOf(createScanPool({ workers: 1, workerUrl: url }));
    expect(error.message).toMatch(/^scan worker 0 \(thread \d+\) crashed: Fixture worker refused to start while starting$/);
  });

  it('refuses bad options and bad requests', async () => {
    expect(() => new ScanPool({ workers: 0 })).toThrow('workers must be an integer >= 1, got 0');
    const pool = await startPool({ workers: 1 });
    const error = await failureOf(pool.scan({ ...emaScan(panel, new Float64Array(10)) }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(`a panel has 10 values, expected symbols * bars = ${SYMBOLS * BARS}`);
  });
});
