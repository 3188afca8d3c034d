import { readFileSync } from 'node:fs';
import { runBacktest, type BacktestBook, type BacktestResult } from '../../engine/backtest/backtest.ts';
import { checkStrategies } from '../../engine/config/engine-config.ts';
import { loadEngineConfig } from '../../engine/config/load.ts';
import { parseTickCsv } from '../../engine/sim/tick-csv.ts';
import { loadStrategyModules } from '../../engine/strategy/strategy-modules.ts';
import { flag, helpText, parseArgs, str, UsageError, type OptionSpec } from '../lib/args.ts';

const options = {
  config: { type: 'string', help: 'engine config file (YAML or JSON): symbols, indicators, strategies (built in or modules), risk' },
  ticks: { type: 'string', help: 'tick CSV (exchange_ts_ns,symbol,kind,price,size), the format nexus feed --replay reads' },
  json: { type: 'boolean', help: 'print the result as one JSON document instead of a summary' },
  orders: { type: 'boolean', help: 'include every order in the JSON output' },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const backtestHelp = helpText(
  'nexus backtest --config ENGINE.yaml --ticks TICKS.csv [--json] [--orders]',
  'Replays a tick CSV through the engine\'s own pipeline (intake, indicators, strategies, risk, order encoding) and\n' +
    'fills every accepted order at its limit price (docs/backtest.md). Reports orders, position and PnL per symbol\n' +
    'and per strategy, the pipeline\'s cost per tick, and a SHA-256 of the order frames: the same input always gives\n' +
    'byte-identical orders. Strategy modules load as in a live engine; a bad row or module exits 2 naming it.',
  options,
);

export async function backtestCommand(argv: readonly string[]): Promise<number> {
  const values = parseArgs(argv, options);
  if (flag(values, 'help')) {
    console.log(backtestHelp);
    return 0;
  }
  const configPath = str(values, 'config');
  const ticksPath = str(values, 'ticks');
  if (configPath === undefined) throw new UsageError('--config is required (the engine configuration to test)');
  if (ticksPath === undefined) throw new UsageError('--ticks is required (a tick CSV)');
  const { config } = loadEngineConfig({ configPath, env: {} });
  await loadStrategyModules(config.strategies);
  checkStrategies(config);
  let text: string;
  try {
    text = readFileSync(ticksPath, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --ticks ${ticksPath}: ${(error as Error).message}`);
  }
  const ticks = parseTickCsv(text, ticksPath);
  const result = runBacktest({ config, ticks, keepOrders: flag(values, 'orders') });
  console.log(flag(values, 'json') ? JSON.stringify(result) : summary(result));
  return 0;
}

/** The human summary: one line per symbol and per strategy, then the totals and the cost. */
export function summary(result: BacktestResult): string {
  const line = (name: string, book: BacktestBook): string =>
    `  ${name.padEnd(16)} orders ${String(book.orders).padStart(7)}  buys ${String(book.buys).padStart(7)}  sells ${String(book.sells).padStart(7)}  position ${String(book.position).padStart(8)}  pnl ${book.pnl.toFixed(2).padStart(12)}`;
  const skipped = Object.entries(result.ticksSkipped);
  return [
    `Replayed ${result.ticks} ticks (${result.trades} trades, ${result.quotes} quotes) in ${result.elapsedMs.toFixed(0)} ms: ${result.nsPerTick.toFixed(0)} ns per tick, ${Math.round(result.ticksPerSecond)} ticks/s`,
    ...(skipped.length === 0 ? [] : [`Skipped ticks of symbols the configuration does not trade: ${skipped.map(([symbol, n]) => `${symbol} ${n}`).join(', ')}`]),
    'By symbol:',
    ...Object.entries(result.bySymbol).map(([symbol, book]) => line(symbol, book)),
    'By strategy:',
    ...Object.entries(result.byStrategy).map(([strategy, book]) => line(strategy, book)),
    line('total', result.total),
    `Orders denied by risk ${result.ordersDenied}, strategy faults ${result.strategyFaults}, ticks rejected ${result.ticksRejected}`,
    ...result.faults.map((fault) => `Strategy ${fault.strategy} (${fault.origin}) disabled: ${fault.reason}`),
    `Orders SHA-256 ${result.ordersSha256}`,
  ].join('\n');
}
