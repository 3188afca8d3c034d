import { createHash } from 'node:crypto';
import type { EngineConfig } from '../config/engine-config.ts';
import { createIntakeCounters } from '../pipeline/frame-intake.ts';
import { InlinePipeline } from '../pipeline/inline-pipeline.ts';
import { InlineBarScans } from '../scans/inline-scans.ts';
import { anyBarHandlers, checkBarHandlers } from '../strategy/factory.ts';
import { OrderIdSource } from '../pipeline/order.ts';
import { createProcessorCounters } from '../pipeline/tick-processor.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import type { TickTable } from '../sim/tick-csv.ts';
import { FrameHeader } from '../wire/frame-header.ts';
import { DECODE_OK, Side, TickKind } from '../wire/layout.ts';
import { OrderSlot, decodeOrder, decodeOrderFrameHeader } from '../wire/order-codec.ts';
import { SymbolTable } from '../wire/symbol-id.ts';
import { TickFrameWriter } from '../wire/tick-codec.ts';

/**
 * `nexus backtest`: replays a tick table through the engine's own inline pipeline (the classes a live engine runs:
 * frame intake, indicators, strategies, ownership, risk, order encoding), and fills every order it sends.
 *
 *   CSV ticks --frames of 64--> InlinePipeline --order frames--> fill model --> positions, cash, PnL
 *
 * Determinism: the pipeline's clock is the current frame's first tick time (the CSV's exchange_ts_ns), each tick's
 * publish stamp is its exchange time (so a strategy's `timeNs` is the CSV time), and order ids start at 1 for
 * engine instance 0. The same table and configuration therefore give byte-identical order frames, whose SHA-256
 * the result carries (`ordersSha256`).
 *
 * Fill model (documented in docs/backtest.md): every order risk accepts fills at once, in full, at its limit
 * price, which the engine set to the far side of the book (the ask for a buy, the bid for a sell) or, without a
 * quote, the last trade price. No queue position, no partial fills, no fees. Positions are marked to the last
 * trade price of their symbol. This is the risk engine's own assumption (every accepted order counted as filled),
 * so the strategies see the positions the fills make.
 */
export interface BacktestOptions {
  readonly config: EngineConfig;
  readonly ticks: TickTable;
  /** Ticks per market-data frame (default 64, as `nexus feed` batches). */
  readonly ticksPerFrame?: number;
  /** Keep every order (for a parity check or a report); default false: only the totals and the digest. */
  readonly keepOrders?: boolean;
}

/** One filled order, as decoded from the engine's order frame. */
export interface BacktestOrder {
  readonly orderId: number;
  readonly symbol: string;
  readonly strategy: string;
  readonly side: 'buy' | 'sell';
  readonly price: number;
  readonly quantity: number;
  /** The exchange time of the tick that caused it (ns). */
  readonly tickTimeNs: number;
}

export interface BacktestBook {
  readonly orders: number;
  readonly buys: number;
  readonly sells: number;
  /** Net quantity held at the end. */
  readonly position: number;
  /** Cash flow: what sells brought in less what buys cost. */
  readonly cash: number;
  /** cash + position x the symbol's last trade price. */
  readonly pnl: number;
}

export interface BacktestResult {
  readonly ticks: number;
  readonly trades: number;
  readonly quotes: number;
  /** Ticks of symbols the configuration does not trade, by symbol: not replayed, counted. */
  readonly ticksSkipped: Readonly<Record<string, number>>;
  /** Ticks the engine's intake refused (by its own checks), counted as a live engine counts them. */
  readonly ticksRejected: number;
  readonly ordersDenied: number;
  readonly strategyFaults: number;
  /** Each disabled strategy with the reason, in the order they faulted. */
  readonly faults: ReadonlyArray<{ readonly strategy: string; readonly origin: string; readonly reason: string }>;
  readonly bySymbol: Readonly<Record<string, BacktestBook & { readonly lastPrice: number }>>;
  readonly byStrategy: Readonly<Record<string, BacktestBook>>;
  readonly total: BacktestBook;
  /** SHA-256 of every order frame the engine encoded, in order: equal digests, byte-identical orders. */
  readonly ordersSha256: string;
  /** Wall time of the replay and its cost per tick (frame building, the pipeline, the fills). */
  readonly elapsedMs: number;
  readonly nsPerTick: number;
  readonly ticksPerSecond: number;
  readonly orderList?: readonly BacktestOrder[];
}

