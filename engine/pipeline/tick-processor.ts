import type { EngineConfig } from '../config/engine-config.ts';
import { createIndicator } from '../indicators/registry.ts';
import { ObjectPool } from '../pool/object-pool.ts';
import type { RiskEngine } from '../risk/risk-engine.ts';
import { createStrategy } from '../strategy/factory.ts';
import type { BarScan } from '../strategy/sdk.ts';
import type { ConfiguredStrategy } from '../strategy/strategy.ts';
import {
  DECISION_PRICE, DECISION_STRENGTH, DECISION_TIME_NS, EngineStrategyContext, roleReadersOf, TICK_PRICE, TICK_PUBLISH_NS, TICK_SIZE, TICK_SLOTS,
  type StrategyActions,
} from '../strategy/strategy-context.ts';
import { StrategyModuleError } from '../strategy/strategy-modules.ts';
import { StrategyWatchdog } from '../strategy/strategy-watchdog.ts';
import { ModuleHeapGuard, type GuardedModule } from '../strategy/module-heap-guard.ts';
import { InspectorHeapSampler } from '../strategy/heap-sampler.ts';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import { MAX_RECORDS_PER_FRAME, Side } from '../wire/layout.ts';
import { faultDelaysFor, spinFor, type FaultDelays } from './fault-injection.ts';
import { IndicatorBank } from '../indicators/indicator-bank.ts';
import type { WarmStateKernels } from '../indicators/warm-state.ts';
import { Order, Signal, type OrderIdSource } from './order.ts';
import type { OutputSink } from './output-sink.ts';
import type { BatchLatencyRecorder } from '../metrics/shared-latency.ts';
import { SymbolOwnership, UNOWNED } from '../ownership/symbol-ownership.ts';

/**
 * Ticks between two looks of the heap guard at its clock (it reads the heap at most every 10 ms), taken at the next
 * frame's start: a module only allocates when it is called, so counting trades and quotes paces it; 1,024 keeps
 * the clock read (16 B: performance.now() returns a fresh HeapNumber) out of the per-tick figures, and a module
 * keeping 8 KiB a trade is looked at every 8 MiB.
 */
const TICKS_PER_HEAP_POLL = 1024;

/** Counters the tick processor increments on the hot path; the metrics layer reads them on scrape. */
export interface ProcessorCounters {
  /** Signals per strategy index. */
  readonly signals: Float64Array;
  /** Faults per strategy index (a handler threw): a faulted strategy is disabled for the engine's life. */
  readonly strategyFaults: Float64Array;
  ordersAccepted: number;
  ordersDenied: number;
  /** Orders lost because the order pool was exhausted (never silent: counted and exported). */
  orderPoolExhausted: number;
  /**
   * Decisions to trade a symbol this engine does not own (ownership.mode assigned): no signal, no order, no risk
   * state change. A shadow pod (a blue-green preview) counts every decision here.
   */
  unownedDecisions: number;
  /**
   * onBar decisions on a symbol another shard of the workers layout handles (its instance of the strategy decides
   * for it): no signal, no order. See BarContext.handles.
   */
  otherShardDecisions: number;
  tradesProcessed: number;
  quotesProcessed: number;
}

