import type { TickProcessor } from './tick-processor.ts';
import { TickKind } from '../wire/layout.ts';
import type { TradeHistory } from '../history/trade-history.ts';
import { jsWarmStates, type WarmStateKernelChoice, type WarmStateKernels } from '../indicators/warm-state.ts';

/** What a warm start did, for the log, the metrics and the ready message of each thread. */
export interface WarmStartReport {
  /** Symbols seeded (the ones this processor covers). */
  readonly symbols: number;
  /** Trades seeded straight into the indicators. */
  readonly seededTrades: number;
  /** Ticks (trades and quotes) replayed through the strategies. */
  readonly replayedTicks: number;
  /** Time for both steps, in milliseconds. */
  readonly durationMs: number;
  /** Where the indicator states were computed: the warm-state kernels on this thread, `js` or `wasm`. */
  readonly backend: WarmStateKernels['name'];
  /** Why those kernels (openWarmStateKernels). */
  readonly backendReason: string;
}

/**
 * Warms `processor` from `history` for the symbols `covers` accepts (all of them inline; a worker its shard):
 *
 *   1. per symbol, the seeded trades straight into its indicators (warm-state kernels, `kernels`: js or wasm, bit
 *      for bit what streaming them would leave), its last price, and the book before its replay;
 *   2. the replayed ticks, in file order, through the processor with orders suppressed (replayHistory), which
 *      also brings the indicators over the replayed trades the ordinary way; a strategy's `timeNs` is the tick's
 *      exchange time moved onto `clockNs`, the last replayed tick at the moment the replay began.
 *
 * The first live tick after this sees the indicator values and strategy state of a processor that streamed the
 * whole history (for a strategy whose state depends on no more than the replayed trades), which
 * test/warm-start.test.ts checks bit for bit on the next ticks' orders.
 */
export function warmStart(
  processor: TickProcessor,
  history: TradeHistory,
  covers: (symbolIndex: number) => boolean,
  clockNs: () => number,
  choice: WarmStateKernelChoice = { kernels: jsWarmStates, reason: 'as configured' },
): WarmStartReport {
  const kernels = choice.kernels;
  const started = clockNs();
  const symbolCount = history.seedEnd.length;
  let symbols = 0;
  let seededTrades = 0;
  for (let s = 0; s < symbolCount; s++) {
    if (!covers(s)) continue;
    symbols++;
    const from = history.tradeStart[s];
    const to = history.seedEnd[s];
    processor.seedIndicators(s, history.prices, history.sizes, from, to, kernels);
    processor.seedBook(s, history.bids[s], history.asks[s]);
    seededTrades += to - from;
  }
  const replay = history.replay;
  let replayedTicks = 0;
  // The replay's times on the live clock: the last replayed tick is now, every other as long before it as it was
  // in exchange time, so a strategy that keeps a time (a cooldown) compares it with live times of the same clock.
  const now = clockNs();
  const last = replay.count === 0 ? 0 : replay.exchangeTsNs[replay.count - 1];
  processor.replayHistory(replay.count, (k) => {
    const s = replay.symbolIndex[k];
    if (!covers(s)) return;
    replayedTicks++;
    const kind = replay.kind[k];
    const timeNs = now - (last - replay.exchangeTsNs[k]);
    if (kind === TickKind.Trade) processor.onTrade(s, replay.price[k], replay.size[k], timeNs);
    else processor.onQuote(s, kind === TickKind.Bid, replay.price[k], timeNs);
  });
  return { symbols, seededTrades, replayedTicks, durationMs: (clockNs() - started) / 1e6, backend: kernels.name, backendReason: choice.reason };
}
