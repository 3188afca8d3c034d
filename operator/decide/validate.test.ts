import { describe, expect, it } from 'vitest';
import { exampleEngine, withSpec } from '../../test/support/engines.ts';
import { describeErrors, specPathOfEngineField, validateSpec } from './validate.ts';

describe('validateSpec', () => {
  it('accepts the examples, the one with strategy modules too', () => {
    expect(validateSpec(exampleEngine('minimal').spec)).toEqual([]);
    expect(validateSpec(exampleEngine('gpu-canary').spec)).toEqual([]);
    expect(validateSpec(exampleEngine('strategies/tradingengine').spec)).toEqual([]);
  });

  it('refuses a strategy with both a type and a module, or neither, by its field path', () => {
    const both = withSpec(exampleEngine('strategies/tradingengine'), (s) => { s.engine.strategies[1].type = 'macdCross'; }).spec;
    expect(validateSpec(both)).toEqual([{ path: 'spec.engine.strategies[1].module', message: 'a strategy has either a built-in type or a module, not both' }]);
    const neither = withSpec(exampleEngine('strategies/tradingengine'), (s) => { delete s.engine.strategies[0].module; }).spec;
    expect(validateSpec(neither).map((error) => error.path)).toEqual(['spec.engine.strategies[0].type']);
  });

  it.each([
    ['an indicator parameter out of range', (s: Record<string, any>) => { s.engine.indicators[0].params.period = 0; }, 'spec.engine.indicators[0].params.period'], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a misspelt indicator parameter', (s: Record<string, any>) => { s.engine.indicators[0].params = { perriod: 14 }; }, 'spec.engine.indicators[0].params.perriod'], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a strategy wired to an indicator of the wrong type', (s: Record<string, any>) => { s.engine.indicators.push({ name: 'fast', type: 'ema', params: { period: 5 } }); s.engine.strategies[0].indicators = ['fast']; }, 'spec.engine.strategies[0].indicators[0]'], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a decimal parameter that is not a number', (s: Record<string, any>) => { s.engine.strategies[0].params.oversold = 'x'; }, 'spec.engine.strategies[0].params.oversold'], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a bindPort equal to the metrics port', (s: Record<string, any>) => { s.engine.zeromq.endpoints.push({ name: 'control', role: 'control', bindPort: 9100 }); }, 'spec.engine.zeromq.endpoints[2].bindPort'], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['zero cpu', (s: Record<string, any>) => { s.template.resources.cpu = '0'; }, 'spec.template.resources.cpu'], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['zero memory', (s: Record<string, any>) => { s.template.resources.memory = '0Mi'; }, 'spec.template.resources.memory'], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a fault injection share over 100 percent', (s: Record<string, any>) => { s.engine.faultInjection = { extraLatencyMicros: 400, affectedPercent: 150 }; }, 'spec.engine.faultInjection.affectedPercent'], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a fault injection without extraLatencyMicros', (s: Record<string, any>) => { s.engine.faultInjection = { jitterMicros: 100 }; }, 'spec.engine.faultInjection.extraLatencyMicros'], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a canary strategy without a control endpoint to cut orders through', (s: Record<string, any>) => { s.strategy = { type: 'Canary', canary: { steps: [{ setWeight: 50 }] } }; }, 'spec.engine.zeromq.endpoints'], // eslint-disable-line @typescript-eslint/no-explicit-any
  ])('names the field of %s', (_what, edit, path) => {
    const errors = validateSpec(withSpec(exampleEngine('minimal'), edit).spec);
    expect(errors.map((e) => e.path)).toEqual([path]);
    expect(errors[0]?.message.length).toBeGreaterThan(5);
  });

  it.each([
    ['a quantile the engine does not export', (s: Record<string, any>) => { s.analysis.latency.quantile = '0.95'; }, 'spec.analysis.latency.quantile', /0\.5, 0\.9, 0\.99, 0\.999/], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['an engine window unequal to the gate window', (s: Record<string, any>) => { s.engine.metrics.windowSeconds = 30; }, 'spec.engine.metrics.windowSeconds', /is 30 but .*window is 60s/], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a sub-second interval', (s: Record<string, any>) => { s.analysis.latency.interval = '500ms'; }, 'spec.analysis.latency.interval', /at least 1s/], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a pod-scrape window over the engine\'s hour', (s: Record<string, any>) => { s.analysis.latency.window = '2h'; }, 'spec.analysis.latency.window', /at most 1h/], // eslint-disable-line @typescript-eslint/no-explicit-any
  ])('names the field of %s in the analysis', (_what, edit, path, message) => {
    const base = withSpec(exampleEngine('gpu-canary'), (s) => { delete s.engine.metrics.windowSeconds; });
    const errors = validateSpec(withSpec(base, edit).spec);
    expect(errors.map((e) => e.path)).toEqual([path]);
    expect(errors[0]?.message).toMatch(message);
  });

  describe('a Prometheus address and the operator allow-list', () => {
    const prometheusAt = (address: string) => withSpec(exampleEngine('gpu-canary'), (s) => {
      s.analysis.latency.source = { type: 'Prometheus', prometheus: { address } };
    }).spec;

    it('allows any address when no allow-list is configured, and a listed one (trailing slash aside) when one is', () => {
      expect(validateSpec(prometheusAt('http://anything:9090'))).toEqual([]);
      expect(validateSpec(prometheusAt('http://prometheus.monitoring:9090/'), { prometheusAddresses: ['http://prometheus.monitoring:9090'] })).toEqual([]);
    });

    it('refuses an address outside the allow-list, naming the field and the allowed ones', () => {
      const errors = validateSpec(prometheusAt('http://kube-apiserver.default:443'), { prometheusAddresses: ['http://prometheus.monitoring:9090'] });
      expect(errors).toEqual([{
        path: 'spec.analysis.latency.source.prometheus.address',
        message: '"http://kube-apiserver.default:443" is not one of the Prometheus addresses this operator may query (Helm value analysis.prometheusAddresses): http://prometheus.monitoring:9090',
      }]);
    });

    it('refuses every address when the allow-list is empty, and never a PodScrape gate', () => {
      expect(validateSpec(prometheusAt('http://prometheus.monitoring:9090'), { prometheusAddresses: [] })[0]?.message).toMatch(/may query no Prometheus/);
      expect(validateSpec(exampleEngine('gpu-canary').spec, { prometheusAddresses: [] })).toEqual([]);
    });
  });

  it('refuses an env var the operator sets itself (an empty NEXUS_CONTROL_KEYS would switch CURVE off)', () => {
    const spec = withSpec(exampleEngine('gpu-canary'), (s) => { s.template.env = [{ name: 'LOG', value: '1' }, { name: 'NEXUS_CONTROL_KEYS', value: '' }]; }).spec;
    expect(validateSpec(spec)).toEqual([{ path: 'spec.template.env[1].name', message: expect.stringMatching(/^NEXUS_CONTROL_KEYS is set by the operator and cannot be overridden/) }]);
  });

  it('refuses a pin on a shard beyond spec.replicas, of an unlisted symbol, or of a symbol pinned twice; ignores pins at replicas 0', () => {
    const pinned = (replicas: number) => withSpec(exampleEngine('gpu-canary'), (s) => {
      s.replicas = replicas;
      s.ownership = { onOwnerLoss: 'Reassign', releaseTimeoutSeconds: 30, pins: [{ shard: 3, symbols: [s.engine.symbols[0], 'NOPE'] }, { shard: 0, symbols: [s.engine.symbols[0]] }] };
    }).spec;
    const symbol = pinned(4).engine.symbols[0];
    expect(validateSpec(pinned(2))).toEqual([
      { path: 'spec.ownership.pins[0].shard', message: 'shard 3 does not exist: spec.replicas 2 makes shards 0..1' },
      { path: 'spec.ownership.pins[0].symbols[1]', message: '"NOPE" is not one of spec.engine.symbols' },
      { path: 'spec.ownership.pins[1].symbols[0]', message: `${symbol} is already pinned by spec.ownership.pins[0]` },
    ]);
    expect(validateSpec(pinned(0)).map((error) => error.path)).toEqual(['spec.ownership.pins[0].symbols[1]', 'spec.ownership.pins[1].symbols[0]']);
  });

  it('accepts signal checks with either source: Prometheus reads the same counters as the pod scrape', () => {
    for (const source of [{ type: 'Prometheus' as const, prometheus: { address: 'http://prometheus:9090' } }, { type: 'PodScrape' as const }]) {
      const spec = withSpec(exampleEngine('gpu-canary'), (s) => {
        s.analysis.latency.source = source;
        s.analysis.checks = [{ signal: 'TicksRejected', maxRatio: 0.01, minEvents: 1000, consecutiveFailures: 3 }];
      }).spec;
      expect(validateSpec(spec, { prometheusAddresses: ['http://prometheus:9090'] })).toEqual([]);
    }
  });

  it('refuses a Prometheus threshold at the top bound of the engine histogram, which histogram_quantile can never exceed', () => {
    const spec = (thresholdMicros: number): ReturnType<typeof validateSpec> => validateSpec(withSpec(exampleEngine('gpu-canary'), (s) => {
      s.analysis.latency.source = { type: 'Prometheus', prometheus: { address: 'http://prometheus:9090' } };
      s.analysis.latency.thresholdMicros = thresholdMicros;
    }).spec, { prometheusAddresses: ['http://prometheus:9090'] });
    expect(spec(59_999_999)).toEqual([]);
    expect(spec(60_000_000)).toEqual([{
      path: 'spec.analysis.latency.thresholdMicros',
      message: 'must be below 60000000 with source Prometheus: that is the engine histogram\'s top bound, and histogram_quantile reports nothing above it, so the gate could never breach (got 60000000)',
    }]);
  });

  it('accepts the Mann-Whitney gate with a tolerance on PodScrape, and names each missing input', () => {
    const compared = (edit: (latency: Record<string, unknown>) => void): ReturnType<typeof validateSpec> => validateSpec(withSpec(exampleEngine('gpu-canary'), (s) => {
      s.analysis.latency.method = 'MannWhitney';
      s.analysis.latency.relativeToStable = { maxIncreasePercent: 15 };
      edit(s.analysis.latency as unknown as Record<string, unknown>);
    }).spec, { prometheusAddresses: ['http://prometheus:9090'] });
    expect(compared(() => {})).toEqual([]);
    expect(compared((latency) => { delete latency.relativeToStable; })).toEqual([
      { path: 'spec.analysis.latency.relativeToStable.maxIncreasePercent', message: 'method MannWhitney compares canary with stable and needs this tolerance' },
    ]);
    expect(compared((latency) => { latency.source = { type: 'Prometheus', prometheus: { address: 'http://prometheus:9090' } }; })).toEqual([
      { path: 'spec.analysis.latency.source.type', message: "method MannWhitney reads each pod's latency samples and needs source type PodScrape" },
    ]);
    expect(compared((latency) => { latency.confidence = '0.2'; })).toEqual([{ path: 'spec.analysis.latency.confidence', message: 'must be at least 0.5 and below 1, got "0.2"' }]);
    expect(compared((latency) => { latency.window = '60s'; latency.interval = '45s'; })).toEqual([{ path: 'spec.analysis.latency.window', message: 'method MannWhitney needs a window of at least twice the interval and 2s (interval 45s), got 60s' }]);
  });

  it('refuses a bearer token Secret without a Prometheus allow-list: the token could go to any address', () => {
    const spec = withSpec(exampleEngine('gpu-canary'), (s) => {
      s.analysis.latency.source = { type: 'Prometheus', prometheus: { address: 'http://evil:9090', bearerTokenSecretRef: { name: 'reader', key: 'token' } } };
    }).spec;
    expect(validateSpec(spec).map((error) => error.path)).toEqual(['spec.analysis.latency.source.prometheus.bearerTokenSecretRef']);
    expect(validateSpec(spec, { prometheusAddresses: ['http://evil:9090'] })).toEqual([]);
  });

  it('accepts fault injection and reports a bad value with the engine\'s message on the spec path', () => {
    const ok = withSpec(exampleEngine('minimal'), (s) => { s.engine.faultInjection = { extraLatencyMicros: 400, jitterMicros: 100, seed: 1 }; });
    expect(validateSpec(ok.spec)).toEqual([]);
    const bad = withSpec(exampleEngine('minimal'), (s) => { s.engine.faultInjection = { extraLatencyMicros: 400, affectedPercent: 150 }; });
    expect(validateSpec(bad.spec)).toEqual([
      { path: 'spec.engine.faultInjection.affectedPercent', message: 'must be an integer between 0 and 100, got 150' },
    ]);
  });

    it('reports every problem, not only the first', () => {
    const errors = validateSpec(withSpec(exampleEngine('gpu-canary'), (s) => {
      s.template.resources.cpu = '0';
      s.analysis.latency.quantile = '0.95';
      s.engine.zeromq.endpoints[3].bindPort = 5557;
    }).spec);
    expect(describeErrors(errors)).toMatch(/endpoints\[3\]\.bindPort: port 5557 is already used by spec\.engine\.zeromq\.endpoints\[2\]\.bindPort; spec\.template\.resources\.cpu: .*; spec\.analysis\.latency\.quantile/);
  });

  it.each([
    ['', 'spec.engine'],
    ['indicators[2].params.period', 'spec.engine.indicators[2].params.period'],
    ['shutdown.drainTimeoutMs', 'spec.engine.drainTimeoutMs'],
    ['zeromq.endpoints[1]', 'spec.engine.zeromq.endpoints[1]'],
    ['faultInjection.seed', 'spec.engine.faultInjection.seed'],
  ])('maps engine field %j to %s', (engineField, specField) => {
    expect(specPathOfEngineField(engineField)).toBe(specField);
  });
});
