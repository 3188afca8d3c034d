import { seededRandom } from '../../engine/batch/series.ts';
import type { EngineConfig } from '../../engine/config/engine-config.ts';
import type { Order } from '../../engine/pipeline/order.ts';
import { OrderIdSource } from '../../engine/pipeline/order.ts';
import { createProcessorCounters, TickProcessor, type ProcessorCounters } from '../../engine/pipeline/tick-processor.ts';
import { OwnershipCells, UNOWNED } from '../../engine/ownership/symbol-ownership.ts';
import { RiskEngine } from '../../engine/risk/risk-engine.ts';
import { TICK_CSV_HEADER, type TickTable } from '../../engine/sim/tick-csv.ts';
import { TickKind } from '../../engine/wire/layout.ts';

/**
 * Market history for warm-start tests: ticks of `symbols` in an irregular order (some symbols trade far more often
 * than others), 70 % trades and 30 % quotes around each symbol's price, prices a random walk on a 0.01 grid with
 * trending stretches (so MACD and the bands cross and strategies order), sizes 0..499. Same seed, same ticks.
 */
export function marketTicks(symbols: readonly string[], count: number, seed = 1): TickTable {
  const random = seededRandom(seed);
  const price = symbols.map((_, s) => 50 + 10 * s);
  const drift = symbols.map(() => 0);
  const table = {
    symbols: [...symbols],
    count,
    symbolIndex: new Int32Array(count),
    kind: new Uint8Array(count),
    price: new Float64Array(count),
    size: new Float64Array(count),
    exchangeTsNs: new Float64Array(count),
  };
  for (let i = 0; i < count; i++) {
    // Symbol s is picked with weight s + 1: the busiest trades several times as often as the quietest.
    const s = Math.min(symbols.length - 1, Math.floor(Math.sqrt(random()) * symbols.length));
    if (random() < 0.02) drift[s] = (random() - 0.5) * 0.004;
    const r = random();
    table.symbolIndex[i] = s;
    table.exchangeTsNs[i] = 1_700_000_000_000_000_000 + i * 1_000_000;
    if (r < 0.7) {
      price[s] = Math.max(0.01, Math.round(price[s] * (1 + drift[s] + (random() - 0.5) * 0.004) * 100) / 100);
      table.kind[i] = TickKind.Trade;
      table.price[i] = price[s];
      table.size[i] = random() < 0.05 ? 0 : Math.floor(random() * 500);
    } else {
      const bid = r < 0.85;
      table.kind[i] = bid ? TickKind.Bid : TickKind.Ask;
      table.price[i] = Math.max(0.01, Math.round((price[s] + (bid ? -0.01 : 0.01)) * 100) / 100);
      table.size[i] = Math.floor(random() * 500) + 1;
    }
  }
  return table;
}

/** `table` as a tick CSV file's text (the backtest's format, which a history file has). */
export function tickCsv(table: TickTable): string {
  const kinds: Record<number, string> = { [TickKind.Trade]: 'trade', [TickKind.Bid]: 'bid', [TickKind.Ask]: 'ask' };
  const rows = [TICK_CSV_HEADER.join(',')];
  for (let i = 0; i < table.count; i++) {
    rows.push(`${BigInt(table.exchangeTsNs[i])},${table.symbols[table.symbolIndex[i]]},${kinds[table.kind[i]]},${table.price[i]},${table.size[i]}`);
  }
  return `${rows.join('\n')}\n`;
}

/** The orders a test processor produced: what an order gateway would compare. */
export interface RecordedOrder {
  readonly symbolIndex: number;
  readonly strategyId: number;
  readonly side: number;
  readonly price: number;
  readonly quantity: number;
}

/** A real TickProcessor for `config` whose orders are recorded, its ownership cells open to the test. */
export interface RecordingProcessor {
  readonly processor: TickProcessor;
  readonly orders: RecordedOrder[];
  readonly counters: ProcessorCounters;
  readonly ownership: OwnershipCells;
  /** The risk engine's positions per symbol. */
  readonly positions: Float64Array;
  /** Feeds one tick as the pipeline would; `timeNs` is what strategies see as its time (default 0). */
  tick(symbolIndex: number, kind: number, price: number, size: number, timeNs?: number): void;
}

export function recordingProcessor(config: EngineConfig): RecordingProcessor {
  const counters = createProcessorCounters(config.strategies.length);
  const ownership = new OwnershipCells(config.symbols.length);
  const orders: RecordedOrder[] = [];
  const risk = new RiskEngine(config.risk, config.symbols.length);
  const processor = new TickProcessor({
    config,
    risk,
    sink: {
      signal: () => undefined,
      order: (order: Order) => {
        orders.push({ symbolIndex: order.symbolIndex, strategyId: order.strategyId, side: order.side, price: order.price, quantity: order.quantity });
      },
    },
    orderIds: new OrderIdSource(1),
    clockNs: () => 0,
    counters,
    ownership,
  });
  return {
    processor,
    orders,
    counters,
    ownership,
    positions: risk.positionView,
    tick(symbolIndex, kind, price, size, timeNs = 0) {
      if (kind === TickKind.Trade) processor.onTrade(symbolIndex, price, size, timeNs);
      else processor.onQuote(symbolIndex, kind === TickKind.Bid, price, timeNs);
    },
  };
}

/**
 * The reference a warm start is held to: a processor that has run since the open, i.e. streamed every tick of
 * `history` the warm start uses (each symbol's last `maxTradesPerSymbol` trades and every quote) live, tick by
 * tick, without owning its symbols (a shadow: decisions made, nothing ordered, no position), and owns them all
 * from now on. `timeOf(row)` is the time its strategies see for a history row (default 0).
 */
export function streamedSinceOpen(
  config: EngineConfig, history: TickTable, maxTradesPerSymbol: number, timeOf: (row: number) => number = () => 0,
): RecordingProcessor {
  const reference = recordingProcessor(config);
  reference.ownership.epochs.fill(UNOWNED);
  const trades = new Int32Array(history.symbols.length);
  for (let i = 0; i < history.count; i++) if (history.kind[i] === TickKind.Trade) trades[history.symbolIndex[i]]++;
  const seen = new Int32Array(history.symbols.length);
  for (let i = 0; i < history.count; i++) {
    const s = history.symbolIndex[i];
    if (history.kind[i] === TickKind.Trade && seen[s]++ < trades[s] - maxTradesPerSymbol) continue;
    reference.tick(s, history.kind[i], history.price[i], history.size[i], timeOf(i));
  }
  reference.ownership.epochs.fill(0);
  return reference;
}
