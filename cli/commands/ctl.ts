import { controlCommandByName, sendControl } from '../../engine/control/control-client.ts';
import { readControlClientKeys } from '../../engine/control/control-keys.ts';
import { ControlStatus } from '../../engine/wire/layout.ts';
import { UsageError, flag, helpText, num, parseArgs, str, type OptionSpec } from '../lib/args.ts';

const options = {
  address: { type: 'string', help: 'engine control socket', default: 'tcp://127.0.0.1:5560' },
  keys: { type: 'string', help: 'directory with server.pub, client.pub and client.key, the data of the Secret ENGINE-control (docs/wire.md shows the kubectl commands); without it, no CURVE' },
  timeout: { type: 'integer', help: 'milliseconds to wait for the answer', default: 5_000 },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const ctlHelp = helpText(
  `nexus ctl <${Object.keys(controlCommandByName).join('|')}> [--address tcp://host:port] [--keys DIR]`,
  'Sends one command to an engine control socket and prints the JSON answer. Exit 0 when the engine\n' +
    'answered Ok, 1 when it refused, 2 on a usage error or no answer. An engine the operator runs answers only\n' +
    'its CURVE client: --keys names the keys from its <engine>-control Secret. `cut` is the latched orders-off an\n' +
    'abort sends (orders-on is refused until `unlatch`).',
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
  if (command === undefined) throw new UsageError(`unknown control command ${JSON.stringify(name)} (${Object.keys(controlCommandByName).join(', ')})`);
  const keysDir = str(values, 'keys');
  const result = await sendControl(str(values, 'address') ?? '', command, {
    timeoutMs: num(values, 'timeout'),
    ...(keysDir === undefined ? {} : { keys: readControlClientKeys(keysDir) }),
  });
  console.log(JSON.stringify({ status: statusNames[result.status] ?? result.status, body: result.body }, null, 2));
  return result.status === ControlStatus.Ok ? 0 : 1;
}
