import { describe, expect, it } from 'vitest';
import { promqlString, quoteRegexMeta, renderLatencyQueries, renderPodSelector, renderQuantile, renderRange, renderSignalsQuery } from './promql.ts';

const pods = (...names: string[]) => names.map((name, i) => ({ name, ip: `10.0.0.${i + 1}` }));

describe('renderLatencyQueries', () => {
  it('renders the quantile in microseconds and the sample count over the window', () => {
    const queries = renderLatencyQueries({ namespace: 'prod', pods: pods('eng-b', 'eng-a'), quantile: '0.99', windowSeconds: 60, metric: 'TickToOrder' });
    expect(queries).toEqual({
      quantile:
        'histogram_quantile(0.99, sum by (le) (rate(nexus_engine_tick_to_order_latency_seconds_bucket{namespace="prod",pod=~"eng-a|eng-b"}[60s]))) * 1e6',
      samples: 'sum(increase(nexus_engine_tick_to_order_latency_seconds_count{namespace="prod",pod=~"eng-a|eng-b"}[60s]))',
    });
  });

  it('reads the decision latency histogram by default (metric Decision)', () => {
    const queries = renderLatencyQueries({ namespace: 'prod', pods: pods('eng-a'), quantile: '0.99', windowSeconds: 60, metric: 'Decision' });
    expect(queries.quantile).toBe('histogram_quantile(0.99, sum by (le) (rate(nexus_engine_decision_latency_seconds_bucket{namespace="prod",pod=~"eng-a"}[60s]))) * 1e6');
    expect(queries.samples).toBe('sum(increase(nexus_engine_decision_latency_seconds_count{namespace="prod",pod=~"eng-a"}[60s]))');
  });

  it('renders the same query whatever the order or repetition of the pods', () => {
    const a = renderLatencyQueries({ namespace: 'n', pods: pods('x', 'y', 'x'), quantile: '0.5', windowSeconds: 30, metric: 'Decision' });
    const b = renderLatencyQueries({ namespace: 'n', pods: pods('y', 'x'), quantile: '0.5', windowSeconds: 30, metric: 'Decision' });
    expect(a).toEqual(b);
  });

  it('throws RangeError without pods, with a bad quantile or with a bad window', () => {
    const target = { namespace: 'n', pods: pods('a'), quantile: '0.99', windowSeconds: 30, metric: 'Decision' as const };
    expect(() => renderLatencyQueries({ ...target, pods: [] })).toThrow(RangeError);
    expect(() => renderLatencyQueries({ ...target, quantile: '0.99, x) or vector(1' })).toThrow(/quantile must be a decimal/);
    expect(() => renderLatencyQueries({ ...target, windowSeconds: 0 })).toThrow(/window must be a positive/);
  });
});

