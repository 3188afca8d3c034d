#!/usr/bin/env node
import { ConfigError } from '../engine/config-error.ts';
import { StrategyModuleError } from '../engine/strategy/strategy-modules.ts';
import { HistoryError } from '../engine/history/history-file.ts';
import { writeTerminationMessage } from '../engine/termination-message.ts';
import { TickCsvError } from '../engine/sim/tick-csv.ts';
import { UsageError } from './lib/args.ts';
import { clusterCommand } from './commands/cluster.ts';
import { ctlCommand } from './commands/ctl.ts';
import { demoCommand } from './commands/engine-demo.ts';
import { engineCommand } from './commands/engine.ts';
import { feedCommand } from './commands/feed.ts';
import { sinkCommand } from './commands/sink.ts';

const commands: Record<string, { run: (argv: readonly string[]) => Promise<number>; summary: string }> = {
  demo: { run: async (argv) => (await import('./commands/demo.ts')).rolloutDemoCommand(argv), summary: 'the product locally: control plane, operator, engines; a healthy v2 promoted, a slow v3 rolled back; ends by itself' },
  'engine-demo': { run: demoCommand, summary: 'run a feed, an engine and an order sink locally, with a live view; ends by itself' },
  engine: { run: engineCommand, summary: 'run a trading engine (what each TradingEngine pod runs)' },
  feed: { run: feedCommand, summary: 'market-data simulator or CSV replayer over ZeroMQ PUB' },
  sink: { run: sinkCommand, summary: 'receive orders (PULL) and signals (SUB), print counts and latency' },
  ctl: { run: ctlCommand, summary: 'send orders-on | orders-off | drain | status to an engine control socket' },
  strategy: { run: async (argv) => (await import('./commands/strategy.ts')).strategyCommand(argv), summary: 'init NAME: scaffold a strategy project on the SDK (module, test, backtest data, Dockerfile, TradingEngine)' },
  backtest: { run: async (argv) => (await import('./commands/backtest.ts')).backtestCommand(argv), summary: 'replay a tick CSV through the engine pipeline with its strategies (built in or modules); orders, fills, PnL' },
  indicators: { run: async (argv) => (await import('./commands/indicators.ts')).indicatorsCommand(argv), summary: 'compute indicators over a CSV of bars (sma:20,macd:12:26:9,...) and write CSV or JSON' },
  // Loaded on demand: the engine and the other commands never load the Kubernetes client.
  operator: { run: async (argv) => (await import('./commands/operator.ts')).operatorCommand(argv), summary: 'run the TradingEngine operator against a cluster (kubeconfig or in-cluster)' },
  rollout: { run: async (argv) => (await import('./commands/rollout.ts')).rolloutCommand(argv), summary: 'status | watch | history | promote | abort | retry | pause | resume | undo <name>, list [-A]: inspect and steer rollouts' },
  cluster: { run: clusterCommand, summary: 'development: a real local Kubernetes control plane and node agent (up, until Ctrl-C)' },
  dashboard: { run: async (argv) => (await import('./commands/dashboard.ts')).dashboardCommand(argv), summary: 'the rollout dashboard in your browser, on loopback, with your kubeconfig: engines, live latency chart, actions' },
  completion: { run: async (argv) => (await import('./commands/completion.ts')).completionCommand(argv), summary: 'bash | zsh: print a shell completion script (commands, rollout subcommands and flags, TradingEngine names)' },
};

function usage(): string {
  const lines = ['Usage: nexus <command> [options]   (nexus <command> --help for its options)', '', 'Commands:'];
  for (const [name, command] of Object.entries(commands)) lines.push(`  ${name.padEnd(12)} ${command.summary}`);
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  // The shell completion scripts' question (cli/commands/completion.ts); not listed in the usage.
  if (name === '__complete') return (await import('./commands/completion.ts')).completeCommand(rest, Object.keys(commands));
  const command = commands[name];
  if (command === undefined) {
    console.error(`nexus: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`nexus ${name}: ${error.message}`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof StrategyModuleError || error instanceof HistoryError) {
      const message = error instanceof ConfigError ? `invalid configuration: ${error.message}` : error.message;
      console.error(`nexus ${name}: ${message}`);
      // In a pod, the reason Kubernetes (and the operator) shows for the engine container's exit.
      if (name === 'engine') writeTerminationMessage(message);
      return 2;
    }
    if (error instanceof TickCsvError) {
      console.error(`nexus ${name}: ${error.message}`);
      return 2;
    }
    console.error(`nexus ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Sockets are closed by each command; exit explicitly so a stray handle never keeps a finished command alive.
  setTimeout(() => process.exit(code), 100).unref();
});
