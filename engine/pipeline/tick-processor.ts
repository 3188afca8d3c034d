import type { EngineConfig } from '../config/engine-config.ts';
import { createIndicator } from '../indicators/registry.ts';
import { ObjectPool } from '../pool/object-pool.ts';
import type { RiskEngine } from '../risk/risk-engine.ts';
import { createStrategy } from '../strategy/factory.ts';
import type { IndicatorReader, Strategy } from '../strategy/strategy.ts';
import { Side } from '../wire/layout.ts';
import { withFaultInjection } from './fault-injection.ts';
import { IndicatorBank } from './indicator-bank.ts';
import { Order, Signal, type OrderIdSource } from './order.ts';
import type { OutputSink } from './output-sink.ts';

/** Counters the tick processor increments on the hot path; the metrics layer reads them on scrape. */
export interface ProcessorCounters {
  /** Signals per strategy index. */
  readonly signals: Float64Array;
  ordersAccepted: number;
  ordersDenied: number;
  /** Orders lost because the order pool was exhausted (never silent: counted and exported). */
  orderPoolExhausted: number;
  tradesProcessed: number;
  quotesProcessed: number;
}

export function createProcessorCounters(strategyCount: number): ProcessorCounters {
  return {
    signals: new Float64Array(strategyCount),
    ordersAccepted: 0,
    ordersDenied: 0,
    orderPoolExhausted: 0,
    tradesProcessed: 0,
    quotesProcessed: 0,
  };
}

export interface TickProcessorOptions {
  /** Every processor covers all configured symbols; a worker of the workers layout only ever sees its shard's ticks. */
  readonly config: EngineConfig;
  readonly risk: RiskEngine;
  readonly sink: OutputSink;
  readonly orderIds: OrderIdSource;
  readonly clockNs: () => number;
  readonly counters: ProcessorCounters;
}

/**
 * The per-tick core shared by both pipeline layouts: indicators -> strategies -> risk -> order, each stage
 * handing to the next and never back. Risk is the only route to orders.
 *
 * Everything is built at construction: one indicator instance per (symbol, indicator), the strategies' readers
 * resolved to those instances, strategy state in one Float64Array, an order pool. `onTrade` and `onQuote` allocate
 * nothing. Indicators update on trades (high = low = close = trade price, volume = size); quotes keep the book
 * (best bid and ask) that limit prices are taken from. With `config.faultInjection`, the sink is wrapped once here
 * so that accepted orders wait before they are handed on (fault-injection.ts); without it, the sink is used as is.
 */
export class TickProcessor {
  private readonly banks: IndicatorBank[];
  private readonly strategies: Strategy[];
  private readonly strategyReaders: IndicatorReader[][][];
  private readonly strategyStateOffset: Int32Array;
  private readonly strategyState: Float64Array;
  private readonly stateStride: number;
  private readonly bid: Float64Array;
  private readonly ask: Float64Array;
  private readonly pool: ObjectPool<Order>;
  /** `options.sink`, or a LatencyFaultSink in front of it when fault injection is configured. */
  private readonly sink: OutputSink;
  /**
   * When the engine began processing the current frame (set by `beginFrame`). Signal and order timestamps use it
   * instead of reading the clock per tick: a clock read costs ~60 ns here, more than a whole indicator update.
   */
  private frameStartNs = 0;
  private readonly signalRecord = new Signal();
  /** The risk engine's live positions (read-only here; risk.check is the only writer). */
  private readonly positions: Float64Array;

