import type { HistoryConfig } from '../config/engine-config.ts';
import type { TickTable } from '../sim/tick-csv.ts';
import { TickKind } from '../wire/layout.ts';

/**
 * A history arranged for a warm start (docs/warm-start.md), from a parsed tick CSV and the engine's symbols.
 *
 * For each configured symbol, its last `maxTradesPerSymbol` trades (see arrangeHistory for the exact cut), oldest
 * first, split in two at the replay's first row:
 *
 *     symbol s:  [tradeStart[s] ............ seedEnd[s]) [seedEnd[s] ...... tradeStart[s + 1])
 *                 seeded straight into the indicators      replayed through the strategies
 *                 (warm-state kernels)                     (in `replay`, in file order)
 *
 * The replayed part goes through the engine's own tick processor in the file's order, every symbol's trades and
 * quotes interleaved as they came, so strategies rebuild their state from the same ticks in the same order a
 * running engine saw. Quotes before the replay only set the book it starts with (`bids`, `asks`). Symbols in the
 * file that the engine does not trade are skipped and named.
 *
 * Every array lives on a SharedArrayBuffer, so the workers layout hands the one history to all its threads
 * without copying it.
 */
export interface TradeHistory {
  /** Where it came from (the file path), for messages. */
  readonly origin: string;
  /** Trades of configured symbol s: [tradeStart[s], tradeStart[s + 1]) of `prices` and `sizes` (length symbols + 1). */
  readonly tradeStart: Int32Array;
  readonly prices: Float64Array;
  readonly sizes: Float64Array;
  /** Per symbol: trades before this index seed the indicators; from it on they are replayed. */
  readonly seedEnd: Int32Array;
  /** The best bid and ask each symbol starts its replay with (0: none seen). */
  readonly bids: Float64Array;
  readonly asks: Float64Array;
  /** The replayed ticks in file order. */
  readonly replay: ReplayTicks;
  /** Symbols in the file the engine does not trade (skipped). */
  readonly ignoredSymbols: readonly string[];
  /** Configured symbols with fewer trades than `requiredTrades` (their indicators end the warm start not yet stable). */
  readonly shortSymbols: readonly ShortSymbol[];
  /** Trades a symbol needs for every indicator to be stable: the longest warm-up. */
  readonly requiredTrades: number;
}

/**
 * The replayed ticks in file order, as the tick table holds them (the engine's symbol numbering; a tick's exchange
 * timestamp becomes the strategies' `timeNs` during the replay, moved onto the live clock: warm-start.ts).
 */
export type ReplayTicks = Omit<TickTable, 'symbols'>;

export interface ShortSymbol {
  readonly symbol: string;
  readonly trades: number;
}

/** Options of `arrangeHistory`: the config's history section and the trades a symbol needs. */
export interface ArrangeOptions {
  readonly history: Pick<HistoryConfig, 'maxTradesPerSymbol' | 'strategyReplayTrades'>;
  readonly requiredTrades: number;
  /** The indicators' replay alignment (see arrangeHistory); 0 or absent: cut at maxTradesPerSymbol exactly. */
  readonly alignment?: number;
}

function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, length) * 8), 0, length);
}

function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, length) * 4), 0, length);
}

/**
 * Arranges a parsed tick table for `symbols` (the engine's, in its order). Pure apart from the allocations.
 *
 * Two cuts, in the file's order:
 * - per symbol, the trades it uses: its last `maxTradesPerSymbol`, the first of them moved back to a multiple of
 *   `alignment` (the indicators' replayAlignment, see StreamingIndicator), so the windowed indicators' state is
 *   exactly that of streaming the whole file; the recursions (EMA, RSI, MACD, ATR) converge to it instead;
 * - for all symbols at once, the replay: from the earliest row among every symbol's last `strategyReplayTrades`
 *   trades, every tick is replayed in file order (trades and quotes of every symbol), so during the replay each
 *   strategy sees every other symbol's price and book as they were at that row. Before that row, trades seed the
 *   indicators and quotes only set the book.
 */
