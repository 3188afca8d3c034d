import { describe, expect, it } from 'vitest';
import { UsageError, helpText, parseArgs } from './args.ts';

const specs = {
  rate: { type: 'integer', help: 'ticks per second', default: 1000 },
  bind: { type: 'string', help: 'address' },
  quiet: { type: 'boolean', help: 'less output' },
  ratio: { type: 'number', help: 'a share', default: 0.5 },
} as const;

describe('parseArgs', () => {
  it('reads values, inline values, flags and defaults', () => {
    expect(parseArgs(['--rate', '50000', '--bind=tcp://127.0.0.1:1', '--quiet'], specs)).toEqual({
      rate: 50000, bind: 'tcp://127.0.0.1:1', quiet: true, ratio: 0.5,
    });
  });

  it('reads --flag=false and --flag=true, and a negative number after its option', () => {
    expect(parseArgs(['--quiet=false', '--ratio', '-0.25'], specs)).toMatchObject({ quiet: false, ratio: -0.25 });
    expect(parseArgs(['--quiet=true'], specs)).toMatchObject({ quiet: true });
  });

  it('names the option in every error', () => {
    expect(() => parseArgs(['--rat', '1'], specs)).toThrow(new UsageError('unknown option --rat (see --help)'));
    expect(() => parseArgs(['--rate'], specs)).toThrow('--rate needs a value');
    expect(() => parseArgs(['--rate', '1.5'], specs)).toThrow('--rate must be an integer, got "1.5"');
    expect(() => parseArgs(['--ratio', 'x'], specs)).toThrow('--ratio must be a number, got "x"');
    expect(() => parseArgs(['stray'], specs)).toThrow('unexpected argument "stray"');
    expect(() => parseArgs(['--quiet=yes'], specs)).toThrow('--quiet takes no value');
  });

  it('prints every option in the help text with its default', () => {
    const text = helpText('nexus feed [options]', 'Publishes ticks.', specs);
    expect(text).toContain('--rate <integer>');
    expect(text).toContain('(default 1000)');
    expect(text).toContain('--quiet');
  });
});