/** Replays `ticks` through the live pipeline code and fills its orders (see the file comment). */
export function runBacktest(options: BacktestOptions): BacktestResult {
  const backtest = new Backtest(options);
  backtest.replay(0, options.ticks.count);
  return backtest.result();
}

/**
 * One backtest, replayed in steps (`replay` over consecutive tick ranges, as `runBacktest` does in one go); for a
 * benchmark that measures allocation between steps. Everything is built at construction.
 */
export class Backtest {
  private readonly options: BacktestOptions;
  private readonly symbols: readonly string[];
  private readonly strategies: readonly string[];
  private readonly width: number;
  private readonly books: { readonly orders: Float64Array; readonly buys: Float64Array; readonly sells: Float64Array; readonly position: Float64Array; readonly cash: Float64Array };
  private readonly lastPrice: Float64Array;
  private readonly tableToConfig: Int32Array;
  private readonly wireIds: readonly number[];
  private readonly digest = createHash('sha256');
  private readonly orderList: BacktestOrder[] = [];
  private readonly faults: Array<{ strategy: string; origin: string; reason: string }> = [];
  private readonly skipped: Float64Array;
  private readonly pipeline: InlinePipeline;
  private readonly writer: TickFrameWriter;
  private clock = 0;
  private trades = 0;
  private sequence = 0;
  private replayed = 0;
  private elapsedMs = 0;

  constructor(options: BacktestOptions) {
    this.options = options;
    const { config, ticks } = options;
    const symbols = config.symbols;
    this.symbols = symbols;
    this.strategies = config.strategies.map((strategy) => strategy.name);
    const symbolTable = new SymbolTable(symbols);
    this.tableToConfig = Int32Array.from(ticks.symbols, (symbol) => symbols.indexOf(symbol));
    this.wireIds = symbolTable.ids;
    this.width = this.strategies.length;
    const cells = symbols.length * this.width;
    this.books = { orders: new Float64Array(cells), buys: new Float64Array(cells), sells: new Float64Array(cells), position: new Float64Array(cells), cash: new Float64Array(cells) };
    this.lastPrice = new Float64Array(symbols.length);
    this.skipped = new Float64Array(ticks.symbols.length);
    const indexByWireId = new Map(symbols.map((symbol, i) => [this.wireIds[i], i]));
    const header = new FrameHeader();
    const slot = new OrderSlot();
    const { books, width } = this;
    // onBar strategies need scans, and get them here in the tick loop, deterministically (inline-scans.ts); without
    // one, a backtest builds no bars: nothing would read them.
    checkBarHandlers(config);
    const scans = config.scans === undefined || !anyBarHandlers(config) ? undefined : new InlineBarScans(config, config.scans, () => this.clock);
    this.pipeline = new InlinePipeline({
      ...(scans === undefined ? {} : { trades: scans }),
      onStrategyFault: (_index, strategy, reason) => this.faults.push({ strategy: strategy.name, origin: strategy.origin, reason }),
      config,
      symbols: symbolTable,
      risk: new RiskEngine(config.risk, symbols.length),
      orderIds: new OrderIdSource(0),
      clockNs: () => this.clock,
      intakeCounters: createIntakeCounters(),
      processorCounters: createProcessorCounters(width),
      publisher: {
        publishOrders: (frame: Buffer, count: number): void => {
          this.digest.update(frame);
          if (decodeOrderFrameHeader(frame, header) !== DECODE_OK) throw new Error('the engine encoded an order frame it cannot decode');
          for (let i = 0; i < count; i++) {
            decodeOrder(frame, i, header, slot);
            const symbol = indexByWireId.get(slot.symbolId) ?? -1;
            const book = symbol * width + slot.strategyId;
            const sign = slot.side === Side.Buy ? 1 : -1;
            books.orders[book]++;
            if (sign > 0) books.buys[book]++;
            else books.sells[book]++;
            books.position[book] += sign * slot.quantity;
            books.cash[book] -= sign * slot.quantity * slot.price;
            if (options.keepOrders === true) {
              this.orderList.push({ orderId: slot.orderId, symbol: symbols[symbol], strategy: this.strategies[slot.strategyId], side: sign > 0 ? 'buy' : 'sell', price: slot.price, quantity: slot.quantity, tickTimeNs: slot.tickPublishMonoNs });
            }
          }
        },
        publishSignals(): void {},
      },
      recordLatency: () => undefined,
      ordersStreamId: 0,
      signalsStreamId: 1,
    });
    this.writer = new TickFrameWriter(options.ticksPerFrame ?? 64);
    if (scans !== undefined) scans.deliver = (scan, timeNs) => this.pipeline.deliverBar(scan, timeNs);
  }