export function arrangeHistory(table: TickTable, symbols: readonly string[], origin: string, options: ArrangeOptions): TradeHistory {
  const { maxTradesPerSymbol, strategyReplayTrades } = options.history;
  const engineIndex = engineIndexOf(table, symbols);
  const ignoredSymbols = table.symbols.filter((_, fileIndex) => engineIndex[fileIndex] < 0);
  const n = symbols.length;

  const tradesInFile = new Int32Array(n);
  for (let i = 0; i < table.count; i++) {
    const s = engineIndex[table.symbolIndex[i]];
    if (s >= 0 && table.kind[i] === TickKind.Trade) tradesInFile[s]++;
  }
  // Per symbol, the file ordinals (among its trades) of its first used and first replayed trade.
  const alignment = options.alignment ?? 0;
  const firstUsed = new Int32Array(n);
  const firstReplayed = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const cut = Math.max(0, tradesInFile[s] - maxTradesPerSymbol);
    firstUsed[s] = alignment > 0 ? Math.floor(cut / alignment) * alignment : cut;
    firstReplayed[s] = tradesInFile[s] - Math.min(tradesInFile[s] - firstUsed[s], strategyReplayTrades);
  }
  // The replay's first row: the earliest among the symbols' first replayed trades (the end: no replay).
  let replayFrom = table.count;
  const seen = new Int32Array(n);
  for (let i = 0; i < table.count && strategyReplayTrades > 0; i++) {
    const s = engineIndex[table.symbolIndex[i]];
    if (s < 0 || table.kind[i] !== TickKind.Trade) continue;
    if (seen[s]++ === firstReplayed[s]) {
      replayFrom = i;
      break; // rows only grow: the first symbol to reach its first replayed trade sets the start
    }
  }
  // The columns: each symbol's used trades, seeded ones (before replayFrom) first.
  const tradeStart = sharedInt32(n + 1);
  const seedEnd = sharedInt32(n);
  const usedBefore = new Int32Array(n);
  seen.fill(0);
  let replayCount = 0;
  for (let i = 0; i < table.count; i++) {
    const s = engineIndex[table.symbolIndex[i]];
    if (s < 0) continue;
    const trade = table.kind[i] === TickKind.Trade;
    const used = !trade || seen[s]++ >= firstUsed[s];
    if (i >= replayFrom) {
      if (used) replayCount++;
    } else if (trade && used) {
      usedBefore[s]++;
    }
  }
  for (let s = 0; s < n; s++) {
    tradeStart[s + 1] = tradeStart[s] + (tradesInFile[s] - firstUsed[s]);
    seedEnd[s] = tradeStart[s] + usedBefore[s];
  }
  const prices = sharedFloat64(tradeStart[n]);
  const sizes = sharedFloat64(tradeStart[n]);
  const bids = sharedFloat64(n);
  const asks = sharedFloat64(n);
  const replay: ReplayTicks = {
    count: replayCount,
    symbolIndex: sharedInt32(replayCount),
    kind: new Uint8Array(new SharedArrayBuffer(Math.max(1, replayCount)), 0, replayCount),
    price: sharedFloat64(replayCount),
    size: sharedFloat64(replayCount),
    exchangeTsNs: sharedFloat64(replayCount),
  };
  seen.fill(0);
  let r = 0;
  for (let i = 0; i < table.count; i++) {
    const s = engineIndex[table.symbolIndex[i]];
    if (s < 0) continue;
    const kind = table.kind[i];
    if (kind === TickKind.Trade) {
      const ordinal = seen[s]++;
      if (ordinal < firstUsed[s]) continue;
      const at = tradeStart[s] + ordinal - firstUsed[s];
      prices[at] = table.price[i];
      sizes[at] = table.size[i];
    } else if (i < replayFrom) {
      if (kind === TickKind.Bid) bids[s] = table.price[i];
      else asks[s] = table.price[i];
      continue;
    }
    if (i < replayFrom) continue;
    replay.symbolIndex[r] = s;
    replay.kind[r] = kind;
    replay.price[r] = table.price[i];
    replay.size[r] = table.size[i];
    replay.exchangeTsNs[r] = table.exchangeTsNs[i];
    r++;
  }

  const shortSymbols: ShortSymbol[] = [];
  for (let s = 0; s < n; s++) {
    const trades = tradeStart[s + 1] - tradeStart[s];
    if (trades < options.requiredTrades) shortSymbols.push({ symbol: symbols[s], trades });
  }
  return { origin, tradeStart, prices, sizes, seedEnd, bids, asks, replay, ignoredSymbols, shortSymbols, requiredTrades: options.requiredTrades };
}

/**
 * Every trade of the configured symbols in the file, in file order: what the bars of the scans are built from at a
 * warm start (docs/scans.md), the whole file rather than each symbol's cut, so the bars and per-bar indicators are
 * those of an engine that took in the whole file live. The parsed table itself, not a copy: row i is a trade of
 * engine symbol `engineIndex[table.symbolIndex[i]]` when its kind is a trade and that index is >= 0.
 */
export interface HistoryTrades {
  readonly table: TickTable;
  /** The file's symbol numbering -> the engine's (-1: not traded here). */
  readonly engineIndex: Int32Array;
  /** How many rows are such trades. */
  readonly count: number;
}

/** The trades of `table` for `symbols` (the engine's, in its order). Pure. */
export function historyTrades(table: TickTable, symbols: readonly string[]): HistoryTrades {
  const engineIndex = engineIndexOf(table, symbols);
  let count = 0;
  for (let i = 0; i < table.count; i++) if (table.kind[i] === TickKind.Trade && engineIndex[table.symbolIndex[i]] >= 0) count++;
  return { table, engineIndex, count };
}

/** The file's symbol numbering -> the engine's (`symbols`, in its order); -1 for a symbol not traded here. */
function engineIndexOf(table: TickTable, symbols: readonly string[]): Int32Array {
  const configured = new Map(symbols.map((symbol, index) => [symbol, index]));
  return Int32Array.from(table.symbols, (symbol) => configured.get(symbol) ?? -1);
}
