import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probeConfig } from '../../test/support/engine-config.ts';
import { marketTicks, recordingProcessor, streamedSinceOpen, type RecordingProcessor } from '../../test/support/history.ts';
import { longestWarmup } from '../indicators/registry.ts';
import { arrangeHistory } from '../history/trade-history.ts';
import { loadStrategyModules } from '../strategy/strategy-modules.ts';
import type { TickTable } from '../sim/tick-csv.ts';
import { TickKind } from '../wire/layout.ts';
import { warmStart } from './warm-start.ts';
import { jsWarmStates } from '../indicators/warm-state.ts';
import { openWasmWarmStates } from '../batch/wasm-warm-states.ts';

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG', 'META'];

// The demo's strategies, each remembering something per symbol (the previous histogram, the previous regime) or
// reading the position, on the eight standard indicators, and a module whose decisions depend on a symbol's last
// four trades: the strategy replay has to rebuild its state for the first live trades to decide the same.
const config = probeConfig({
  symbols: SYMBOLS,
  strategies: [
    { name: 'macd-cross', type: 'macdCross', indicators: ['macd'], params: { orderQuantity: 10 } },
    { name: 'rsi-reversion', type: 'rsiReversion', indicators: ['rsi-14'], params: { orderQuantity: 5, oversold: 40, overbought: 60 } },
    { name: 'bb-breakout', type: 'bollingerBreakout', indicators: ['bb-20'], params: { orderQuantity: 5 } },
    { name: 'uptick-runs', module: fileURLToPath(new URL('../strategy/fixtures/uptick-runs.mjs', import.meta.url)), params: { orderQuantity: 1 } },
  ],
});
await loadStrategyModules(config.strategies);

// 30,000 ticks of history, then 1,500 live ones (about 1,000 trades) from the same market.
const market = marketTicks(SYMBOLS, 31_500, 3);
const HISTORY_TICKS = 30_000;
const history = slice(market, 0, HISTORY_TICKS);

function slice(table: TickTable, from: number, to: number): TickTable {
  return {
    symbols: table.symbols,
    count: to - from,
    symbolIndex: table.symbolIndex.subarray(from, to),
    kind: table.kind.subarray(from, to),
    price: table.price.subarray(from, to),
    size: table.size.subarray(from, to),
    exchangeTsNs: table.exchangeTsNs.subarray(from, to),
  };
}

/** Feeds the live ticks to every processor, comparing every indicator output after each trade, bit for bit. */
function runLive(processors: readonly RecordingProcessor[], reference: RecordingProcessor, owner: (symbol: number) => number = () => 0): void {
  for (let i = HISTORY_TICKS; i < market.count; i++) {
    const s = market.symbolIndex[i];
    reference.tick(s, market.kind[i], market.price[i], market.size[i]);
    const target = processors[owner(s)];
    target.tick(s, market.kind[i], market.price[i], market.size[i]);
    if (market.kind[i] !== TickKind.Trade) continue;
    const expected = reference.processor.indicatorOutputs(s);
    const actual = target.processor.indicatorOutputs(s);
    for (let k = 0; k < expected.length; k++) {
      if (!Object.is(actual[k], expected[k])) throw new Error(`tick ${i}, ${SYMBOLS[s]}: indicator output ${k} is ${actual[k]}, streamed ${expected[k]}`);
    }
  }
}

