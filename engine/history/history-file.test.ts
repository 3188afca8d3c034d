import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { historyAlignment, HistoryError, loadHistory } from './history-file.ts';
import { standardIndicators } from '../config/presets.ts';

const dir = mkdtempSync(join(tmpdir(), 'nexus-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = {
  symbols: ['AAPL', 'MSFT'],
  indicators: [
    { name: 'sma-3', type: 'sma', params: { period: 3 } },
    { name: 'rsi-4', type: 'rsi', params: { period: 4 } },
  ],
};
const settings = (path: string) => ({ path, maxTradesPerSymbol: 100, strategyReplayTrades: 2, onError: 'fail' as const });

function file(name: string, rows: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, ['exchange_ts_ns,symbol,kind,price,size', ...rows].join('\n'));
  return path;
}

describe('loadHistory', () => {
  it('aligns the cut on the windowed indicators\' re-summation period, when it fits', () => {
    expect(historyAlignment({ indicators: standardIndicators }, 100_000)).toBe(1024);
    expect(historyAlignment({ indicators: standardIndicators }, 1_000)).toBe(0); // would overshoot the limit
    expect(historyAlignment(config, 100_000)).toBe(1024); // sma-3
    expect(historyAlignment({ indicators: [{ name: 'e', type: 'ema', params: { period: 5 } }] }, 100_000)).toBe(0); // recursions only
  });

  it('reads and arranges a good file', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => `${i + 1},${i % 2 === 0 ? 'AAPL' : 'MSFT'},trade,${100 + i},1`);
    const loaded = await loadHistory(settings(file('good.csv', rows)), config);
    expect(loaded.shortage).toBeUndefined();
    expect([...loaded.history.tradeStart]).toEqual([0, 6, 12]);
  });

  it('names a short symbol and how many trades it has', async () => {
    const rows = [...Array.from({ length: 6 }, (_, i) => `${i + 1},AAPL,trade,${100 + i},1`), '9,MSFT,trade,50,1'];
    const loaded = await loadHistory(settings(file('short.csv', rows)), config);
    expect(loaded.shortage).toBe('1 symbol(s) have fewer trades than the 5 the indicators need to be stable: MSFT has 1');
  });

  it('names the file, row and column of a bad row', async () => {
    const path = file('bad.csv', ['1,AAPL,trade,100,1', '2,AAPL,trade,-3,1']);
    const error = await loadHistory(settings(path), config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryError);
    expect((error as Error).message).toBe(`history ${path}: row 3, column price: must be a finite number > 0, got "-3"`);
  });

  it('names a file that cannot be read', async () => {
    const path = join(dir, 'missing.csv');
    await expect(loadHistory(settings(path), config)).rejects.toThrow(new RegExp(`^history ${path}: cannot be read: ENOENT`));
  });
});
