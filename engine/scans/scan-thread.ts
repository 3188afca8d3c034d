import { SHARE_ENV, type Worker } from 'node:worker_threads';
import { spawnWorker } from '../threads/spawn-worker.ts';
import { waitAsync } from '../threads/wait-async.ts';
import { BarAggregator, type TradePrint } from '../bars/bar-aggregator.ts';
import { createBarPanel, PANEL_SLACK_BARS, type BarPanel } from '../bars/bar-panel.ts';
import type { BackendChoice } from '../batch/create-backend.ts';
import type { BarScan } from '../strategy/sdk.ts';
import { barScanOf, type MutableBarScan } from './bar-scan-view.ts';
import { createScanArrays, type ScanArrays, type ScanSettings } from './bar-scanner.ts';
import type { BackendReport } from './backend-report.ts';
import type { HistoryTrades } from '../history/trade-history.ts';
import { TickKind } from '../wire/layout.ts';
import { ScanControl, ScanMode, type ScanWorkerData, type ScanWorkerMessage } from './scan-protocol.ts';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './scan.worker.ts' : './scan.worker.js', import.meta.url);

export interface BarScansOptions {
  readonly symbols: readonly string[];
  readonly barIntervalNs: number;
  /** Bars the panel keeps for the scans (the correlation window needs one more than its returns). */
  readonly panelBars: number;
  readonly settings: ScanSettings;
  /** The batch backend asked for (the correlation runs on it). */
  readonly backend: BackendChoice;
  /** How many symbols a report names at each end of the return cross-section. */
  readonly topSymbols: number;
  /** Threads of the per-bar part (default: scanThreadsFor(backend), scan-kernels-choice.ts). */
  readonly scanThreads?: number;
  /** A finished scan's report, as the JSON bytes to publish (docs/scans.md: a ScanReport). */
  readonly onReport: (json: Uint8Array) => void;
  /** A scan that failed (an exception in the scan thread), with the bar, or the scan thread itself (bar -1), and the reason. */
  readonly onFailure: (bar: number, message: string) => void;
  /**
   * Each finished scan's results for the strategies' onBar (after onReport), on this thread, with the result set
   * it is in (`slots[slot]`); the arrays stay as they are until this returns, or until the promise it returns
   * settles (the workers layout, whose shards run onBar on their own threads), and until every hand-off before it
   * has ended: the scan thread writes the next bar into the other set, and never into this one before then.
   */
  readonly onScan?: (scan: BarScan, closingTradeStamp: number, slot: number) => void | Promise<void>;
  /** The batch backend failed a scan's correlation (js computed it), with the message; each time it happens. */
  readonly onBackendFallback?: (message: string, fallbacks: number) => void;
}

/** A scan thread's result sets (on shared memory) and what a BarScan view of them needs (barScanOf). */
export interface BarScanResults {
  readonly slots: readonly ScanArrays[];
  readonly names: readonly string[];
  readonly correlationSymbols: number;
}

/** Counts a scrape reads (plain numbers, written on the main thread only). */
export interface ScanCounters {
  barsClosed: number;
  completed: number;
  /** Bar closes that found the previous scan still running (or came several at once): no scan, never queued. */
  skipped: number;
  /** Scans whose rows the tick thread overwrote while they ran: discarded. */
  torn: number;
  failed: number;
  /** Bars the per-bar indicators could not be fed (they left the panel before a late scan got to them). */
  barsMissed: number;
  /** Scans whose correlation the batch backend failed: computed on js instead. */
  backendFallbacks: number;
  /** The last completed scan's parts, in seconds. */
  indicatorsSeconds: number;
  crossSectionSeconds: number;
  correlationSeconds: number;
}

/**
 * Bars and universe scans in an engine (docs/scans.md): trades from the feed thread go into bars
 * (BarAggregator, on the feed thread, appending each closed bar to a panel on shared memory); at each bar close the
 * scan thread is asked to scan the newest bar (two atomic stores and a notify; no message, no allocation). The
 * scan runs on its own thread (scan.worker.ts), so it never stalls ticks. A bar that closes while the previous
 * scan still runs is not scanned (counted in `skipped`): scans never queue. The next scan catches the per-bar
 * indicators up on the bars it skipped (BarScanner), so skipping costs cross-sections, never indicator state.
 * Reports come back as messages to this (main) thread.
 */
