import { monoNowNs } from '../../engine/clock/monotonic.ts';
import { loadEngineConfig } from '../../engine/config/load.ts';
import { checkStrategies } from '../../engine/config/engine-config.ts';
import { loadStrategyModules } from '../../engine/strategy/strategy-modules.ts';
import { readControlServerKeys } from '../../engine/control/control-keys.ts';
import { Engine } from '../../engine/app/engine.ts';
import { flag, helpText, parseArgs, str, type OptionSpec } from '../lib/args.ts';

const options = {
  config: { type: 'string', help: 'engine config file (YAML or JSON); else $NEXUS_ENGINE_CONFIG or $NEXUS_ENGINE_CONFIG_INLINE' },
  'control-keys': { type: 'string', help: 'directory with server.key, server.pub and client.pub: the control socket runs CURVE and answers only that client; else $NEXUS_CONTROL_KEYS, else unauthenticated' },
  'state-dir': { type: 'string', help: 'directory for state that outlives the process (the latched cut); else $NEXUS_STATE_DIR, else in memory' },
  'check-config': { type: 'boolean', help: 'validate the config, print it with defaults applied, and exit' },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const engineHelp = helpText(
  'nexus engine [--config PATH]',
  'Runs one trading engine: ZeroMQ market data in, indicators -> strategies -> risk, orders (PUSH) and\n' +
    'signals (PUB) out, Prometheus metrics and /healthz, /readyz over HTTP, and a control socket (REP).\n' +
    'SIGTERM or SIGINT drains: intake stops, every accepted order is published, then the process exits 0.',
  options,
);

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

export async function engineCommand(argv: readonly string[]): Promise<number> {
  const values = parseArgs(argv, options);
  if (flag(values, 'help')) {
    console.log(engineHelp);
    return 0;
  }
  const configPath = str(values, 'config');
  const { config, origin } = loadEngineConfig({ ...(configPath === undefined ? {} : { configPath }), env: process.env });
  // Strategy modules load before anything starts: a module that fails to load, or whose params do not fit it, exits 2.
  await loadStrategyModules(config.strategies);
  checkStrategies(config);
  if (flag(values, 'check-config')) {
    console.log(JSON.stringify(config, null, 2));
    return 0;
  }
  log(`Engine config loaded origin=${origin}`);
  const keysDir = str(values, 'control-keys') ?? nonEmpty(process.env.NEXUS_CONTROL_KEYS);
  const stateDir = str(values, 'state-dir') ?? nonEmpty(process.env.NEXUS_STATE_DIR);
  const engine = new Engine({
    config, clockNs: monoNowNs, log,
    ...(keysDir === undefined ? {} : { controlKeys: readControlServerKeys(keysDir) }),
    ...(stateDir === undefined ? {} : { stateDir }),
  });
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log(`Engine received signal=${signal}, draining`);
      engine.stop().then(
        (report) => {
          if (report.drained && report.ordersUndelivered === 0) return resolve(0);
          log(`Engine exits with code 3: ${report.ordersUndelivered} accepted orders were not delivered to a connected gateway`);
          resolve(3);
        },
        (error: unknown) => {
          log(`Engine stop failed error="${String(error)}"`);
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  await engine.start();
  return stopped;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
