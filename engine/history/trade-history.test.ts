import { describe, expect, it } from 'vitest';
import { parseTickCsv } from '../sim/tick-csv.ts';
import { TickKind } from '../wire/layout.ts';
import { arrangeHistory } from './trade-history.ts';

const csv = [
  'exchange_ts_ns,symbol,kind,price,size',
  '1,AAPL,bid,9.9,5', // before AAPL's replay: its starting book
  '2,AAPL,trade,10,1',
  '3,MSFT,trade,20,2',
  '4,AAPL,trade,11,3',
  '5,ZZZZ,trade,99,1', // not traded by this engine
  '6,AAPL,ask,11.2,4', // still before AAPL's replay, which is its last trade (row 8): its starting book too
  '7,MSFT,trade,21,4',
  '8,AAPL,trade,12,5',
  '9,AAPL,bid,11.9,6', // inside AAPL's replay
  '10,MSFT,trade,22,6',
].join('\n');

describe('arrangeHistory', () => {
  const table = parseTickCsv(csv, 'h.csv');

  it('keeps each symbol\'s last trades, seeds all but the replayed ones and replays those in file order with their quotes', () => {
    const history = arrangeHistory(table, ['MSFT', 'AAPL', 'NVDA'], 'h.csv', {
      history: { maxTradesPerSymbol: 2, strategyReplayTrades: 1 }, requiredTrades: 2,
    });
    // MSFT (index 0): trades 21, 22 of 20, 21, 22; AAPL (1): 11, 12; NVDA (2): none.
    expect([...history.tradeStart]).toEqual([0, 2, 4, 4]);
    expect([...history.prices]).toEqual([21, 22, 11, 12]);
    expect([...history.sizes]).toEqual([4, 6, 3, 5]);
    expect([...history.seedEnd]).toEqual([1, 3, 4]);
    expect([...history.bids]).toEqual([0, 9.9, 0]);
    expect([...history.asks]).toEqual([0, 11.2, 0]);
    const replay = history.replay;
    expect(replay.count).toBe(3);
    expect([...replay.symbolIndex]).toEqual([1, 1, 0]);
    expect([...replay.kind]).toEqual([TickKind.Trade, TickKind.Bid, TickKind.Trade]);
    expect([...replay.price]).toEqual([12, 11.9, 22]);
    expect([...replay.exchangeTsNs]).toEqual([8, 9, 10]);
    expect(history.ignoredSymbols).toEqual(['ZZZZ']);
    expect(history.shortSymbols).toEqual([{ symbol: 'NVDA', trades: 0 }]);
    expect(history.prices.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('replays nothing with strategyReplayTrades 0: every quote only sets the book', () => {
    const history = arrangeHistory(table, ['AAPL', 'MSFT'], 'h.csv', {
      history: { maxTradesPerSymbol: 100, strategyReplayTrades: 0 }, requiredTrades: 3,
    });
    expect([...history.tradeStart]).toEqual([0, 3, 6]);
    expect([...history.seedEnd]).toEqual([3, 6]);
    expect(history.replay.count).toBe(0);
    expect([...history.bids]).toEqual([11.9, 0]);
    expect([...history.asks]).toEqual([11.2, 0]);
    expect(history.shortSymbols).toEqual([]);
  });

  it('starts the replay for every symbol at once, at the earliest of their last trades, so prices and books agree', () => {
    // QUIET's last trade comes early: from its row on, BUSY's trades are replayed too, more than strategyReplayTrades.
    const rows = ['exchange_ts_ns,symbol,kind,price,size', '1,BUSY,trade,1,1', '2,QUIET,trade,50,1', '3,BUSY,trade,2,1', '4,BUSY,bid,1.9,1', '5,BUSY,trade,3,1', '6,BUSY,trade,4,1'];
    const history = arrangeHistory(parseTickCsv(rows.join('\n'), 'q.csv'), ['BUSY', 'QUIET'], 'q.csv', {
      history: { maxTradesPerSymbol: 100, strategyReplayTrades: 1 }, requiredTrades: 1,
    });
    expect([...history.seedEnd]).toEqual([1, 4]); // BUSY: only its first trade is seeded; QUIET: none
    expect([...history.replay.price]).toEqual([50, 2, 1.9, 3, 4]);
    expect([...history.replay.symbolIndex]).toEqual([1, 0, 0, 0, 0]);
  });

  it('moves a symbol\'s first used trade back to a multiple of the indicators\' alignment', () => {
    const rows = ['exchange_ts_ns,symbol,kind,price,size', ...Array.from({ length: 10 }, (_, i) => `${i + 1},A,trade,${10 + i},1`)];
    const table = parseTickCsv(rows.join('\n'), 'a.csv');
    const cut = (alignment: number) => arrangeHistory(table, ['A'], 'a.csv', { history: { maxTradesPerSymbol: 3, strategyReplayTrades: 0 }, requiredTrades: 1, alignment });
    expect([...cut(0).prices]).toEqual([17, 18, 19]); // the last 3
    expect([...cut(4).prices]).toEqual([14, 15, 16, 17, 18, 19]); // from trade 4, a multiple of 4
  });
});
