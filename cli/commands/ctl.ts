import { controlCommandByName, sendControl } from '../../engine/control/control-client.ts';
import { ControlStatus } from '../../engine/wire/layout.ts';
import { UsageError, flag, helpText, num, parseArgs, str, type OptionSpec } from '../lib/args.ts';

const options = {
  address: { type: 'string', help: 'engine control socket', default: 'tcp://127.0.0.1:5560' },
  timeout: { type: 'integer', help: 'milliseconds to wait for the answer', default: 5_000 },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const ctlHelp = helpText(
  'nexus ctl <orders-on|orders-off|drain|status> [--address tcp://host:port]',
  'Sends one command to an engine control socket and prints the JSON answer. Exit 0 when the engine\n' +
    'answered Ok, 1 when it refused, 2 on a usage error or no answer.',
  options,
);

const statusNames = ['ok', 'rejected', 'unknown-command', 'malformed'];

export async function ctlCommand(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  const values = parseArgs(name?.startsWith('--') ? argv : rest, options);
  if (flag(values, 'help') || name === undefined || name.startsWith('--')) {
    console.log(ctlHelp);
    return name === undefined ? 2 : 0;
  }
  const command = controlCommandByName[name];
  if (command === undefined) throw new UsageError(`unknown control command ${JSON.stringify(name)} (orders-on, orders-off, drain, status)`);
  const result = await sendControl(str(values, 'address') ?? '', command, num(values, 'timeout'));
  console.log(JSON.stringify({ status: statusNames[result.status] ?? result.status, body: result.body }, null, 2));
  return result.status === ControlStatus.Ok ? 0 : 1;
}