export function createProcessorCounters(strategyCount: number): ProcessorCounters {
  return {
    signals: new Float64Array(strategyCount),
    strategyFaults: new Float64Array(strategyCount),
    ordersAccepted: 0,
    ordersDenied: 0,
    orderPoolExhausted: 0,
    unownedDecisions: 0,
    otherShardDecisions: 0,
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
  /**
   * Which symbols this processor may send orders for, per symbol index: `epochs` (-1 unowned, 0 unfenced, else the
   * owning shard's epoch) and `shards`. Read per decision, never written here: inline these are the engine's
   * ownership cells, in a worker its per-batch copy of them (ShardWorker). Default: every symbol, unfenced.
   */
  readonly ownership?: { readonly epochs: Int32Array; readonly shards: Int32Array };
  /**
   * Called once per trade with its decision latency: publisher stamp -> the end of the input batch that held it
   * (`finishDecisions`), when its decision and every other of the batch are complete and their orders handed on.
   */
  readonly recordDecision?: BatchLatencyRecorder;
  /** Told once per strategy that faults, with the reason (default: a line on stderr). */
  readonly onStrategyFault?: (index: number, strategy: ConfiguredStrategy, reason: string) => void;
  /** False for a scratch processor (JIT warm-up): no heap guard of its own beside the real one's. Default true. */
  readonly heapGuard?: boolean;
  /**
   * Per symbol index, 1 where this processor's strategies decide for the symbol in onBar: a worker of the workers
   * layout its shard's symbols (each shard runs its own instance of every onBar strategy, all seeing the whole
   * scan), else every symbol (the default). An onBar decision on another symbol is counted in
   * `otherShardDecisions`; onTrade and onQuote decisions are not affected (a cross-symbol order there goes to risk,
   * which denies another shard's symbol for want of a reference price, as before).
   */
  readonly handledSymbols?: Uint8Array;
}

/**
 * The per-tick core shared by both pipeline layouts: indicators -> strategies -> risk -> order, each stage
 * handing to the next and never back. Risk is the only route to orders.
 *
 * Everything is built at construction: one indicator instance per (symbol, indicator), the strategies' readers
 * resolved to those instances, strategy state in one Float64Array, an order pool. `onTrade` and `onQuote` allocate
 * nothing. Indicators update on trades (high = low = close = trade price, volume = size); quotes keep the book
 * (best bid and ask) that limit prices are taken from.
 *
 * Decision latency: each trade's publisher stamp is kept (a preallocated array, no clock read per trade), and when
 * the caller has finished the input batch (a market-data frame inline, a ring batch in a worker) `finishDecisions`
 * reads the clock once and gives every trade of the batch its latency to `recordDecision` (one call per batch): the moment its decision
 * was complete and its orders handed on, at batch granularity, as tick-to-order is taken at the frame's hand-off.
 * It exists for every trade, whether or not the strategies order, which is why the latency gate samples it by
 * default (docs/metrics.md). With `config.faultInjection`, an affected trade busy-waits in its decision.
 *
 * Ownership (docs/ownership.md): every trade updates indicators and runs the strategies whoever owns its symbol,
 * so a pod that takes a symbol over trades from its first tick; a decision on a symbol this processor does not own
 * ends there (counted in `unownedDecisions`), and an order on an owned one carries its shard and epoch.
 */
export class TickProcessor implements StrategyActions {
  private readonly banks: IndicatorBank[];
  private readonly strategies: ConfiguredStrategy[];
  /** One context per strategy, entered per call; and whether each strategy is disabled (it faulted). */
  private readonly contexts: EngineStrategyContext[];
  private readonly disabled: Uint8Array;
  /** Whether any strategy has an onBar handler. */
  private readonly barHandlers: boolean;
  /** Whether any strategy has an onQuote handler (else quotes skip the strategy loop). */
  private readonly quoteHandlers: boolean;
  /**
   * Per strategy, its id with the thread's watchdog (strategy-watchdog.ts), or 0: a JavaScript/TypeScript module's
   * calls are watched, so one that never returns is named and stops the engine instead of hanging it silently
   * (a WebAssembly module's adapter watches its own calls; built-ins are the engine's own code).
   */
  private readonly watchIds: Int32Array;
  private readonly watchdog: StrategyWatchdog | undefined;
  /** Watches this thread's heap for a JavaScript/TypeScript module that keeps what it allocates (module-heap-guard.ts). */
  private readonly heapGuard: ModuleHeapGuard | undefined;
  /**
   * The tick being processed: [price, size, publish time] (TICK_PRICE...). Pipelines write it and call
   * `takeTrade`/`takeQuote`; the context and risk read it, so no double crosses a call on the tick path.
   */
  readonly tick = new Float64Array(TICK_SLOTS);
  /** An order's limit price, handed to risk in an array (checkAt). */
  private readonly limitPrice = new Float64Array(1);
  private ticksUntilHeapPoll = TICKS_PER_HEAP_POLL;
  /** Set when the heap guard is due: it runs at the next frame's start, never inside a frame (it may collect). */
  private heapPollDue = false;
  private readonly bid: Float64Array;
  private readonly ask: Float64Array;
  private readonly lastPrice: Float64Array;
  private readonly pool: ObjectPool<Order>;
  private readonly sink: OutputSink;
  /** Injected decision delays (tests and demos), or undefined: the hot path then only tests for it. */
  private readonly faults: FaultDelays | undefined;
  private readonly recordDecision: BatchLatencyRecorder | undefined;
  /** Publisher stamps of the current batch's trades, for `finishDecisions`; grown (rarely) when a batch outgrows it. */
  private decisionStamps = new Float64Array(MAX_RECORDS_PER_FRAME);
  private decisionCount = 0;
  /**
   * When the engine began processing the current frame (set by `beginFrame`). Signal and order timestamps use it
   * instead of reading the clock per tick: a clock read costs ~60 ns here, more than a whole indicator update.
   */
  private frameStartNs = 0;
  private readonly signalRecord = new Signal();
  /** The risk engine's live positions (read-only here; risk.check is the only writer). */
  private readonly positions: Float64Array;
  private readonly ownedEpochs: Int32Array;
  private readonly ownedShards: Int32Array;
  /** TickProcessorOptions.handledSymbols, applied while `inBar` (onBar handlers are running). */
  private readonly handled: Uint8Array;
  private inBar = false;
  /**
   * True while a warm start replays history through the strategies (`replayHistory`): decisions are made and
   * strategy state kept, but nothing is signalled, ordered, counted or measured.
   */
  private replaying = false;

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
    this.strategies = config.strategies.map((spec, i) => createStrategy(
      { ...spec, params: { ...spec.params }, indicators: [...spec.indicators] },
      typeByName,
      `strategies[${i}]`,
    ));
    this.bid = new Float64Array(symbolCount);
    this.ask = new Float64Array(symbolCount);
    this.lastPrice = new Float64Array(symbolCount);
    this.positions = options.risk.positionView;
    this.handled = options.handledSymbols ?? new Uint8Array(symbolCount).fill(1);
    if (this.handled.length !== symbolCount) throw new RangeError(`handledSymbols has ${this.handled.length} entries for ${symbolCount} symbols`);
    const market = { positions: this.positions, lastPrices: this.lastPrice, bids: this.bid, asks: this.ask, handled: this.handled };
    const symbols = Object.freeze([...config.symbols]);
    // Every strategy's memory in one block: per symbol, then shared; its views are made here, once.
    this.contexts = this.strategies.map((strategy, k) => {
      const inputs = strategy.indicatorNames.map((name) => indexByName.get(name) ?? -1);
      const memory = new Float64Array(strategy.stateSize * symbolCount + strategy.sharedSize);
      const states = this.banks.map((_, s) => memory.subarray(s * strategy.stateSize, (s + 1) * strategy.stateSize));
      const shared = memory.subarray(strategy.stateSize * symbolCount);
      const readers = this.banks.map((bank) => roleReadersOf(strategy.roles, inputs.map((index) => bank.indicators[index])));
      const context = new EngineStrategyContext(k, strategy.params, symbols, readers, states, shared, market, this);
      try {
        strategy.definition.setup?.({ params: strategy.params, symbols, shared });
      } catch (error) {
        // A load-time error, like a module that cannot load: the engine does not start (exit 2, the reason named).
        throw new StrategyModuleError(strategy.origin.replace(/^module /, ''), `setup of strategy ${strategy.name} failed: ${(error as Error).message}`);
      }
      return context;
    });
    this.disabled = new Uint8Array(this.strategies.length);
    const watched = this.strategies.map((strategy) => strategy.origin.startsWith('module ') && !strategy.origin.endsWith('.wasm'));
    this.watchdog = watched.includes(true) ? StrategyWatchdog.forThisThread() : undefined;
    this.watchIds = Int32Array.from(this.strategies, (strategy, k) => (watched[k] ? this.watchdog?.register(`${strategy.name} (${strategy.origin})`) ?? 0 : 0));
    this.heapGuard = options.heapGuard === false ? undefined : heapGuardFor(config, watched, (k, reason) => this.disable(k, reason));
    this.quoteHandlers = this.strategies.some((strategy) => strategy.definition.onQuote !== undefined);
    this.barHandlers = this.strategies.some((strategy) => strategy.definition.onBar !== undefined);
    this.pool = new ObjectPool(() => new Order(), 64);
    this.sink = options.sink;
    this.faults = faultDelaysFor(config.faultInjection);
    this.recordDecision = options.recordDecision;
    const ownership = options.ownership ?? new SymbolOwnership('all', symbolCount).cells;
    this.ownedEpochs = ownership.epochs;
    this.ownedShards = ownership.shards;
  }

  /**
   * Marks the start of a frame (reads the clock); every signal and order of the frame carries this time. The clock
   * is read here rather than passed in: a double passed to a call V8 does not inline is boxed (indicator.ts).
   */
  beginFrame(): void {
    this.pollHeapIfDue();
    this.frameStartNs = this.options.clockNs();
  }

  /** Runs the heap guard if it is due: only where nothing is mid-flight (a frame's start, between replayed ticks). */
  private pollHeapIfDue(): void {
    if (!this.heapPollDue) return;
    this.heapPollDue = false;
    this.heapGuard?.poll();
  }

  private heapPollIsDue(): void {
    this.ticksUntilHeapPoll = TICKS_PER_HEAP_POLL;
    this.heapPollDue = true;
  }

  /**
   * Warm start, step 1: brings symbol `symbolIndex`'s indicators to the state that streaming trades
   * `[from, to)` of `prices`/`sizes` would leave, bit for bit (IndicatorBank.seed), and marks its last price with
   * the last of them. Only on a processor that has not seen a tick of this symbol.
   */
  seedIndicators(symbolIndex: number, prices: Float64Array, sizes: Float64Array, from: number, to: number, kernels?: WarmStateKernels): void {
    this.banks[symbolIndex].seed(prices, sizes, from, to, kernels);
    if (to > from) {
      this.lastPrice[symbolIndex] = prices[to - 1];
      this.options.risk.onTrade(symbolIndex, prices[to - 1]);
    }
  }

  /** Warm start: the book a symbol's replay starts from (0: no quote seen). */
  seedBook(symbolIndex: number, bid: number, ask: number): void {
    this.bid[symbolIndex] = bid;
    this.ask[symbolIndex] = ask;
  }

  /**
   * Warm start, step 2: ticks of history through the indicators and the strategies, as live ticks would go, with
   * every signal and order suppressed and nothing counted or measured, so the strategies rebuild their state and
   * no history reaches a socket, a position or the latency gate. A strategy that throws still faults (and is
   * disabled and counted) as it would live.
   */
  replayHistory(count: number, visit: (tick: number) => void): void {
    this.replaying = true;
    try {
      for (let k = 0; k < count; k++) {
        visit(k);
        // A replay emits nothing, so the heap guard may run between its ticks (a module may hoard in the replay).
        this.pollHeapIfDue();
      }
    } finally {
      this.replaying = false;
    }
  }

  /** Every indicator output of a symbol, in config order and output order (tests, diagnostics). */
  indicatorOutputs(symbolIndex: number): number[] {
    return this.banks[symbolIndex].indicators.flatMap((indicator) => indicator.outputNames.map((_, k) => indicator.output(k)));
  }

  /** A trade print (tests, tools, the warm start's replay): writes it into `tick`, then `takeTrade`. */
  onTrade(symbolIndex: number, price: number, size: number, tickPublishMonoNs: number): void {
    const tick = this.tick;
    tick[TICK_PRICE] = price;
    tick[TICK_SIZE] = size;
    tick[TICK_PUBLISH_NS] = tickPublishMonoNs;
    this.takeTrade(symbolIndex);
  }

  /**
   * The trade in `tick` (the pipelines' call: they write the register, so no double crosses a call V8 may not
   * inline; indicator.ts): update every indicator of the symbol, then let each strategy decide.
   */
  takeTrade(symbolIndex: number): void {
    const { risk, counters } = this.options;
    const tick = this.tick;
    const price = tick[TICK_PRICE];
    if (!this.replaying) counters.tradesProcessed++;
    risk.onTradeFrom(symbolIndex, tick, TICK_PRICE);
    this.lastPrice[symbolIndex] = price;
    // The trade goes to the indicators from the tick register: no double crosses the call (indicator.ts).
    this.banks[symbolIndex].stepTrade(tick, TICK_PRICE, TICK_SIZE);

    const contexts = this.contexts;
    for (let k = 0; k < contexts.length; k++) {
      if (this.disabled[k] !== 0) continue;
      const context = contexts[k];
      context.enterTick(symbolIndex, tick);
      const watch = this.watchIds[k];
      if (watch !== 0) this.watchdog?.enter(watch);
      try {
        this.strategies[k].definition.onTrade(context);
      } catch (error) {
        this.fault(k, error);
      }
      if (watch !== 0) this.watchdog?.leave();
    }
    if (this.heapGuard !== undefined && --this.ticksUntilHeapPoll === 0) this.heapPollIsDue();
    if (this.replaying) return;
    if (this.faults !== undefined) spinFor(this.faults.nextNs(), this.options.clockNs);
    if (this.recordDecision !== undefined) {
      if (this.decisionCount === this.decisionStamps.length) this.growDecisionStamps();
      this.decisionStamps[this.decisionCount++] = tick[TICK_PUBLISH_NS];
    }
  }

  /**
   * The input batch is done: reads the clock once (only when the batch had trades and decisions are recorded) and
   * records the decision latency of each of its trades. Allocation-free.
   */
  finishDecisions(): void {
    const record = this.recordDecision;
    if (record === undefined || this.decisionCount === 0) return;
    record.recordSince(this.decisionStamps, this.decisionCount, this.options.clockNs());
    this.decisionCount = 0;
  }

  private growDecisionStamps(): void {
    const grown = new Float64Array(this.decisionStamps.length * 2);
    grown.set(this.decisionStamps);
    this.decisionStamps = grown;
  }

  /** A quote (tests, tools, the warm start's replay): writes it into `tick` (size 0), then `takeQuote`. */
  onQuote(symbolIndex: number, isBid: boolean, price: number, tickPublishMonoNs: number): void {
    const tick = this.tick;
    tick[TICK_PRICE] = price;
    tick[TICK_SIZE] = 0;
    tick[TICK_PUBLISH_NS] = tickPublishMonoNs;
    this.takeQuote(symbolIndex, isBid);
  }

  /**
   * The quote in `tick` (the pipelines' call; its size slot 0): keep the best bid/ask, then the strategies' onQuote
   * handlers; quotes do not drive indicators.
   */
  takeQuote(symbolIndex: number, isBid: boolean): void {
    const tick = this.tick;
    const price = tick[TICK_PRICE];
    if (!this.replaying) this.options.counters.quotesProcessed++;
    if (this.heapGuard !== undefined && --this.ticksUntilHeapPoll === 0) this.heapPollIsDue();
    if (isBid) this.bid[symbolIndex] = price;
    else this.ask[symbolIndex] = price;
    if (!this.quoteHandlers) return;
    const contexts = this.contexts;
    for (let k = 0; k < contexts.length; k++) {
      const handler = this.strategies[k].definition.onQuote;
      if (handler === undefined || this.disabled[k] !== 0) continue;
      const context = contexts[k];
      context.enterTick(symbolIndex, tick);
      this.invoke(k, handler, context);
    }
  }

  /**
   * A bar close's universe scan: each strategy's onBar handler, its orders through ownership and risk like a
   * trade's. `timeNs` is the strategies' clock for it (and the orders' decision stamp). Allocation-free.
   */
  onBar(scan: BarScan, timeNs: number): void {
    if (!this.barHandlers) return;
    const contexts = this.contexts;
    this.inBar = true;
    try {
      for (let k = 0; k < contexts.length; k++) {
        const handler = this.strategies[k].definition.onBar;
        if (handler === undefined || this.disabled[k] !== 0) continue;
        const context = contexts[k];
        context.enterBar(scan, timeNs);
        this.invoke(k, handler, context);
      }
    } finally {
      this.inBar = false;
    }
  }

  /**
   * Runs strategy `k`'s `handler` under the watchdog; a throw disables the strategy (fault). onQuote and onBar go
   * through here; onTrade, the hottest call, writes the same steps out in its own loop.
   */
  private invoke<C extends EngineStrategyContext>(k: number, handler: (context: C) => void, context: C): void {
    const watch = this.watchIds[k];
    if (watch !== 0) this.watchdog?.enter(watch);
    try {
      handler(context);
    } catch (error) {
      this.fault(k, error);
    }
    if (watch !== 0) this.watchdog?.leave();
  }

  /**
   * A handler threw: the strategy is disabled for the engine's life (its memory may be half-updated), counted, and
   * reported once with its origin and the reason. Every other strategy keeps trading.
   */
  private fault(strategyIndex: number, error: unknown): void {
    this.disable(strategyIndex, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }

  /** Disables a strategy for the engine's life (a fault, or the heap guard's verdict): counted, reported once. */
  private disable(strategyIndex: number, reason: string): void {
    if (this.disabled[strategyIndex] !== 0) return;
    this.disabled[strategyIndex] = 1;
    this.options.counters.strategyFaults[strategyIndex]++;
    const strategy = this.strategies[strategyIndex];
    if (this.options.onStrategyFault !== undefined) this.options.onStrategyFault(strategyIndex, strategy, reason);
    else process.stderr.write(`strategy ${strategy.name} (${strategy.origin}) disabled: ${reason}\n`);
  }

  /** StrategyActions: a signal without an order, for an owned symbol. */
  signal(symbolIndex: number, strategyIndex: number, side: number, decision: Float64Array): void {
    if (this.replaying) return;
    if (this.inBar && this.handled[symbolIndex] === 0) {
      this.options.counters.otherShardDecisions++;
      return;
    }
    if (this.ownedEpochs[symbolIndex] === UNOWNED) {
      this.options.counters.unownedDecisions++;
      return;
    }
    this.options.counters.signals[strategyIndex]++;
    const signal = this.signalRecord;
    signal.symbolIndex = symbolIndex;
    signal.strategyId = strategyIndex;
    signal.side = side;
    signal.price = decision[DECISION_PRICE];
    signal.strength = decision[DECISION_STRENGTH];
    signal.tickPublishMonoNs = decision[DECISION_TIME_NS];
    signal.signalMonoNs = this.frameStartNs;
    this.sink.signal(signal);
  }

  /** StrategyActions: a signal and, through risk, an order. */
  order(symbolIndex: number, strategyIndex: number, side: number, quantity: number, decision: Float64Array): void {
    if (this.replaying) return;
    const { counters, risk } = this.options;
    if (this.inBar && this.handled[symbolIndex] === 0) {
      // Another shard's instance of the strategy decides for this symbol (the workers layout's onBar).
      counters.otherShardDecisions++;
      return;
    }
    const epoch = this.ownedEpochs[symbolIndex];
    if (epoch === UNOWNED) {
      // Another pod trades this symbol (or none does yet): decided and measured, never sent.
      counters.unownedDecisions++;
      return;
    }
    const sink = this.sink;
    const now = this.frameStartNs;
    const lastPrice = decision[DECISION_PRICE];
    const tickPublishMonoNs = decision[DECISION_TIME_NS];
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
    const limit = this.limitPrice;
    limit[0] = limitPrice;
    const order = this.pool.acquire();
    if (order === null) {
      counters.orderPoolExhausted++;
      return;
    }
    if (risk.checkAt(symbolIndex, side, quantity, limit, 0) !== 0) {
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
    order.shard = this.ownedShards[symbolIndex];
    order.shardEpoch = epoch;
    counters.ordersAccepted++;
    sink.order(order);
    this.pool.release(order);
  }
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // not there: the module could not have loaded, and nothing will be charged to it
  }
}

/**
 * The heap guard over the JavaScript/TypeScript modules among `config.strategies` (`watched`), one per module file,
 * or undefined when there are none (built-ins and WebAssembly modules need none: the former are the engine's own
 * code, the latter have bounded memories).
 */
function heapGuardFor(config: EngineConfig, watched: readonly boolean[], disable: (strategy: number, reason: string) => void): ModuleHeapGuard | undefined {
  // By the URL of the file the loader ran (Node resolves symlinks: a ConfigMap's keys are symlinks into ..data/), so
  // one file configured under two paths is one module.
  const byUrl = new Map<string, { path: string; strategies: number[] }>();
  config.strategies.forEach((spec, k) => {
    if (!watched[k] || spec.module === undefined) return;
    const url = pathToFileURL(realPath(resolve(spec.module))).href;
    const entry = byUrl.get(url) ?? { path: spec.module, strategies: [] };
    entry.strategies.push(k);
    byUrl.set(url, entry);
  });
  if (byUrl.size === 0) return undefined;
  const modules: GuardedModule[] = [...byUrl].map(([url, { path, strategies }]) => ({ url, label: `module ${path}`, strategies }));
  return new ModuleHeapGuard({
    modules,
    sampler: new InspectorHeapSampler(),
    nowMs: () => performance.now(),
    disable,
    warn: (line) => process.stderr.write(`${line}\n`),
  });
}