export class BarScans {
  /** `onTrade`'s trade, handed to `onTradeOf`. */
  private readonly scratch: TradePrint = { price: 0, size: 0, exchangeTsNs: 0, publishMonoNs: 0 };
  readonly counters: ScanCounters = {
    barsClosed: 0, completed: 0, skipped: 0, torn: 0, failed: 0, barsMissed: 0, backendFallbacks: 0,
    indicatorsSeconds: 0, crossSectionSeconds: 0, correlationSeconds: 0,
  };
  readonly panel: BarPanel;
  /**
   * Which backend the scan thread opened, and why; resolves before the thread takes its first request (opening
   * `auto` may measure the calibration first: seconds, once per machine). Rejects if the thread dies before.
   */
  readonly backend: Promise<BackendReport>;
  private settleBackend!: { resolve(report: BackendReport): void; reject(error: Error): void };
  private readonly aggregator: BarAggregator;
  /** The two result sets the scan thread writes in turn, as strategies see them. */
  private readonly views: MutableBarScan[];
  /** The scans' result sets on shared memory and their shape: what another thread needs for views of its own (barScanOf). */
  readonly results: BarScanResults;
  /** Per panel slot: the publish stamp of the trade that closed the bar a scan was asked for. */
  private readonly closingStamps: Float64Array;
  /** Scan reports taken in (published to ScanControl.CONSUMED). */
  private consumed = 0;
  /** The last hand-off still pending (an onScan promise, or one counted after it); undefined when none is. */
  private handOff: Promise<void> | undefined;
  private readonly control = new Int32Array(new SharedArrayBuffer(ScanControl.SLOTS * 4));
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  /** Set when the scan thread died (an error, an exit not asked for): every later bar close counts as failed. */
  private dead = false;
  private stopping = false;

  constructor(private readonly options: BarScansOptions) {
    this.backend = new Promise<BackendReport>((resolve, reject) => {
      this.settleBackend = { resolve, reject };
    });
    this.backend.catch(() => undefined); // a caller that never asks is not an unhandled rejection
    this.panel = createBarPanel(options.symbols.length, options.panelBars + PANEL_SLACK_BARS);
    this.aggregator = new BarAggregator(this.panel, options.barIntervalNs);
    this.closingStamps = new Float64Array(this.panel.capacity);
    const correlationSymbols = options.settings.correlation?.symbols;
    const slots = [0, 1].map(() => createScanArrays(options.symbols.length, options.settings.indicators.length, correlationSymbols, true));
    this.results = { slots, names: options.settings.indicators.map((indicator) => indicator.name), correlationSymbols: correlationSymbols ?? 0 };
    this.views = slots.map((arrays) => barScanOf(arrays, this.results.names, this.results.correlationSymbols));
    const data: ScanWorkerData = {
      panel: this.panel, control: this.control, settings: options.settings, symbols: options.symbols,
      topSymbols: options.topSymbols, intervalNs: options.barIntervalNs, backend: options.backend, slots,
      ...(options.scanThreads === undefined ? {} : { scanThreads: options.scanThreads }),
    };
    // SHARE_ENV: the gpu backend sets EGL_PLATFORM for Mesa (gpu-adapter.ts), which native code reads from the
    // process's real environment; a worker's own copy of process.env would never reach it (no adapter found).
    this.worker = spawnWorker(WORKER_MODULE, data, { name: 'nexus-scans', env: SHARE_ENV });
    // Waiting for bars keeps nothing alive: an engine that is never started (or a test) can still exit.
    this.worker.unref();
    this.worker.on('message', (message: ScanWorkerMessage) => this.onMessage(message));
    this.worker.on('error', (error: Error) => this.die(`scan thread failed: ${error.message}`));
    this.exited = new Promise<void>((resolve) => {
      this.worker.once('exit', (code: number) => {
        if (!this.stopping) this.die(`scan thread exited with code ${code}`);
        resolve();
      });
    });
  }

  /** The bars' anomalies (BarAggregator): late prints, bad far-future prints, empty bars of a gap not closed. */
  get lateTrades(): number {
    return this.aggregator.lateTrades;
  }

  get futureTrades(): number {
    return this.aggregator.futureTrades;
  }

  get gapBarsSkipped(): number {
    return this.aggregator.gapBarsSkipped;
  }

  /** The scan thread is gone: said once, and from now on every bar close counts as a failed scan. */
  private die(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.settleBackend.reject(new Error(reason));
    this.counters.failed++;
    this.options.onFailure(-1, reason);
  }

  /**
   * A trade, on the feed thread. Allocation-free; at a bar close, asks for a scan of the newest bar and keeps this
   * trade's publish stamp for it (onScan hands it on: the stamp of the strategies' decisions on that bar).
   */
  onTrade(symbolIndex: number, price: number, size: number, exchangeTsNs: number, publishMonoNs: number): void {
    const trade = this.scratch;
    trade.price = price;
    trade.size = size;
    trade.exchangeTsNs = exchangeTsNs;
    trade.publishMonoNs = publishMonoNs;
    this.onTradeOf(symbolIndex, trade);
  }

  /** TradeObserver: `onTrade` with the fields read from `trade` (the tick path's call). */
  onTradeOf(symbolIndex: number, trade: TradePrint): void {
    const publishMonoNs = trade.publishMonoNs;
    const closed = this.aggregator.onTradeOf(symbolIndex, trade);
    if (closed === 0) return;
    const counters = this.counters;
    counters.barsClosed += closed;
    counters.skipped += closed - 1; // bars closed together: only the newest is scanned
    if (this.dead) {
      counters.failed++;
      return;
    }
    const control = this.control;
    if (Atomics.load(control, ScanControl.BUSY) === 1) {
      counters.skipped++;
      return;
    }
    Atomics.store(control, ScanControl.BUSY, 1);
    const bar = Atomics.load(this.panel.closed, 0) - 1;
    this.closingStamps[bar % this.closingStamps.length] = publishMonoNs;
    Atomics.store(control, ScanControl.BAR, bar);
    Atomics.add(control, ScanControl.WAKE, 1);
    Atomics.notify(control, ScanControl.WAKE);
  }

