import { TickKind } from '../wire/layout.ts';

/** Ticks read from a CSV file, as parallel typed arrays (struct of arrays) ready to replay without allocating. */
export interface TickTable {
  readonly symbols: readonly string[];
  readonly count: number;
  readonly symbolIndex: Int32Array;
  readonly kind: Uint8Array;
  readonly price: Float64Array;
  readonly size: Float64Array;
  readonly exchangeTsNs: Float64Array;
}

export const TICK_CSV_HEADER = ['exchange_ts_ns', 'symbol', 'kind', 'price', 'size'] as const;
const kindByName: Readonly<Record<string, number>> = { trade: TickKind.Trade, bid: TickKind.Bid, ask: TickKind.Ask };

/** A row of the CSV was rejected; `row` is 1-based counting the header as row 1, as a spreadsheet shows it. */
export class TickCsvError extends Error {
  constructor(readonly origin: string, readonly row: number, readonly column: string, detail: string) {
    super(`${origin}: row ${row}, column ${column}: ${detail}`);
    this.name = 'TickCsvError';
  }
}

/**
 * Parses a tick CSV (header `exchange_ts_ns,symbol,kind,price,size`; kind is trade, bid or ask). The whole file
 * is validated before anything is replayed, so a bad row stops the replay up front with its row and column
 * named instead of publishing half a file. Prices must be finite and > 0, sizes finite and >= 0, timestamps
 * non-negative integers below 2^64 (epoch nanoseconds are fine; held to within 256 ns) that never go backwards
 * for a symbol.
 */
export function parseTickCsv(text: string, origin: string): TickTable {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new TickCsvError(origin, 1, 'header', 'file is empty');
  const header = lines[0].split(',').map((cell) => cell.trim());
  if (header.join(',') !== TICK_CSV_HEADER.join(',')) {
    throw new TickCsvError(origin, 1, 'header', `expected "${TICK_CSV_HEADER.join(',')}", got "${lines[0]}"`);
  }
  const count = lines.length - 1;
  const table = {
    symbols: [] as string[],
    count,
    symbolIndex: new Int32Array(count),
    kind: new Uint8Array(count),
    price: new Float64Array(count),
    size: new Float64Array(count),
    exchangeTsNs: new Float64Array(count),
  };
  const indexOf = new Map<string, number>();
  const lastTs: number[] = [];
  for (let i = 0; i < count; i++) {
    const row = i + 2;
    const cells = lines[i + 1].split(',').map((cell) => cell.trim());
    if (cells.length !== TICK_CSV_HEADER.length) {
      throw new TickCsvError(origin, row, 'all', `expected ${TICK_CSV_HEADER.length} cells, got ${cells.length}`);
    }
    const [tsText, symbol, kindText, priceText, sizeText] = cells;
    // Epoch nanoseconds (~1.7e18) exceed 2^53: accept any u64 written as digits, held as the nearest double
    // (within 256 ns), exactly as the wire's u64 reader does.
    const ts = Number(tsText);
    if (!/^\d{1,20}$/.test(tsText) || ts >= 2 ** 64) {
      throw new TickCsvError(origin, row, 'exchange_ts_ns', `must be a non-negative integer below 2^64 (nanoseconds), got "${tsText}"`);
    }
    if (!/^[A-Za-z0-9._:/-]{1,32}$/.test(symbol)) {
      throw new TickCsvError(origin, row, 'symbol', `must be 1-32 characters of A-Z a-z 0-9 . _ : / -, got "${symbol}"`);
    }
    const kind = kindByName[kindText.toLowerCase()];
    if (kind === undefined) throw new TickCsvError(origin, row, 'kind', `must be trade, bid or ask, got "${kindText}"`);
    const price = Number(priceText);
    if (priceText === '' || !Number.isFinite(price) || price <= 0) {
      throw new TickCsvError(origin, row, 'price', `must be a finite number > 0, got "${priceText}"`);
    }
    const size = Number(sizeText);
    if (sizeText === '' || !Number.isFinite(size) || size < 0) {
      throw new TickCsvError(origin, row, 'size', `must be a finite number >= 0, got "${sizeText}"`);
    }
    let symbolIndex = indexOf.get(symbol);
    if (symbolIndex === undefined) {
      symbolIndex = table.symbols.length;
      indexOf.set(symbol, symbolIndex);
      table.symbols.push(symbol);
      lastTs.push(0);
    }
    if (ts < lastTs[symbolIndex]) {
      throw new TickCsvError(origin, row, 'exchange_ts_ns', `goes backwards for ${symbol} (${ts} < ${lastTs[symbolIndex]})`);
    }
    lastTs[symbolIndex] = ts;
    table.symbolIndex[i] = symbolIndex;
    table.kind[i] = kind;
    table.price[i] = price;
    table.size[i] = size;
    table.exchangeTsNs[i] = ts;
  }
  return table;
}