  /** Replays ticks [from, to) of the table, in frames; ranges must follow each other. */
  replay(from: number, to: number): void {
    const { ticks } = this.options;
    const writer = this.writer;
    const started = performance.now();
    for (let i = from; i < to;) {
      writer.begin(1, this.sequence);
      this.clock = ticks.exchangeTsNs[i];
      for (; i < to && !writer.isFull; i++) {
        const symbol = this.tableToConfig[ticks.symbolIndex[i]];
        if (symbol < 0) {
          this.skipped[ticks.symbolIndex[i]]++;
          continue;
        }
        const time = ticks.exchangeTsNs[i];
        writer.append(this.wireIds[symbol], ticks.kind[i], ticks.price[i], ticks.size[i], time, time);
        if (ticks.kind[i] === TickKind.Trade) {
          this.trades++;
          this.lastPrice[symbol] = ticks.price[i];
        }
      }
      if (writer.count === 0) continue;
      this.sequence += writer.count;
      this.pipeline.processFrame(writer.finishView(this.clock));
    }
    this.replayed += to - from;
    this.elapsedMs += performance.now() - started;
  }

  result(): BacktestResult {
    const { books, width, symbols, strategies, lastPrice, elapsedMs } = this;
    const bookOf = (indices: readonly number[]): BacktestBook => {
      let orders = 0, buys = 0, sells = 0, position = 0, cash = 0, pnl = 0;
      for (const i of indices) {
        orders += books.orders[i];
        buys += books.buys[i];
        sells += books.sells[i];
        position += books.position[i];
        cash += books.cash[i];
        pnl += books.cash[i] + books.position[i] * lastPrice[Math.floor(i / width)];
      }
      return { orders, buys, sells, position, cash, pnl };
    };
    const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
    const intake = this.pipeline.intake.counters;
    const processor = this.pipeline.processorCounters;
    const ticks = this.options.ticks;
    return {
      ticks: this.replayed,
      trades: this.trades,
      quotes: this.sequence - this.trades,
      ticksSkipped: Object.fromEntries(ticks.symbols.flatMap((symbol, i) => (this.skipped[i] > 0 ? [[symbol, this.skipped[i]]] : []))),
      ticksRejected: intake.ticksRejected.reduce((sum, n) => sum + n, 0),
      ordersDenied: processor.ordersDenied,
      strategyFaults: processor.strategyFaults.reduce((sum, n) => sum + n, 0),
      faults: [...this.faults],
      bySymbol: Object.fromEntries(symbols.map((symbol, s) => [symbol, { ...bookOf(range(width).map((k) => s * width + k)), lastPrice: lastPrice[s] }])),
      byStrategy: Object.fromEntries(strategies.map((strategy, k) => [strategy, bookOf(range(symbols.length).map((s) => s * width + k))])),
      total: bookOf(range(symbols.length * width)),
      ordersSha256: this.digest.copy().digest('hex'),
      elapsedMs,
      nsPerTick: this.replayed === 0 ? 0 : (elapsedMs * 1e6) / this.replayed,
      ticksPerSecond: elapsedMs === 0 ? 0 : this.replayed / (elapsedMs / 1000),
      ...(this.options.keepOrders === true ? { orderList: [...this.orderList] } : {}),
    };
  }
}
