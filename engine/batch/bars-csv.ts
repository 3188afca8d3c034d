/** OHLCV bars read from a CSV file, as parallel Float64Arrays (struct of arrays) ready for the batch backends. */
export interface BarTable {
  readonly count: number;
  /** The `time` cells exactly as written (trimmed of surrounding spaces); never parsed. */
  readonly time: readonly string[];
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  /** Header names of the columns that were present and ignored, in file order. */
  readonly ignoredColumns: readonly string[];
}

export const BAR_CSV_COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;
type BarColumn = (typeof BAR_CSV_COLUMNS)[number];
type NumericColumn = Exclude<BarColumn, 'time'>;
const NUMERIC_COLUMNS: readonly NumericColumn[] = ['open', 'high', 'low', 'close', 'volume'];

/**
 * A bar CSV was rejected. `line` is the 1-based line of the file (the header is line 1); `row` is the 1-based
 * data row (line - 1), undefined for the header; `column` names the column when one is at fault.
 */
export class BarCsvError extends Error {
  constructor(
    readonly origin: string,
    readonly line: number,
    readonly row: number | undefined,
    readonly column: string | undefined,
    detail: string,
  ) {
    const where = row === undefined ? `line ${line} (header)` : `data row ${row} (line ${line})`;
    super(`${origin}: ${where}${column === undefined ? '' : `, column ${column}`}: ${detail}`);
    this.name = 'BarCsvError';
  }
}

/** A plain decimal number as people and spreadsheets write it: no hex, no `Infinity`, no `NaN`, no blanks. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a CSV of bars whose header names the columns `time,open,high,low,close,volume` in any order
 * (matched case-insensitively, surrounding spaces ignored); other columns are ignored and listed in
 * `ignoredColumns`. The whole file is validated before anything is returned, and every error names the data
 * row, the file line and the column:
 *
 * - an empty file (no header) is an error; a header with no rows gives a table of 0 bars;
 * - a missing or repeated required column is an error naming it;
 * - every row has as many cells as the header (cells are split on commas; quoting is not supported);
 * - open, high, low, close and volume are finite decimal numbers (`1e3` is fine; `NaN`, `Infinity`, hex and
 *   blanks are not); prices may be zero or negative (spreads); high >= low; volume >= 0. Open and close are
 *   not checked against the high-low range;
 * - `time` is any non-empty text, kept as written and never parsed or checked for order: rows stay in file order.
 *
 * CRLF or LF line endings, a UTF-8 byte-order mark and trailing blank lines are accepted; a blank line between
 * rows is an error.
 * Example: `time,close,open,high,low,volume,symbol\n2024-01-02,101,100,102,99,1500,AAPL\n` -> 1 bar with
 * close[0] = 101, time[0] = '2024-01-02', ignoredColumns ['symbol'].
 */
export function parseBarCsv(text: string, origin: string): BarTable {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) {
    throw new BarCsvError(origin, 1, undefined, undefined, `the file is empty (expected the header ${BAR_CSV_COLUMNS.join(',')})`);
  }
  const header = lines[0].split(',').map((cell) => cell.trim());
  const columnIndex = headerIndex(header, origin);
  const ignoredColumns = header.filter((name) => !(BAR_CSV_COLUMNS as readonly string[]).includes(name.toLowerCase()));

  const count = lines.length - 1;
  const table = {
    count,
    time: new Array<string>(count),
    open: new Float64Array(count),
    high: new Float64Array(count),
    low: new Float64Array(count),
    close: new Float64Array(count),
    volume: new Float64Array(count),
    ignoredColumns,
  };
  const width = header.length;
  for (let i = 0; i < count; i++) {
    const row = i + 1;
    const line = i + 2;
    const raw = lines[line - 1];
    if (raw.trim() === '') throw new BarCsvError(origin, line, row, undefined, 'the line is blank (blank lines are allowed only at the end)');
    const cells = raw.split(',');
    if (cells.length < width) {
      throw new BarCsvError(origin, line, row, header[cells.length] || `${cells.length + 1}`,
        `missing (the row has ${cells.length} cells, the header ${width})`);
    }
    if (cells.length > width) {
      throw new BarCsvError(origin, line, row, `${width + 1}`, `the row has ${cells.length} cells, the header ${width}`);
    }
    const time = cells[columnIndex.time].trim();
    if (time === '') throw new BarCsvError(origin, line, row, 'time', 'is empty');
    table.time[i] = time;
    for (const column of NUMERIC_COLUMNS) {
      const cell = cells[columnIndex[column]].trim();
      if (cell === '') throw new BarCsvError(origin, line, row, column, 'is empty');
      if (!DECIMAL.test(cell)) throw new BarCsvError(origin, line, row, column, `must be a number, got ${JSON.stringify(cell)}`);
      const value = Number(cell);
      if (!Number.isFinite(value)) throw new BarCsvError(origin, line, row, column, `must be finite, got ${JSON.stringify(cell)}`);
      table[column][i] = value;
    }
    if (table.high[i] < table.low[i]) {
      throw new BarCsvError(origin, line, row, 'high', `high (${table.high[i]}) is below low (${table.low[i]})`);
    }
    if (table.volume[i] < 0) throw new BarCsvError(origin, line, row, 'volume', `must be >= 0, got ${table.volume[i]}`);
  }
  return table;
}

/** Position of each required column in the header; throws naming a missing or repeated one. */
function headerIndex(header: readonly string[], origin: string): Record<BarColumn, number> {
  const found: Partial<Record<BarColumn, number>> = {};
  header.forEach((name, index) => {
    const key = name.toLowerCase() as BarColumn;
    if (!(BAR_CSV_COLUMNS as readonly string[]).includes(key)) return;
    if (found[key] !== undefined) {
      throw new BarCsvError(origin, 1, undefined, key, `appears twice (cells ${found[key] + 1} and ${index + 1})`);
    }
    found[key] = index;
  });
  for (const column of BAR_CSV_COLUMNS) {
    if (found[column] === undefined) {
      throw new BarCsvError(origin, 1, undefined, column,
        `missing (the header needs ${BAR_CSV_COLUMNS.join(',')} in any order, got ${JSON.stringify(header.join(','))})`);
    }
  }
  return found as Record<BarColumn, number>;
}