  constructor(private readonly options: TickProcessorOptions) {
    const { config } = options;
    const symbolCount = config.symbols.length;
    this.banks = [];
    for (let s = 0; s < symbolCount; s++) {
      this.banks.push(new IndicatorBank(
        config.indicators.map((spec, i) => createIndicator({ type: spec.type, params: { ...spec.params } }, `indicators[${i}]`)),
      ));
    }
    const typeByName = new Map(config.indicators.map((spec) => [spec.name, spec.type]));
    const indexByName = new Map(config.indicators.map((spec, i) => [spec.name, i]));
    this.strategies = [];
    const strategyInputIndices: number[][] = [];
    config.strategies.forEach((spec, i) => {
      const { strategy, indicatorNames } = createStrategy(
        { ...spec, params: { ...spec.params }, indicators: [...spec.indicators] },
        typeByName,
        `strategies[${i}]`,
      );
      this.strategies.push(strategy);
      strategyInputIndices.push(indicatorNames.map((name) => indexByName.get(name) ?? -1));
    });
    this.strategyReaders = this.banks.map((bank) =>
      strategyInputIndices.map((indices) => indices.map((index) => bank.indicators[index])),
    );
    this.strategyStateOffset = new Int32Array(this.strategies.length);
    let stride = 0;
    this.strategies.forEach((strategy, i) => {
      this.strategyStateOffset[i] = stride;
      stride += strategy.stateSize;
    });
    this.stateStride = stride;
    this.strategyState = new Float64Array(Math.max(1, stride * symbolCount));
    this.bid = new Float64Array(symbolCount);
    this.ask = new Float64Array(symbolCount);
    this.pool = new ObjectPool(() => new Order(), 64);
    this.sink = withFaultInjection(options.sink, config.faultInjection);
    this.positions = options.risk.positionView;
  }

  /** Marks the start of a frame; every signal and order of the frame carries this time. */
  beginFrame(nowNs: number): void {
    this.frameStartNs = nowNs;
  }

  /** A trade print: update every indicator of the symbol, then let each strategy decide. */
  onTrade(symbolIndex: number, price: number, size: number, tickPublishMonoNs: number): void {
    const { risk, counters } = this.options;
    counters.tradesProcessed++;
    risk.onTrade(symbolIndex, price);
    this.banks[symbolIndex].updateTrade(price, size);

    const readers = this.strategyReaders[symbolIndex];
    const stateBase = symbolIndex * this.stateStride;
    for (let k = 0; k < this.strategies.length; k++) {
      const strategy = this.strategies[k];
      const side = strategy.evaluate(
        readers[k],
        price,
        this.positions[symbolIndex],
        this.strategyState,
        stateBase + this.strategyStateOffset[k],
      );
      if (side !== 0) this.emit(symbolIndex, k, side, price, strategy.orderQuantity, tickPublishMonoNs);
    }
  }

  /** A quote: keep the best bid/ask; quotes do not drive indicators. */
  onQuote(symbolIndex: number, isBid: boolean, price: number): void {
    this.options.counters.quotesProcessed++;
    if (isBid) this.bid[symbolIndex] = price;
    else this.ask[symbolIndex] = price;
  }

  private emit(
    symbolIndex: number,
    strategyIndex: number,
    side: number,
    lastPrice: number,
    quantity: number,
    tickPublishMonoNs: number,
  ): void {
    const { counters, risk } = this.options;
    const sink = this.sink;
    const now = this.frameStartNs;
    counters.signals[strategyIndex]++;
    const signal = this.signalRecord;
    signal.symbolIndex = symbolIndex;
    signal.strategyId = strategyIndex;
    signal.side = side;
    signal.price = lastPrice;
    signal.strength = 1;
    signal.tickPublishMonoNs = tickPublishMonoNs;
    signal.signalMonoNs = now;
    sink.signal(signal);

    // Cross the spread when the book is known: buy at the ask, sell at the bid, else at the last trade.
    const quote = side > 0 ? this.ask[symbolIndex] : this.bid[symbolIndex];
    const limitPrice = quote > 0 ? quote : lastPrice;
    const order = this.pool.acquire();
    if (order === null) {
      counters.orderPoolExhausted++;
      return;
    }
    if (risk.check(symbolIndex, side, quantity, limitPrice) !== 0) {
      counters.ordersDenied++;
      this.pool.release(order);
      return;
    }
    this.options.orderIds.assignNext(order);
    order.symbolIndex = symbolIndex;
    order.strategyId = strategyIndex;
    order.side = side > 0 ? Side.Buy : Side.Sell;
    order.price = limitPrice;
    order.quantity = quantity;
    order.tickPublishMonoNs = tickPublishMonoNs;
    order.orderMonoNs = now;
    counters.ordersAccepted++;
    sink.order(order);
    this.pool.release(order);
  }
}