describe('warmStart: a processor seeded from history decides as one that streamed it', () => {
  const settings = { maxTradesPerSymbol: 3_000, strategyReplayTrades: 20 };
  const arranged = arrangeHistory(history, SYMBOLS, 'memory', { history: settings, requiredTrades: longestWarmup(config.indicators) });

  const kernelSets = [
    { name: 'js', open: () => Promise.resolve(jsWarmStates) },
    { name: 'wasm', open: () => openWasmWarmStates() },
  ] as const;
  it.each(kernelSets)('on $name kernels: gives the same indicator values on every live trade and the same orders on the next ~1,000 trades', async ({ name, open }) => {
    const reference = streamedSinceOpen(config, history, settings.maxTradesPerSymbol);
    const warm = recordingProcessor(config);
    const report = warmStart(warm.processor, arranged, () => true, () => 0, { kernels: await open(), reason: 'test' });
    expect(report).toMatchObject({ symbols: SYMBOLS.length, backend: name, backendReason: 'test' });
    expect(report.seededTrades).toBeGreaterThan(10_000);
    expect(report.replayedTicks).toBeGreaterThanOrEqual(SYMBOLS.length * settings.strategyReplayTrades);
    // Nothing from the history reached the sink, the counters or the risk engine's positions.
    expect(warm.orders).toEqual([]);
    expect(warm.counters.tradesProcessed + warm.counters.quotesProcessed + warm.counters.ordersAccepted).toBe(0);
    expect([...warm.positions]).toEqual(SYMBOLS.map(() => 0));

    runLive([warm], reference);
    expect(reference.orders.length).toBeGreaterThan(20);
    expect(warm.orders).toEqual(reference.orders);
  });

  it('needs the strategy replay: without it, a strategy\'s memory of the last trades is missing', () => {
    const unreplayed = arrangeHistory(history, SYMBOLS, 'memory', {
      history: { ...settings, strategyReplayTrades: 0 }, requiredTrades: longestWarmup(config.indicators),
    });
    const reference = streamedSinceOpen(config, history, settings.maxTradesPerSymbol);
    const warm = recordingProcessor(config);
    warmStart(warm.processor, unreplayed, () => true, () => 0);
    runLive([warm], reference); // the indicators still agree, bit for bit
    expect(warm.orders).not.toEqual(reference.orders);
  });

  it('is what tells it apart from a cold start, which decides differently on the same ticks', () => {
    const reference = streamedSinceOpen(config, history, settings.maxTradesPerSymbol);
    const cold = recordingProcessor(config);
    for (let i = HISTORY_TICKS; i < market.count; i++) {
      reference.tick(market.symbolIndex[i], market.kind[i], market.price[i], market.size[i]);
      cold.tick(market.symbolIndex[i], market.kind[i], market.price[i], market.size[i]);
    }
    expect(cold.orders).not.toEqual(reference.orders);
  });

  it('keeps a strategy\'s times on the live clock: a cooldown set during the replay holds against live times', async () => {
    const timed = probeConfig({
      symbols: SYMBOLS,
      strategies: [{ name: 'cooldown', module: fileURLToPath(new URL('../strategy/fixtures/cooldown.mjs', import.meta.url)), params: { orderQuantity: 1 } }],
    });
    await loadStrategyModules(timed.strategies);
    const live = 5e15; // the live clock's reading when the warm start runs
    const lastTs = market.exchangeTsNs[HISTORY_TICKS - 1];
    const timeOf = (row: number): number => live - (lastTs - market.exchangeTsNs[row]);
    const reference = streamedSinceOpen(timed, history, settings.maxTradesPerSymbol, timeOf);
    const warm = recordingProcessor(timed);
    warmStart(warm.processor, arrangeHistory(history, SYMBOLS, 'memory', { history: settings, requiredTrades: 0 }), () => true, () => live);
    for (let i = HISTORY_TICKS; i < market.count; i++) {
      reference.tick(market.symbolIndex[i], market.kind[i], market.price[i], market.size[i], timeOf(i));
      warm.tick(market.symbolIndex[i], market.kind[i], market.price[i], market.size[i], timeOf(i));
    }
    expect(reference.orders.length).toBeGreaterThan(20);
    expect(warm.orders).toEqual(reference.orders);
  });

  it('replays every symbol from one row: a strategy reading another symbol\'s price and book rebuilds the same memory', async () => {
    const pairs = probeConfig({
      symbols: SYMBOLS,
      strategies: [{ name: 'spread', module: fileURLToPath(new URL('../strategy/fixtures/spread-to-first.mjs', import.meta.url)), params: { orderQuantity: 1 } }],
    });
    await loadStrategyModules(pairs.strategies);
    const short = { maxTradesPerSymbol: 3_000, strategyReplayTrades: 2 };
    const reference = streamedSinceOpen(pairs, history, short.maxTradesPerSymbol);
    const warm = recordingProcessor(pairs);
    warmStart(warm.processor, arrangeHistory(history, SYMBOLS, 'memory', { history: short, requiredTrades: 0 }), () => true, () => 0);
    runLive([warm], reference);
    expect(reference.orders.length).toBeGreaterThan(20);
    expect(warm.orders).toEqual(reference.orders);
  });

  it('warms each shard of a workers layout on its own from the one history', () => {
    const reference = streamedSinceOpen(config, history, settings.maxTradesPerSymbol);
    const shards = [recordingProcessor(config), recordingProcessor(config)];
    const reports = shards.map((shard, w) => warmStart(shard.processor, arranged, (s) => s % 2 === w, () => 0));
    expect(reports.map((r) => r.symbols)).toEqual([3, 3]);
    runLive(shards, reference, (s) => s % 2);
    const merged = [...shards[0].orders, ...shards[1].orders];
    const bySymbol = (orders: typeof merged) => SYMBOLS.map((_, s) => orders.filter((o) => o.symbolIndex === s));
    expect(bySymbol(merged)).toEqual(bySymbol(reference.orders));
  });

  it('uses only each symbol\'s last maxTradesPerSymbol trades, as an engine that opened that late', () => {
    const short = { maxTradesPerSymbol: 400, strategyReplayTrades: 400 };
    const shortHistory = arrangeHistory(history, SYMBOLS, 'memory', { history: short, requiredTrades: longestWarmup(config.indicators) });
    const reference = streamedSinceOpen(config, history, short.maxTradesPerSymbol);
    const warm = recordingProcessor(config);
    const report = warmStart(warm.processor, shortHistory, () => true, () => 0);
    expect(report.seededTrades).toBe(0); // every used trade replayed through the strategies
    runLive([warm], reference);
    expect(warm.orders).toEqual(reference.orders);
  });
});