describe('renderSignalsQuery', () => {
  it("sums each counter the checks read as it stands (since each pod started), over the latency queries' pods, keeping orders' result apart", () => {
    expect(renderSignalsQuery({ namespace: 'prod', pods: pods('eng-b', 'eng-a') })).toBe(
      'sum by (__name__, result) ({__name__=~"nexus_engine_frames_received_total|nexus_engine_frames_rejected_total|nexus_engine_orders_total|'
      + 'nexus_engine_pool_exhausted_total|nexus_engine_ticks_lost_total|nexus_engine_ticks_received_total|nexus_engine_ticks_rejected_total",'
      + 'namespace="prod",pod=~"eng-a|eng-b"})',
    );
  });

  it('selects exactly the pods the latency queries select', () => {
    const target = { namespace: 'a"b', pods: pods('eng.v2', 'x', 'x'), quantile: '0.99', windowSeconds: 60, metric: 'Decision' as const };
    const selector = renderPodSelector(target.namespace, target.pods.map((pod) => pod.name));
    expect(renderLatencyQueries(target).samples).toContain(selector);
    expect(renderSignalsQuery(target)).toContain(`,${selector.slice(1)})`);
  });

  it('reads no increase or rate: the counts are since each pod started, as PodScrape reads them', () => {
    expect(renderSignalsQuery({ namespace: 'n', pods: pods('p') })).not.toMatch(/increase|rate|\[/);
  });

  it('throws RangeError without pods', () => {
    expect(() => renderSignalsQuery({ namespace: 'n', pods: [] })).toThrow(/no pods/);
  });
});

describe('renderPodSelector with hostile names', () => {
  it.each([
    ['a regex metacharacter in a pod name is matched literally', 'prod', ['eng.v2'], '{namespace="prod",pod=~"eng\\\\.v2"}'],
    ['an alternation inside a name cannot widen the selector', 'prod', ['a|.*'], '{namespace="prod",pod=~"a\\\\|\\\\.\\\\*"}'],
    ['a quote cannot close the literal', 'prod', ['a"}[5m]) or vector(1) #'], '{namespace="prod",pod=~"a\\"\\\\}\\\\[5m\\\\]\\\\) or vector\\\\(1\\\\) #"}'],
    ['a backslash in the namespace is doubled', 'we\\ird', ['p'], '{namespace="we\\\\ird",pod=~"p"}'],
    ['a quote in the namespace is escaped', 'a"b', ['p'], '{namespace="a\\"b",pod=~"p"}'],
    ['a newline is escaped, not written raw', 'a\nb', ['p\tq'], '{namespace="a\\nb",pod=~"p\\tq"}'],
  ])('%s', (_case, namespace, names, expected) => {
    expect(renderPodSelector(namespace, names)).toBe(expected);
  });

  it('throws RangeError without pods', () => {
    expect(() => renderPodSelector('prod', [])).toThrow(/no pods/);
  });
});

describe('promqlString', () => {
  it.each([
    ['plain', '"plain"'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ['line\nbreak\r\t', '"line\\nbreak\\r\\t"'],
    ['bell\u0007del\u007f', '"bell\\u0007del\\u007f"'],
    ['ünïcode ✓', '"ünïcode ✓"'],
  ])('quotes %j', (value, expected) => {
    expect(promqlString(value)).toBe(expected);
  });
});

describe('quoteRegexMeta', () => {
  it('escapes every RE2 metacharacter, as Go regexp.QuoteMeta does, and nothing else', () => {
    expect(quoteRegexMeta('\\.+*?()|[]{}^$')).toBe('\\\\\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$');
    expect(quoteRegexMeta('eng-7f9c-x_1')).toBe('eng-7f9c-x_1');
  });

  it('produces a regex that matches the name and only the name', () => {
    for (const name of ['eng.v2', 'a+b', '(x)', 'q?', '[c]', 'd{2}', '^e$', 'f|g', 'h\\i']) {
      const regex = new RegExp(`^(?:${quoteRegexMeta(name)})$`);
      expect(regex.test(name)).toBe(true);
      expect(regex.test(`${name}x`)).toBe(false);
    }
    expect(new RegExp(`^(?:${quoteRegexMeta('eng.v2')})$`).test('engXv2')).toBe(false);
  });
});

describe('renderQuantile', () => {
  it.each(['0.99', '0.5', '0.999', '0', '1', '1.0'])('accepts %s as written', (quantile) => {
    expect(renderQuantile(quantile)).toBe(quantile);
  });

  it.each(['1.5', '-0.1', 'abc', '', '0.9 ', '99', '0.99)', 'NaN', '1e-2'])('rejects %j', (quantile) => {
    expect(() => renderQuantile(quantile)).toThrow(RangeError);
  });
});

describe('renderRange', () => {
  it.each([
    [60, '60s'],
    [1, '1s'],
    [1.5, '1500ms'],
    [0.25, '250ms'],
  ])('writes %s s as %s', (seconds, range) => {
    expect(renderRange(seconds)).toBe(range);
  });

  it.each([0, -5, NaN, Infinity, 0.0001])('rejects %s', (seconds) => {
    expect(() => renderRange(seconds)).toThrow(RangeError);
  });
});
