import { describe, expect, it } from 'vitest';
import { TickKind } from '../wire/layout.ts';
import { TickCsvError, parseTickCsv } from './tick-csv.ts';

const header = 'exchange_ts_ns,symbol,kind,price,size';

describe('parseTickCsv', () => {
  it('reads ticks into typed arrays with dense symbol indices', () => {
    const table = parseTickCsv(`${header}\n1000,AAPL,trade,190.5,100\n1001,MSFT,bid,410.1,5\n1002,AAPL,ask,190.6,0\n`, 't.csv');
    expect(table.count).toBe(3);
    expect(table.symbols).toEqual(['AAPL', 'MSFT']);
    expect([...table.symbolIndex]).toEqual([0, 1, 0]);
    expect([...table.kind]).toEqual([TickKind.Trade, TickKind.Bid, TickKind.Ask]);
    expect([...table.price]).toEqual([190.5, 410.1, 190.6]);
    expect([...table.exchangeTsNs]).toEqual([1000, 1001, 1002]);
  });

  it.each([
    ['1000,AAPL,trade,NaN,1', 'row 2, column price'],
    ['1000,AAPL,trade,-1,1', 'row 2, column price'],
    ['1000,AAPL,trade,1,-5', 'row 2, column size'],
    ['1000,AAPL,cross,1,1', 'row 2, column kind'],
    ['x,AAPL,trade,1,1', 'row 2, column exchange_ts_ns'],
    ['1000,AA PL,trade,1,1', 'row 2, column symbol'],
    ['1000,AAPL,trade,1', 'row 2, column all'],
  ])('rejects %s naming %s', (row, where) => {
    expect(() => parseTickCsv(`${header}\n${row}\n`, 't.csv')).toThrow(where);
  });

  it('accepts epoch-nanosecond timestamps above 2^53 and rejects ones of 2^64 or more', () => {
    const table = parseTickCsv(`${header}\n1700000000000000001,AAPL,trade,1,1\n`, 't.csv');
    expect(Math.abs(table.exchangeTsNs[0] - 1_700_000_000_000_000_000)).toBeLessThan(256);
    expect(() => parseTickCsv(`${header}\n18446744073709551616,AAPL,trade,1,1\n`, 't.csv')).toThrow('below 2^64');
    expect(() => parseTickCsv(`${header}\n1.5,AAPL,trade,1,1\n`, 't.csv')).toThrow('row 2, column exchange_ts_ns');
  });

  it('rejects a timestamp going backwards for a symbol and a wrong header', () => {
    expect(() => parseTickCsv(`${header}\n5,A,trade,1,1\n4,A,trade,1,1\n`, 't.csv')).toThrow('row 3, column exchange_ts_ns');
    expect(() => parseTickCsv('time,symbol\n', 't.csv')).toThrow(TickCsvError);
    expect(() => parseTickCsv('', 't.csv')).toThrow('file is empty');
  });
});
