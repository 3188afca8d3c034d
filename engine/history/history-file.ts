import { readFile } from 'node:fs/promises';
import type { EngineConfig, HistoryConfig } from '../config/engine-config.ts';
import { leastCommonMultiple, type StreamingIndicator } from '../indicators/indicator.ts';
import { createIndicator, longestWarmup } from '../indicators/registry.ts';
import { parseTickCsv, TickCsvError } from '../sim/tick-csv.ts';
import { arrangeHistory, historyTrades, type HistoryTrades, type TradeHistory } from './trade-history.ts';

/**
 * The warm start's one outside boundary: reads the history file the config names and arranges it for the engine
 * (trade-history.ts). Every problem is a HistoryError that names the file and, for a bad row, its row and column
 * (TickCsvError's numbering: the header is row 1); the engine then fails to start or starts cold, as
 * `history.onError` says.
 */
export class HistoryError extends Error {
  constructor(readonly origin: string, detail: string) {
    super(`history ${origin}: ${detail}`);
    this.name = 'HistoryError';
  }
}

/**
 * The configured indicators' common replay alignment (the least common multiple of the windowed ones'), where a
 * symbol's used trades may begin so the windowed indicators end exactly as after the whole file; 0 when none is
 * windowed, or when it exceeds `maxTradesPerSymbol` (the cut is then exact and those indicators converge instead).
 */
export function historyAlignment(config: Pick<EngineConfig, 'indicators'>, maxTradesPerSymbol: number): number {
  let alignment = 0;
  for (const indicator of indicatorsOf(config)) {
    if (indicator.replayAlignment === 0) continue;
    alignment = alignment === 0 ? indicator.replayAlignment : leastCommonMultiple(alignment, indicator.replayAlignment);
  }
  return alignment <= maxTradesPerSymbol ? alignment : 0;
}

function indicatorsOf(config: Pick<EngineConfig, 'indicators'>): StreamingIndicator[] {
  return config.indicators.map((spec, i) => createIndicator({ type: spec.type, params: { ...spec.params } }, `indicators[${i}]`));
}

/** What loading found: the history, and the symbols it leaves short (a problem only under onError fail). */
export interface LoadedHistory {
  readonly history: TradeHistory;
  /** Every trade of the configured symbols in file order, when asked for (the scans' bars are built from them). */
  readonly trades?: HistoryTrades;
  /** One line on the short symbols, or undefined when every symbol has enough trades. */
  readonly shortage?: string;
}

/**
 * Reads and arranges `settings.path` for `config`'s symbols, and with `withTrades` also lists every trade in file
 * order (for the scans' bars). Throws HistoryError when the file cannot be read or has a bad row; a short symbol
 * is reported in `shortage` (the caller decides, by onError).
 */
export async function loadHistory(
  settings: HistoryConfig, config: Pick<EngineConfig, 'symbols' | 'indicators'>, withTrades = false,
): Promise<LoadedHistory> {
  let text: string;
  try {
    text = await readFile(settings.path, 'utf8');
  } catch (error) {
    throw new HistoryError(settings.path, `cannot be read: ${(error as Error).message}`);
  }
  let table;
  try {
    table = parseTickCsv(text, settings.path);
  } catch (error) {
    // TickCsvError reads "<origin>: row R, column C: <detail>"; keep all but the origin, which HistoryError adds.
    if (error instanceof TickCsvError) throw new HistoryError(settings.path, error.message.slice(error.origin.length + 2));
    throw error;
  }
  const history = arrangeHistory(table, config.symbols, settings.path, {
    history: settings, requiredTrades: longestWarmup(config.indicators), alignment: historyAlignment(config, settings.maxTradesPerSymbol),
  });
  const trades = withTrades ? { trades: historyTrades(table, config.symbols) } : {};
  if (history.shortSymbols.length === 0) return { history, ...trades };
  const listed = history.shortSymbols.slice(0, 5).map((s) => `${s.symbol} has ${s.trades}`).join(', ');
  const more = history.shortSymbols.length > 5 ? ` and ${history.shortSymbols.length - 5} more` : '';
  return {
    history,
    ...trades,
    shortage: `${history.shortSymbols.length} symbol(s) have fewer trades than the ${history.requiredTrades} the indicators need to be stable: ${listed}${more}`,
  };
}
