/**
 * A small strict parser for `--name value` / `--flag` command lines. Unknown options and missing values are
 * errors that name the option, so a typo never silently falls back to a default.
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
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(token)}`);
    const [rawName, inline] = token.slice(2).split('=', 2) as [string, string | undefined];
    const spec = specs[rawName];
    if (spec === undefined) throw new UsageError(`unknown option --${rawName} (see --help)`);
    if (spec.type === 'boolean') {
      values[rawName] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const text = inline ?? argv[++i];
    if (text === undefined) throw new UsageError(`--${rawName} needs a value`);
    values[rawName] = convert(rawName, spec, text);
  }
  return values;
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
