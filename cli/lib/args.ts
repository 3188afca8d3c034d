import { parseArgs as parseCommandLine } from 'node:util';

/**
 * Strict `--name value` / `--name=value` / `--flag` command lines on Node's `util.parseArgs`, with what it lacks
 * added here: typed numbers (`integer`, `number`) checked and named, defaults, help text, `--flag=false` (Node 20
 * has no negated booleans; `nexus operator --leader-elect=false` needs one), and errors as UsageError that name the
 * option, so a typo never silently falls back to a default.
 */
export interface OptionSpec {
  readonly type: 'string' | 'integer' | 'number' | 'boolean';
  readonly help: string;
  readonly default?: string | number | boolean;
}

export type OptionValues = Record<string, string | number | boolean | undefined>;

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: readonly string[], specs: Readonly<Record<string, OptionSpec>>): OptionValues {
  const values: OptionValues = {};
  for (const [name, spec] of Object.entries(specs)) values[name] = spec.default;
  // `--flag=true|false` for a boolean option: its value is set here and the token left out of util.parseArgs.
  const explicit = new Map<string, boolean>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    const match = /^--([^=]+)=(true|false)$/.exec(token);
    if (match !== null && specs[match[1]]?.type === 'boolean') {
      explicit.set(match[1], match[2] === 'true');
      continue;
    }
    // `--name value` joined as `--name=value`, so a value that starts with '-' (a negative number) stays a value.
    const spec = token.startsWith('--') && !token.includes('=') ? specs[token.slice(2)] : undefined;
    if (spec !== undefined && spec.type !== 'boolean' && i + 1 < argv.length) args.push(`${token}=${argv[++i]}`);
    else args.push(token);
  }
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine({
      args,
      options: Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type === 'boolean' ? 'boolean' as const : 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw usageErrorOf(error);
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    const spec = specs[name];
    if (spec !== undefined) values[name] = typeof value === 'string' ? convert(name, spec, value) : value === true;
  }
  for (const [name, value] of explicit) values[name] = value;
  return values;
}

/** util.parseArgs' errors in this CLI's words, naming the option or argument. */
function usageErrorOf(error: unknown): UsageError {
  const { code, message } = error as { code?: string; message: string };
  const option = /'(-[^']+)'/.exec(message)?.[1]?.split(' ')[0];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return new UsageError(`unknown option ${option ?? ''} (see --help)`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new UsageError(message.includes('does not take an argument') ? `${option ?? 'the option'} takes no value` : `${option ?? 'the option'} needs a value`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': return new UsageError(`unexpected argument ${JSON.stringify(/'([^']*)'/.exec(message)?.[1] ?? '')}`);
    default: return new UsageError(message);
  }
}

function convert(name: string, spec: OptionSpec, text: string): string | number {
  if (spec.type === 'string') return text;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${spec.type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function helpText(usage: string, summary: string, specs: Readonly<Record<string, OptionSpec>>): string {
  const lines = [`Usage: ${usage}`, '', summary, '', 'Options:'];
  for (const [name, spec] of Object.entries(specs)) {
    const value = spec.type === 'boolean' ? '' : ` <${spec.type === 'string' ? 'value' : spec.type}>`;
    const fallback = spec.default === undefined ? '' : ` (default ${String(spec.default)})`;
    lines.push(`  --${(name + value).padEnd(28)} ${spec.help}${fallback}`);
  }
  return lines.join('\n');
}

export function str(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function num(values: OptionValues, name: string): number {
  const value = values[name];
  if (typeof value !== 'number') throw new UsageError(`--${name} is required`);
  return value;
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}
