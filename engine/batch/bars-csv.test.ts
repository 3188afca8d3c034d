import { describe, expect, it } from 'vitest';
import { BarCsvError, parseBarCsv } from './bars-csv.ts';

const header = 'time,open,high,low,close,volume';

function error(text: string): BarCsvError {
  try {
    parseBarCsv(text, 'bars.csv');
  } catch (caught) {
    expect(caught).toBeInstanceOf(BarCsvError);
    return caught as BarCsvError;
  }
  throw new Error(`no BarCsvError for ${JSON.stringify(text)}`);
}

describe('parseBarCsv', () => {
  it('reads bars into Float64Arrays and keeps time as written', () => {
    const table = parseBarCsv(`${header}\n2024-01-02T09:30:00Z,100,102,99,101,1500\n 2024-01-03 , 101.5,103,100,1.025e2,0\n`, 'bars.csv');
    expect(table.count).toBe(2);
    expect(table.time).toEqual(['2024-01-02T09:30:00Z', '2024-01-03']);
    expect([...table.open]).toEqual([100, 101.5]);
    expect([...table.high]).toEqual([102, 103]);
    expect([...table.low]).toEqual([99, 100]);
    expect([...table.close]).toEqual([101, 102.5]);
    expect([...table.volume]).toEqual([1500, 0]);
    expect(table.close).toBeInstanceOf(Float64Array);
    expect(table.ignoredColumns).toEqual([]);
  });

  it('reads the columns in any order, case-insensitively, and lists the ignored ones', () => {
    const table = parseBarCsv('Symbol,Close,volume,LOW,high,open,Time,note\nAAPL,101,7,99,102,100,t1,x\n', 'bars.csv');
    expect(table.time).toEqual(['t1']);
    expect([...table.close]).toEqual([101]);
    expect([...table.volume]).toEqual([7]);
    expect([...table.low]).toEqual([99]);
    expect(table.ignoredColumns).toEqual(['Symbol', 'note']);
  });

  it('accepts CRLF line endings, a byte-order mark, no trailing newline and trailing blank lines', () => {
    for (const text of [
      `${header}\r\nt1,1,2,1,2,3\r\nt2,2,3,2,3,4\r\n`,
      `\ufeff${header}\nt1,1,2,1,2,3\nt2,2,3,2,3,4`,
      `${header}\nt1,1,2,1,2,3\nt2,2,3,2,3,4\n\n  \r\n`,
    ]) {
      const table = parseBarCsv(text, 'bars.csv');
      expect(table.time).toEqual(['t1', 't2']);
      expect([...table.close]).toEqual([2, 3]);
    }
  });

  it('gives 0 bars for a header with no rows and rejects an empty file', () => {
    expect(parseBarCsv(`${header}\n`, 'bars.csv').count).toBe(0);
    expect(parseBarCsv(`${header}\n`, 'bars.csv').time).toEqual([]);
    expect(error('').message).toBe('bars.csv: line 1 (header): the file is empty (expected the header time,open,high,low,close,volume)');
    expect(error('\n\r\n').message).toContain('the file is empty');
  });

  it('accepts zero and negative prices, and open or close outside the high-low range', () => {
    const table = parseBarCsv(`${header}\nt1,-5,0,-1,-3,0\nt2,9,2,1,0.5,1\n`, 'bars.csv');
    expect([...table.close]).toEqual([-3, 0.5]);
  });

  it('names a missing or repeated column in the header', () => {
    const missing = error('time,open,high,low,close\nt1,1,2,1,2\n');
    expect(missing.message).toBe(
      'bars.csv: line 1 (header), column volume: missing (the header needs time,open,high,low,close,volume in any order, got "time,open,high,low,close")',
    );
    expect([missing.line, missing.row, missing.column]).toEqual([1, undefined, 'volume']);
    expect(error('date,open,high,low,close,volume\n').message).toContain('column time: missing');
    expect(error(`${header},Close\n`).message).toBe('bars.csv: line 1 (header), column close: appears twice (cells 5 and 7)');
  });

  it.each([
    ['a word', 't1,1,2,1,abc,3', 'close', 'must be a number, got "abc"'],
    ['NaN', 't1,NaN,2,1,2,3', 'open', 'must be a number, got "NaN"'],
    ['Infinity', 't1,1,Infinity,1,2,3', 'high', 'must be a number, got "Infinity"'],
    ['an overflowing number', 't1,1,2,1e999,2,3', 'low', 'must be finite, got "1e999"'],
    ['hex', 't1,1,2,1,0x10,3', 'close', 'must be a number, got "0x10"'],
    ['an empty cell', 't1,1,2,1,2,', 'volume', 'is empty'],
    ['an empty time', ' ,1,2,1,2,3', 'time', 'is empty'],
    ['high below low', 't1,1,1,2,1.5,3', 'high', 'high (1) is below low (2)'],
    ['a negative volume', 't1,1,2,1,2,-5', 'volume', 'must be >= 0, got -5'],
    ['too few cells', 't1,1,2,1,2', 'volume', 'missing (the row has 5 cells, the header 6)'],
    ['too many cells', 't1,1,2,1,2,3,4', '7', 'the row has 7 cells, the header 6'],
  ])('rejects %s naming the data row, the line and the column', (_what, bad, column, detail) => {
    const caught = error(`${header}\nt0,1,2,1,2,3\n${bad}\nt9,1,2,1,2,3\n`);
    expect(caught.message).toBe(`bars.csv: data row 2 (line 3), column ${column}: ${detail}`);
    expect([caught.row, caught.line, caught.column]).toEqual([2, 3, column]);
  });

  it('rejects a blank line between rows', () => {
    expect(error(`${header}\nt1,1,2,1,2,3\n\nt3,1,2,1,2,3\n`).message).toBe(
      'bars.csv: data row 2 (line 3): the line is blank (blank lines are allowed only at the end)',
    );
  });

  it('counts rows the same with CRLF line endings', () => {
    expect(error(`${header}\r\nt1,1,2,1,2,3\r\nt2,1,2,1,x,3\r\n`).message).toBe('bars.csv: data row 2 (line 3), column close: must be a number, got "x"');
  });
});
