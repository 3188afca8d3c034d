import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { findSamples, parseExposition, parseSampleValue, type ExpositionSample } from './exposition.ts';

function samplesOf(text: string): readonly ExpositionSample[] {
  const result = parseExposition(text);
  if (!result.ok) throw new Error(result.error);
  return result.samples;
}

function errorOf(text: string): string {
  const result = parseExposition(text);
  if (result.ok) throw new Error(`parsed: ${JSON.stringify(result.samples)}`);
  return result.error;
}

describe('parseExposition', () => {
  it('reads names, labels and values and skips HELP, TYPE, other comments and blank lines', () => {
    const text = [
      '# HELP nexus_engine_tick_to_order_latency_window_micros Quantile over the window.',
      '# TYPE nexus_engine_tick_to_order_latency_window_micros gauge',
      'nexus_engine_tick_to_order_latency_window_micros{quantile="0.5"} 41.5',
      'nexus_engine_tick_to_order_latency_window_micros{quantile="0.99"} 120',
      '',
      '   # an indented comment',
      '# TYPE nexus_engine_tick_to_order_latency_window_samples gauge',
      'nexus_engine_tick_to_order_latency_window_samples 1234',
      '',
    ].join('\n');
    expect(samplesOf(text)).toEqual([
      { name: 'nexus_engine_tick_to_order_latency_window_micros', labels: { quantile: '0.5' }, value: 41.5 },
      { name: 'nexus_engine_tick_to_order_latency_window_micros', labels: { quantile: '0.99' }, value: 120 },
      { name: 'nexus_engine_tick_to_order_latency_window_samples', labels: {}, value: 1234 },
    ]);
  });

  it('unescapes backslash, double quote and newline in label values', () => {
    const [sample] = samplesOf('m{path="C:\\\\dir",quote="say \\"hi\\"",text="a\\nb",empty=""} 1');
    expect(sample.labels).toEqual({ path: 'C:\\dir', quote: 'say "hi"', text: 'a\nb', empty: '' });
  });

  it('keeps commas, braces and equals signs inside quoted label values', () => {
    const [sample] = samplesOf('m{a="x,y}",b="k=v"} 2');
    expect(sample.labels).toEqual({ a: 'x,y}', b: 'k=v' });
  });

  it('reads NaN in any case, signed infinities, exponents and an optional timestamp', () => {
    const values = samplesOf(['a NaN', 'b Nan', 'c +Inf', 'd -Inf', 'e 1.5e-3', 'f -2', 'g 7 1712345678901'].join('\n'));
    expect(values.map((s) => s.value)).toEqual([NaN, NaN, Infinity, -Infinity, 0.0015, -2, 7]);
    expect(values[6].timestampMs).toBe(1712345678901);
    expect(values[5].timestampMs).toBeUndefined();
  });

  it('allows blanks between tokens and a trailing comma in the label set', () => {
    expect(samplesOf('m { a = "1" , b="2", }\t3  ')).toEqual([{ name: 'm', labels: { a: '1', b: '2' }, value: 3 }]);
  });

  it('keeps a label named like an Object.prototype key as a plain label', () => {
    const [sample] = samplesOf('m{__proto__="x",constructor="y"} 1');
    expect(Object.keys(sample.labels)).toEqual(['__proto__', 'constructor']);
    expect(sample.labels.constructor).toBe('y');
  });

  it.each([
    ['a value missing', 'm{a="1"}', /expected a value after m/],
    ['a bad value', 'm 12abc', /bad value "12abc"/],
    ['a hex value Number() would accept', 'm 0x10', /bad value "0x10"/],
    ['an unterminated label value', 'm{a="1} 2', /bad or unterminated value of label a/],
    ['an unknown escape', 'm{a="\\t"} 2', /bad or unterminated value of label a/],
    ['a missing "="', 'm{a "1"} 2', /expected "=" after label a/],
    ['a repeated label', 'm{a="1",a="2"} 3', /label a appears twice/],
    ['a bad label name', 'm{1a="1"} 2', /expected a label name/],
    ['a bad metric name', '1m 2', /expected a metric name/],
    ['a bad timestamp', 'm 1 12.5', /bad timestamp "12.5"/],
    ['text after the timestamp', 'm 1 2 3', /unexpected "3" after the timestamp/],
    ['a carriage return', 'm 1\r', /bad value/],
  ])('fails the whole body on %s, naming the line', (_case, line, message) => {
    const error = errorOf(`ok_before 1\n${line}\nok_after 2\n`);
    expect(error).toMatch(message);
    expect(error).toMatch(/^line 2 /);
  });

  it('shortens a long bad line in the message', () => {
    const error = errorOf(`m{a="${'x'.repeat(500)}`);
    expect(error.length).toBeLessThan(250);
    expect(error).toContain('...');
  });

  it('parses everything prom-client writes, label escaping included', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'nexus_test_gauge', help: 'A "help" \\ text\nwith a newline.', labelNames: ['tricky'], registers: [registry] });
    gauge.set({ tricky: 'back\\slash "quoted"\nnewline' }, 5);
    gauge.set({ tricky: 'nan' }, NaN);
    gauge.set({ tricky: 'inf' }, Infinity);
    const samples = samplesOf(await registry.metrics());
    expect(findSamples(samples, 'nexus_test_gauge', { tricky: 'back\\slash "quoted"\nnewline' })[0]?.value).toBe(5);
    expect(findSamples(samples, 'nexus_test_gauge', { tricky: 'nan' })[0]?.value).toBeNaN();
    expect(findSamples(samples, 'nexus_test_gauge', { tricky: 'inf' })[0]?.value).toBe(Infinity);
  });
});

describe('findSamples', () => {
  const samples = samplesOf('m{q="0.5",pod="a"} 1\nm{q="0.99",pod="a"} 2\nm_other{q="0.99"} 3');

  it('matches the name exactly and every given label, allowing extra labels', () => {
    expect(findSamples(samples, 'm', { q: '0.99' }).map((s) => s.value)).toEqual([2]);
    expect(findSamples(samples, 'm').map((s) => s.value)).toEqual([1, 2]);
    expect(findSamples(samples, 'm', { q: '0.9' })).toEqual([]);
    expect(findSamples(samples, 'm', { toString: 'x' })).toEqual([]);
  });
});

describe('parseSampleValue', () => {
  it.each([
    ['42', 42],
    ['-1.5e-3', -0.0015],
    ['.5', 0.5],
    ['5.', 5],
    ['1E6', 1e6],
    ['nan', NaN],
    ['Inf', Infinity],
    ['+infinity', Infinity],
    ['-Inf', -Infinity],
  ])('reads %s', (text, value) => {
    expect(parseSampleValue(text)).toEqual(value);
  });

  it.each(['', ' 1', '1_000', '0x10', '0b1', 'Infinityy', '1e', '--1', '.'])('rejects %j', (text) => {
    expect(parseSampleValue(text)).toBeUndefined();
  });
});