  private onMessage(message: ScanWorkerMessage): void {
    if (message.type === 'backend') {
      this.settleBackend.resolve(message.report);
      return;
    }
    const counters = this.counters;
    counters.barsMissed = message.barsMissed;
    if (message.type === 'scan') {
      counters.completed++;
      counters.indicatorsSeconds = message.figures.indicatorsMs / 1000;
      counters.crossSectionSeconds = message.figures.crossSectionMs / 1000;
      counters.correlationSeconds = message.figures.correlationMs / 1000;
      if (message.backendFallbacks > counters.backendFallbacks) {
        counters.backendFallbacks = message.backendFallbacks;
        this.options.onBackendFallback?.(message.backendError, message.backendFallbacks);
      }
      this.options.onReport(message.json);
      const view = this.views[message.slot];
      view.bar = message.figures.bar;
      view.barStartNs = message.barStartNs;
      const consume = (): void => void Atomics.store(this.control, ScanControl.CONSUMED, ++this.consumed);
      let handedOn: void | Promise<void> = undefined;
      try {
        handedOn = this.options.onScan?.(view, this.closingStamps[view.bar % this.closingStamps.length], message.slot);
      } finally {
        // Taken in once the strategies are done with it (now, or when the promise settles) and never before the scan
        // handed over ahead of it: CONSUMED is a count, so a later scan counted first would free an earlier set.
        if (handedOn instanceof Promise || this.handOff !== undefined) {
          const after = (this.handOff ?? Promise.resolve()).then(() => handedOn).then(consume, consume);
          this.handOff = after;
          void after.then(() => {
            if (this.handOff === after) this.handOff = undefined;
          });
        } else {
          consume();
        }
      }
    } else if (message.type === 'skipped') {
      counters.skipped++;
    } else if (message.type === 'torn') {
      counters.torn++;
    } else {
      counters.failed++;
      this.options.onFailure(message.bar, message.message);
    }
  }

  /**
   * The bars' warm start (docs/scans.md): builds the bars of a history's trades (every trade of the file, in file
   * order) into the panel exactly as live trades build them, and has the scan thread feed each closed bar to the
   * per-bar indicators, in chunks of half the panel, waiting for each so that the panel never overwrites a bar not
   * fed yet. No scan runs and nothing is published for history bars; the first live close is scanned with the
   * history's bars in the panel (a full correlation window at once) and its per-bar indicators as after streaming
   * the file. Call it before the first live trade. Resolves with the bars closed; rejects if the scan thread fails.
   */
  async warmFrom(trades: HistoryTrades): Promise<{ readonly bars: number; readonly fed: number }> {
    const panel = this.panel;
    const chunk = Math.max(1, panel.capacity >> 1);
    let fedThrough = -1;
    let fed = 0;
    const { table, engineIndex } = trades;
    for (let i = 0; i < table.count; i++) {
      const s = engineIndex[table.symbolIndex[i]];
      if (table.kind[i] !== TickKind.Trade || s < 0) continue;
      if (this.aggregator.onTrade(s, table.price[i], table.size[i], table.exchangeTsNs[i]) === 0) continue;
      const last = Atomics.load(panel.closed, 0) - 1;
      if (last - fedThrough >= chunk) {
        fed += await this.feedHistoryBars(last);
        fedThrough = last;
      }
    }
    const last = Atomics.load(panel.closed, 0) - 1;
    if (last > fedThrough) fed += await this.feedHistoryBars(last);
    return { bars: last + 1, fed };
  }

  /** One FEED request (scan-protocol.ts) through `bar`, awaited without blocking this thread; the bars fed. */
  private async feedHistoryBars(bar: number): Promise<number> {
    const control = this.control;
    Atomics.store(control, ScanControl.BUSY, 1);
    Atomics.store(control, ScanControl.MODE, ScanMode.FEED);
    Atomics.store(control, ScanControl.BAR, bar);
    Atomics.add(control, ScanControl.WAKE, 1);
    Atomics.notify(control, ScanControl.WAKE);
    try {
      while (Atomics.load(control, ScanControl.BUSY) === 1) {
        if (this.dead) throw new Error('the scan thread is gone');
        const wait = waitAsync(control, ScanControl.BUSY, 1, 1_000);
        if (wait.async) await wait.value;
      }
    } finally {
      Atomics.store(control, ScanControl.MODE, ScanMode.SCAN);
    }
    const fed = Atomics.load(control, ScanControl.FED);
    if (fed < 0) throw new Error(`the scan thread failed to feed the history's bars through bar ${bar}`);
    return fed;
  }

  /** Stops the scan thread (a scan in progress finishes first). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.worker.ref(); // held until it has exited, or a process with nothing else to do would not wait for it
    Atomics.store(this.control, ScanControl.STOP, 1);
    Atomics.add(this.control, ScanControl.WAKE, 1);
    Atomics.notify(this.control, ScanControl.WAKE);
    await this.exited;
  }
}
