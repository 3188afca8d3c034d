import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.ts';
import { seededRandom } from '../batch/series.ts';
import { historyTrades } from '../history/trade-history.ts';
import { TickKind } from '../wire/layout.ts';
import type { ScanReport } from './scan-report.ts';
import { BarScans, type BarScansOptions } from './scan-thread.ts';

const SECOND = 1_000_000_000;
const running: BarScans[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((scans) => scans.stop()));
});

function start(symbols: readonly string[], overrides: Partial<BarScansOptions> = {}): { scans: BarScans; reports: ScanReport[]; failures: string[] } {
  const reports: ScanReport[] = [];
  const failures: string[] = [];
  const scans = new BarScans({
    symbols,
    barIntervalNs: SECOND,
    panelBars: 32,
    settings: { indicators: [{ name: 'ema-3', type: 'ema', params: { period: 3 } }] },
    topSymbols: 2,
    backend: 'js',
    onReport: (json) => reports.push(JSON.parse(Buffer.from(json).toString()) as ScanReport),
    onFailure: (bar, message) => failures.push(`${bar}: ${message}`),
    ...overrides,
  });
  running.push(scans);
  return { scans, reports, failures };
}

describe('BarScans: bars on the feed thread, scans on their own thread', () => {
  it('scans each closed bar off the calling thread and reports the ends of the return cross-section', async () => {
    const { scans, reports, failures } = start(['A', 'B', 'C', 'D']);
    // Bar 0 (t = 100 s): every symbol at 10. Bar 1: A +10 %, B -5 %, C +1 %, D 0 %. Bar 2's first trade closes bar 1.
    for (let s = 0; s < 4; s++) scans.onTrade(s, 10, 1, 100 * SECOND + s, 0);
    [11, 9.5, 10.1, 10].forEach((price, s) => scans.onTrade(s, price, 2, 101 * SECOND + s, 0));
    await eventually(() => reports.length, { timeoutMs: 10_000, until: (n) => n >= 1, what: 'the scan of bar 0' });
    scans.onTrade(0, 11, 1, 102 * SECOND, 0);
    await eventually(() => reports.length, { timeoutMs: 10_000, until: (n) => n >= 2, what: 'the scan of bar 1' });
    expect(failures).toEqual([]);
    const report = reports[1];
    expect(report).toMatchObject({ bar: 1, barStartNs: String(101n * BigInt(SECOND)), barsFed: 1, ranked: 4 });
    expect(report.top.map((entry) => entry.symbol)).toEqual(['A', 'C']);
    expect(report.bottom.map((entry) => entry.symbol)).toEqual(['B', 'D']);
    expect(report.top[0].return).toBeCloseTo(0.1, 12);
    expect(report.top[0].returnRank).toBe(1);
    expect(report.bottom[0].returnRank).toBe(0);
    expect(report.top[0].indicators['ema-3']).toEqual({ value: null, z: null }); // two bars: EMA(3) not stable yet
    expect(scans.counters).toMatchObject({ barsClosed: 2, completed: 2, skipped: 0, torn: 0, failed: 0, barsMissed: 0 });
  });

  it('opens the batch backend asked for and runs the correlation on it', async () => {
    const { scans, reports } = start(['A', 'B', 'C'], { backend: 'wasm', settings: { indicators: [], correlation: { symbols: 3, window: 4 } } });
    await expect(scans.backend).resolves.toEqual({
      requested: 'wasm', backend: 'wasm', reason: 'as configured',
      scanKernels: 'wasm', scanKernelsReason: 'backend wasm: the WebAssembly scan kernels (same values as js, faster)',
    });
    for (let bar = 0; bar < 7; bar++) {
      [10, 20, 30].forEach((base, s) => scans.onTrade(s, base * (1 + 0.01 * Math.sin(bar * (s + 2))), 1, (100 + bar) * SECOND, 0));
      await eventually(() => reports.length, { timeoutMs: 10_000, until: (n) => n === bar, what: `the scan of bar ${bar - 1}` });
    }
    expect(reports.at(-1)?.bar).toBe(5);
    expect(reports.at(-1)?.correlation?.most?.correlation).toBeLessThanOrEqual(1);
    expect(scans.counters.correlationSeconds).toBeGreaterThan(0);
  });

  it('on the workers backend, splits the per-bar part over helper threads of the scan thread, with the same reports as js', async () => {
    const symbols = Array.from({ length: 40 }, (_, s) => `S${s}`);
    const settings = { indicators: [{ name: 'ema-3', type: 'ema', params: { period: 3 } }, { name: 'rsi-2', type: 'rsi', params: { period: 2 } }] };
    const js = start(symbols, { settings });
    // Two threads whatever the machine: the scan thread takes 16 symbols (a cut is 16), the helper 24.
    const workers = start(symbols, { settings, backend: 'workers', scanThreads: 2 });
    await expect(workers.scans.backend).resolves.toMatchObject({ scanKernels: 'wasm', scanKernelsReason: 'backend workers: the WebAssembly scan kernels on 2 threads (same values as js, faster)' });
    const random = seededRandom(4);
    const price = symbols.map((_, s) => 10 + s);
    for (let bar = 0; bar < 9; bar++) {
      for (const scans of [js.scans, workers.scans]) symbols.forEach((_, s) => scans.onTrade(s, price[s], 1 + s, (100 + bar) * SECOND + s, 0));
      symbols.forEach((_, s) => void (price[s] = Math.round(price[s] * (1 + (random() - 0.5) * 0.02) * 100) / 100));
      await eventually(() => Math.min(js.reports.length, workers.reports.length), { timeoutMs: 10_000, until: (n) => n === bar, what: `the scans of bar ${bar - 1}` });
    }
    expect(workers.failures).toEqual([]);
    expect(workers.reports.at(-1)?.top[0]?.indicators['rsi-2']?.value).toEqual(expect.any(Number)); // warm values compared
    // Everything but how long each part took.
    const values = (reports: ScanReport[]): unknown[] => reports.map(({ indicatorsMs: _i, crossSectionMs: _c, correlationMs: _r, ...rest }) => rest);
    expect(values(workers.reports)).toEqual(values(js.reports));
  });

  it('a warm start from history leaves the bars and per-bar indicators as streaming it did: the next scans report the same', async () => {
    const symbols = ['A', 'B', 'C', 'D', 'E'];
    // 260 s of trades, one every 100 ms round robin, a random walk each; bars of 1 s. History: the first 250 s.
    const random = seededRandom(12);
    const price = [10, 20, 30, 40, 50];
    const all = Array.from({ length: 2_600 }, (_, k) => {
      const s = k % 5;
      price[s] = Math.round(price[s] * (1 + (random() - 0.5) * 0.01) * 100) / 100;
      return { s, price: price[s], size: 1 + (k % 7), atNs: 100 * SECOND + k * 100_000_000 };
    });
    const historyEnd = 2_500;
    const history = historyTrades({
      symbols, // the file's numbering is the engine's here
      count: historyEnd,
      symbolIndex: Int32Array.from(all.slice(0, historyEnd), (t) => t.s),
      kind: new Uint8Array(historyEnd).fill(TickKind.Trade),
      price: Float64Array.from(all.slice(0, historyEnd), (t) => t.price),
      size: Float64Array.from(all.slice(0, historyEnd), (t) => t.size),
      exchangeTsNs: Float64Array.from(all.slice(0, historyEnd), (t) => t.atNs),
    }, symbols);
    // A panel of 24 + 64 rows: the 249 history bars wrap it almost three times, fed half a panel at a time.
    const options: Partial<BarScansOptions> = {
      panelBars: 24,
      settings: {
        indicators: [{ name: 'ema-5', type: 'ema', params: { period: 5 } }, { name: 'rsi-3', type: 'rsi', params: { period: 3 } }],
        correlation: { symbols: 5, window: 20 },
      },
    };
    const warm = start(symbols, options);
    const streamed = start(symbols, options);
    expect(await warm.scans.warmFrom(history)).toEqual({ bars: 249, fed: 249 });
    expect(warm.reports).toEqual([]); // history bars are not scanned or published
    expect(warm.scans.counters.barsClosed).toBe(0);
    /** Trades into `target` live, waiting after each bar close until it is scanned (so that none is skipped). */
    const live = async (target: ReturnType<typeof start>, from: number, to: number): Promise<void> => {
      for (let k = from; k < to; k++) {
        target.scans.onTrade(all[k].s, all[k].price, all[k].size, all[k].atNs, 0);
        const c = target.scans.counters;
        await eventually(() => c.completed + c.skipped + c.torn + c.failed, { timeoutMs: 10_000, intervalMs: 1, until: (n) => n === c.barsClosed, what: 'the scan of each bar' });
      }
    };
    await live(streamed, 0, historyEnd);
    streamed.reports.length = 0;
    await live(warm, historyEnd, all.length);
    await live(streamed, historyEnd, all.length);
    const comparable = (report: ScanReport): unknown => ({ ...report, indicatorsMs: 0, crossSectionMs: 0, correlationMs: 0 });
    expect(warm.reports.map((r) => r.bar)).toEqual([249, 250, 251, 252, 253, 254, 255, 256, 257, 258]);
    expect(warm.reports.map(comparable)).toEqual(streamed.reports.map(comparable));
    expect(warm.reports[0].correlation?.most).toBeDefined(); // a full window at the first live close
    expect(warm.reports[0].top[0].indicators['ema-5'].value).not.toBeNull();
    expect(warm.failures).toEqual([]);
  });

  it('hands each scan to onScan in its own result set, and skips a bar rather than overwrite a set not handed over yet', async () => {
    const seen: Array<{ bar: number; first: number; stamp: number }> = [];
    const { scans, reports } = start(['A', 'B', 'C'], {
      onScan: (scan, stamp) => void seen.push({ bar: scan.bar, first: scan.returns[0], stamp }),
    });
    await scans.backend; // the scan thread is serving
    const pause = new Int32Array(new SharedArrayBuffer(4));
    // Bars close while this thread never returns to its event loop (as a busy feed thread would not): the scan
    // thread has time to finish each bar (three symbols) before the next closes, but its reports wait here, so
    // after bars 0 and 1 both result sets are unconsumed and bars 2, 3 and 4 are skipped for that reason alone.
    for (let bar = 0; bar < 6; bar++) {
      [10, 20, 30].forEach((base, s) => scans.onTrade(s, base + bar * (s + 1), 1, (100 + bar) * SECOND, 1_000 + bar));
      Atomics.wait(pause, 0, 0, 150); // blocks this thread: no message is taken in meanwhile
    }
    await eventually(() => scans.counters.completed + scans.counters.skipped, { timeoutMs: 10_000, until: (n) => n === 5, what: 'every closed bar scanned or skipped' });
    expect(scans.counters).toMatchObject({ barsClosed: 5, completed: 2, skipped: 3 });
    // Each onScan saw its own bar's set, stamped with the trade that closed it (bar b closes at the trade of b + 1).
    expect(seen).toEqual([{ bar: 0, first: NaN, stamp: 1_001 }, { bar: 1, first: 11 / 10 - 1, stamp: 1_002 }]);
    expect(reports.map((r) => r.bar)).toEqual([0, 1]);
    // Once this thread has taken the reports in, bars are scanned again: 107 s closes bars 5 and 6, the newest scanned.
    scans.onTrade(0, 99, 1, 107 * SECOND, 2_000);
    await eventually(() => reports.at(-1)?.bar, { timeoutMs: 10_000, until: (bar) => bar === 6, what: 'the scan of bar 6' });
    expect(seen.at(-1)).toMatchObject({ bar: 6, stamp: 2_000 });
  });

  it('holds a result set while the promise onScan returned is pending (the workers layout\'s shards), and writes it again once it settles', async () => {
    const pending: Array<() => void> = [];
    const { scans, reports } = start(['A', 'B', 'C'], {
      onScan: (_scan, _stamp, slot) => new Promise<void>((resolve) => void pending.push(() => resolve())).then(() => void slot),
    });
    await scans.backend;
    const trades = (bar: number): void => [10, 20, 30].forEach((base, s) => scans.onTrade(s, base + bar * (s + 1), 1, (100 + bar) * SECOND, 1_000 + bar));
    /** Bar `bar`'s trades, which close bar - 1; waits until that bar is scanned or skipped. */
    const close = async (bar: number): Promise<void> => {
      trades(bar);
      await eventually(() => scans.counters.completed + scans.counters.skipped, { timeoutMs: 10_000, until: (n) => n === bar, what: `bar ${bar - 1} scanned or skipped` });
    };
    trades(0);
    // Bars 0 and 1 take both sets; neither handed back, bars 2 and 3 are skipped, however long the thread waits.
    for (let bar = 1; bar <= 4; bar++) await close(bar);
    expect(scans.counters).toMatchObject({ completed: 2, skipped: 2 });
    expect(pending).toHaveLength(2);
    // Bar 0's set handed back: the next bar is scanned into it; bar 1's still held, so the one after is skipped.
    pending[0]();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await close(5);
    await close(6);
    expect(scans.counters).toMatchObject({ completed: 3, skipped: 3 });
    expect(reports.map((r) => r.bar)).toEqual([0, 1, 4]);
  });

  it('never frees a held result set by counting a later scan first (one handed back at once behind one still held)', async () => {
    const pending: Array<() => void> = [];
    let calls = 0;
    // The first scan held (a shard still runs onBar on it), the second taken in at once (an engine no longer ready).
    const { scans, reports } = start(['A', 'B'], {
      onScan: () => (calls++ === 0 ? new Promise<void>((resolve) => void pending.push(resolve)) : undefined),
    });
    await scans.backend;
    const trades = (bar: number): void => [10, 20].forEach((base, s) => scans.onTrade(s, base + bar, 1, (100 + bar) * SECOND, 0));
    const close = async (bar: number): Promise<void> => {
      trades(bar);
      await eventually(() => scans.counters.completed + scans.counters.skipped, { timeoutMs: 10_000, until: (n) => n === bar, what: `bar ${bar - 1} scanned or skipped` });
    };
    trades(0);
    for (let bar = 1; bar <= 4; bar++) await close(bar);
    // Bar 2 would go into bar 0's set, still held: skipped, as is bar 3, although bar 1 was handed back at once.
    expect(reports.map((r) => r.bar)).toEqual([0, 1]);
    expect(scans.counters).toMatchObject({ completed: 2, skipped: 2 });
    pending[0]();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await close(5);
    expect(reports.map((r) => r.bar)).toEqual([0, 1, 4]);
  });

  it('counts every bar close as a failed scan once the scan thread is gone, and says why once', async () => {
    const { scans, failures } = start(['A', 'B']);
    scans.onTrade(0, 10, 1, 100 * SECOND, 0);
    scans.onTrade(0, 10, 1, 101 * SECOND, 0);
    await eventually(() => scans.counters.completed, { timeoutMs: 10_000, until: (n) => n === 1, what: 'a first scan' });
    await (scans as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await eventually(() => failures.length, { timeoutMs: 10_000, until: (n) => n === 1, what: 'the thread\'s death reported' });
    expect(failures[0]).toMatch(/scan thread exited with code 1/);
    scans.onTrade(0, 10, 1, 102 * SECOND, 0);
    scans.onTrade(0, 10, 1, 103 * SECOND, 0);
    expect(scans.counters).toMatchObject({ barsClosed: 3, completed: 1, failed: 3 });
  });

  it('skips a bar that closes while the previous scan still runs: scans never queue', async () => {
    const symbols = Array.from({ length: 600 }, (_, s) => `S${s}`);
    // A heavy scan (a 600 x 600 correlation over 255 bars) and a bar closing on every trade.
    const { scans, reports } = start(symbols, { panelBars: 256, settings: { indicators: [], correlation: { symbols: 600, window: 255 } } });
    // The scan thread ready first: on a loaded machine its start alone can outlast the 400 bars below.
    await scans.backend;
    for (let bar = 0; bar < 400; bar++) {
      for (let s = 0; s < symbols.length; s++) scans.onTrade(s, 100 * (1 + 0.001 * Math.sin(bar * (s + 1))), 1, (1_000 + bar) * SECOND, 0);
      await new Promise((resolve) => setTimeout(resolve, 2)); // a bar every ~2 ms, far faster than a scan
    }
    const counters = scans.counters;
    expect(counters.barsClosed).toBe(399);
    expect(counters.skipped).toBeGreaterThan(50);
    await eventually(() => counters.completed + counters.torn + counters.skipped, { timeoutMs: 20_000, until: (n) => n === 399, what: 'every closed bar scanned or skipped' });
    expect(counters.completed).toBeGreaterThan(2);
    expect(reports.every((report, i) => i === 0 || report.bar > reports[i - 1].bar)).toBe(true);
    // One more bar's trades close bar 399 with the feed idle: its scan, over the full correlation window, cannot be
    // torn by rows overwritten under it (which a loaded machine's slow scans above may have been).
    for (let s = 0; s < symbols.length; s++) scans.onTrade(s, 100, 1, (1_000 + 400) * SECOND, 0);
    await eventually(() => reports.at(-1)?.bar, { timeoutMs: 20_000, until: (bar) => bar === 399, what: 'the scan of bar 399' });
    expect(reports.at(-1)?.correlation?.most?.correlation).toBeLessThanOrEqual(1 + 1e-9);
  });
});
