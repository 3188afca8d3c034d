import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseEngineConfig } from '../../engine/config/engine-config.ts';
import { exampleEngine, withSpec } from '../../test/support/engines.ts';
import { configMapName, renderConfigMap, renderReplicaSet, renderService } from './children.ts';
import { appliedHash } from './owned.ts';
import { generateControlKeys } from '../../engine/control/control-keys.ts';
import { controlKeysOf, renderControlSecret } from './control-secret.ts';
import { renderNetworkPolicy } from './network-policy.ts';
import { orderBookOf, renderEngineConfig } from './engine-config.ts';
import { imageVersion } from './labels.ts';
import { revisionOf } from './revision.ts';

const gpuEngine = exampleEngine('gpu-canary');
const minimal = exampleEngine('minimal');

describe('revisionOf', () => {
  it('is a stable 10-character label-safe hash', () => {
    const revision = revisionOf(minimal);
    expect(revision).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    expect(revisionOf(exampleEngine('minimal'))).toBe(revision);
  });

  it.each([
    ['the image', (s: Record<string, any>) => { s.template.image = 'ghcr.io/nexus-trading/nexus-engine:0.2.0'; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['an indicator parameter', (s: Record<string, any>) => { s.engine.indicators[0].params.period = 21; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a risk limit', (s: Record<string, any>) => { s.engine.risk.maxOrderQty = 50; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['the cpu', (s: Record<string, any>) => { s.template.resources.cpu = '2'; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['an env var', (s: Record<string, any>) => { s.template.env = [{ name: 'A', value: 'b' }]; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['the indicator backend', (s: Record<string, any>) => { s.engine.backend = 'wasm'; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['fault injection', (s: Record<string, any>) => { s.engine.faultInjection = { extraLatencyMicros: 400 }; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['a history', (s: Record<string, any>) => { s.engine.history = { path: '/data/ticks.csv' }; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['scans', (s: Record<string, any>) => { s.engine.scans = { barIntervalMs: 1000 }; }], // eslint-disable-line @typescript-eslint/no-explicit-any
  ])('changes with %s', (_what, edit) => {
    expect(revisionOf(withSpec(minimal, edit))).not.toBe(revisionOf(minimal));
  });

  it.each([
    ['replicas', (s: Record<string, any>) => { s.replicas = 7; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['pod labels', (s: Record<string, any>) => { s.template.podLabels = { team: 'a' }; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['pod annotations', (s: Record<string, any>) => { s.template.podAnnotations = { note: 'x' }; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['the rollout strategy', (s: Record<string, any>) => { s.strategy = { type: 'Canary', canary: { steps: [{ setWeight: 50 }] } }; }], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['paused', (s: Record<string, any>) => { s.paused = true; }], // eslint-disable-line @typescript-eslint/no-explicit-any
  ])('does not change with %s (not a release)', (_what, edit) => {
    expect(revisionOf(withSpec(minimal, edit))).toBe(revisionOf(minimal));
  });
});

describe('renderReplicaSet', () => {
  const revision = revisionOf(gpuEngine);
  const rs = renderReplicaSet(gpuEngine, revision, 4);
  const pod = rs.spec?.template?.spec;
  const engine = pod?.containers[0];

  it('is owned by the TradingEngine as its controller', () => {
    expect(rs.metadata?.ownerReferences).toEqual([{
      apiVersion: 'trading.nexus.dev/v1alpha1', kind: 'TradingEngine', name: 'equities-momentum', uid: 'uid-equities-momentum',
      controller: true, blockOwnerDeletion: true,
    }]);
    expect(rs.metadata?.name).toBe(`equities-momentum-${revision}`);
    expect(rs.metadata?.namespace).toBe('trading');
  });

  it('selects its revision and labels pods with the recommended labels', () => {
    expect(rs.spec?.replicas).toBe(4);
    expect(rs.spec?.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'nexus-engine', 'app.kubernetes.io/instance': 'equities-momentum', 'trading.nexus.dev/revision': revision,
    });
    expect(rs.spec?.template?.metadata?.labels).toMatchObject({
      'app.kubernetes.io/component': 'engine', 'app.kubernetes.io/part-of': 'nexus', 'app.kubernetes.io/managed-by': 'nexus-operator',
      'app.kubernetes.io/version': '0.1.0', 'trading.nexus.dev/revision': revision,
    });
    expect(rs.spec?.template?.metadata?.annotations).toEqual({ 'prometheus.io/scrape': 'true' });
  });

  it('asks for the GPU as a limit and request, tolerates the GPU taint and uses the runtime class', () => {
    expect(engine?.resources).toEqual({
      requests: { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '1' },
      limits: { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '1' },
    });
    expect(pod?.runtimeClassName).toBe('nvidia');
    expect(pod?.nodeSelector).toEqual({ 'node.kubernetes.io/instance-type': 'p5.48xlarge' });
    expect(pod?.tolerations).toEqual([
      { key: 'trading.nexus.dev/dedicated', operator: 'Equal', value: 'engines', effect: 'NoSchedule' },
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(pod?.priorityClassName).toBe('system-cluster-critical');
  });

  it('has no GPU fields without spec.template.gpu', () => {
    const plain = renderReplicaSet(minimal, revisionOf(minimal), 1).spec?.template?.spec;
    expect(plain?.runtimeClassName).toBeUndefined();
    expect(plain?.tolerations).toBeUndefined();
    expect(Object.keys(plain?.containers[0]?.resources?.limits ?? {})).toEqual(['cpu', 'memory']);
  });

  it('runs every container with Guaranteed QoS and restricted pod security', () => {
    const withSidecar = withSpec(gpuEngine, (s) => {
      s.template.sidecars = [{ name: 'log-shipper', image: 'fluent/fluent-bit:3.1', resources: { cpu: '100m', memory: '64Mi' } }];
    });
    const spec = renderReplicaSet(withSidecar, revisionOf(withSidecar), 1).spec?.template?.spec;
    expect(spec?.containers).toHaveLength(2);
    for (const container of spec?.containers ?? []) {
      expect(container.resources?.requests).toEqual(container.resources?.limits);
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true,
        capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    expect(spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec?.automountServiceAccountToken).toBe(false);
    // The root filesystem is read-only: the backend calibration is cached in the pod's /tmp emptyDir, where a
    // restarted container finds it, and the backend asked for reaches the engine.
    const engine = spec?.containers[0];
    expect(engine?.env).toEqual(expect.arrayContaining([
      { name: 'NEXUS_CALIBRATION_FILE', value: '/tmp/nexus/indicator-calibration.json' },
      { name: 'NEXUS_INDICATOR_BACKEND', value: withSidecar.spec.engine.backend },
    ]));
    expect(engine?.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  it('mounts the revision ConfigMap, exposes metrics and bound endpoints, probes /readyz and /healthz', () => {
    expect(pod?.volumes?.[0]).toEqual({ name: 'engine-config', configMap: { name: configMapName(gpuEngine, revision), defaultMode: 0o444 } });
    expect(engine?.env?.[0]).toEqual({ name: 'NEXUS_ENGINE_CONFIG', value: '/etc/nexus/engine.yaml' });
    expect(engine?.ports?.map((p) => [p.name, p.containerPort])).toEqual([['metrics', 9100], ['signals', 5557], ['control', 5560]]);
    expect(engine?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(engine?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(pod?.terminationGracePeriodSeconds).toBe(10);
  });

  it('is identical when rendered twice, applied hash included', () => {
    expect(renderReplicaSet(gpuEngine, revision, 4)).toEqual(rs);
    expect(appliedHash(rs)).toMatch(/^[a-z0-9]{10}$/);
    expect(appliedHash(renderReplicaSet(gpuEngine, revision, 3))).not.toBe(appliedHash(rs));
  });
});

describe('renderConfigMap', () => {
  it('holds an engine configuration that the engine accepts, with decimal strings as numbers', () => {
    const cm = renderConfigMap(gpuEngine, revisionOf(gpuEngine));
    expect(cm.immutable).toBe(true);
    const config = parseEngineConfig(parse(cm.data?.['engine.yaml'] ?? '') as unknown);
    expect(config.symbols).toHaveLength(8);
    expect(config.indicators.find((i) => i.name === 'bb-20')?.params).toEqual({ period: 20, stdDev: 2.5 });
    expect(config.metrics.windowSeconds).toBe(60);
    expect(config.pipeline.layout).toBe('workers');
    expect(config.endpoints.map((e) => e.role)).toEqual(['marketData', 'orders', 'signals', 'control']);
    expect(config.faultInjection).toBeUndefined();
    // A bound control socket: the engine trades only the shards the operator grants, stamped with its book.
    expect(config.ownership).toEqual({ mode: 'assigned', book: orderBookOf(gpuEngine.metadata.namespace ?? '', gpuEngine.metadata.name ?? '') });
  });

  it('names each engine\'s order book from its namespace and name, never 0, the same on every version', () => {
    expect([orderBookOf('trading', 'alpha'), orderBookOf('trading', 'beta'), orderBookOf('default', 'equities-momentum')]).toEqual([26529, 32522, 11585]);
  });
});

describe('scans (spec.engine.scans)', () => {
  it('pass through to the engine config, which the engine accepts, and are absent without them', () => {
    expect('scans' in renderEngineConfig(minimal.spec)).toBe(false);
    expect(parseEngineConfig(renderEngineConfig(gpuEngine.spec)).scans?.correlation).toEqual({ symbols: 8, window: 255 });
    const engine = withSpec(minimal, (s) => {
      s.engine.indicators = [{ name: 'rsi-14', type: 'rsi', params: { period: 14 } }];
      s.engine.scans = { barIntervalMs: 60_000, panelBars: 64, indicators: ['rsi-14'], correlation: { symbols: 2, window: 30 }, topSymbols: 5 };
    });
    const document = renderEngineConfig(engine.spec);
    expect(parseEngineConfig(document).scans).toEqual(engine.spec.engine.scans);
  });
});

describe('a history to warm-start from (spec.engine.history)', () => {
  it('is left out of the config and the pod when the spec has none', () => {
    expect('history' in renderEngineConfig(gpuEngine.spec)).toBe(false);
    const pod = renderReplicaSet(gpuEngine, revisionOf(gpuEngine), 1).spec?.template?.spec;
    expect(pod?.volumes?.map((v) => v.name)).not.toContain('history');
  });

  it('names a file in the image as given, with no volume', () => {
    const engine = withSpec(minimal, (s) => { s.engine.history = { path: '/opt/history/ticks.csv', maxTradesPerSymbol: 5_000, strategyReplayTrades: 10, onError: 'coldStart' }; });
    const document = renderEngineConfig(engine.spec);
    expect(document.history).toEqual({ path: '/opt/history/ticks.csv', maxTradesPerSymbol: 5_000, strategyReplayTrades: 10, onError: 'coldStart' });
    expect(parseEngineConfig(document).history).toEqual(document.history);
    const pod = renderReplicaSet(engine, revisionOf(engine), 1).spec?.template?.spec;
    expect(pod?.volumes?.map((v) => v.name)).not.toContain('history');
    expect(pod?.containers[0].env?.map((e) => e.name)).not.toContain('NEXUS_HISTORY_DIR');
    expect(pod?.containers[0].startupProbe).toMatchObject({ httpGet: { path: '/readyz' }, failureThreshold: 300 });
    const cold = renderReplicaSet(minimal, revisionOf(minimal), 1).spec?.template?.spec;
    expect(cold?.containers[0].startupProbe).toMatchObject({ httpGet: { path: '/readyz' }, failureThreshold: 60 });
  });

  it.each([
    ['a ConfigMap', { configMap: { name: 'ticks' } }, { name: 'history', configMap: { name: 'ticks', defaultMode: 0o444 } }],
    ['a PersistentVolumeClaim', { persistentVolumeClaim: { claimName: 'recorded' } }, { name: 'history', persistentVolumeClaim: { claimName: 'recorded', readOnly: true } }],
  ])('mounts %s read-only and names the file inside it', (_what, volume, rendered) => {
    const engine = withSpec(minimal, (s) => { s.engine.history = { path: 'day/ticks.csv', volume, maxTradesPerSymbol: 100, strategyReplayTrades: 5, onError: 'fail' }; });
    expect(renderEngineConfig(engine.spec).history?.path).toBe('day/ticks.csv');
    const pod = renderReplicaSet(engine, revisionOf(engine), 1).spec?.template?.spec;
    expect(pod?.volumes?.find((v) => v.name === 'history')).toEqual(rendered);
    expect(pod?.containers[0].volumeMounts?.find((m) => m.name === 'history')).toEqual({ name: 'history', mountPath: '/var/lib/nexus-history', readOnly: true });
    // Liveness waits for the first ready (JIT warm-up and the warm start), up to 10 minutes with a history.
    expect(pod?.containers[0].startupProbe).toMatchObject({ httpGet: { path: '/readyz' }, periodSeconds: 2, failureThreshold: 300 });
    // The engine finds the relative path under NEXUS_HISTORY_DIR, the mount.
    expect(pod?.containers[0].env?.find((e) => e.name === 'NEXUS_HISTORY_DIR')).toEqual({ name: 'NEXUS_HISTORY_DIR', value: '/var/lib/nexus-history' });
  });
});

describe('renderEngineConfig', () => {
  it('leaves faultInjection out when the spec has none', () => {
    expect('faultInjection' in renderEngineConfig(minimal.spec)).toBe(false);
    expect('faultInjection' in renderEngineConfig(gpuEngine.spec)).toBe(false);
  });

  it('passes spec.engine.faultInjection through, schema defaults included, and the engine reads it', () => {
    const faulty = withSpec(minimal, (s) => { s.engine.faultInjection = { extraLatencyMicros: 400, jitterMicros: 100 }; });
    const document = renderEngineConfig(faulty.spec);
    expect(document.faultInjection).toEqual({ extraLatencyMicros: 400, jitterMicros: 100, affectedPercent: 100 });
    expect(parseEngineConfig(document).faultInjection).toEqual({
      extraLatencyMicros: 400, jitterMicros: 100, affectedPercent: 100, seed: 1,
    });
    const seeded = withSpec(minimal, (s) => { s.engine.faultInjection = { extraLatencyMicros: 300, affectedPercent: 5, seed: 42 }; });
    const cm = renderConfigMap(seeded, revisionOf(seeded));
    expect(parseEngineConfig(parse(cm.data?.['engine.yaml'] ?? '') as unknown).faultInjection).toEqual({
      extraLatencyMicros: 300, jitterMicros: 0, affectedPercent: 5, seed: 42,
    });
  });
});

describe('renderService', () => {
  it('selects every engine pod by default and one revision when asked', () => {
    expect(renderService(gpuEngine).spec?.selector).toEqual({ 'app.kubernetes.io/name': 'nexus-engine', 'app.kubernetes.io/instance': 'equities-momentum' });
    expect(renderService(gpuEngine, 'abc').spec?.selector?.['trading.nexus.dev/revision']).toBe('abc');
    // The control port is the operator's alone, pod by pod: the Service does not publish it.
    expect(renderService(gpuEngine).spec?.ports?.map((p) => `${p.name}:${p.port}`)).toEqual(['metrics:9100', 'signals:5557']);
  });
});

describe('the control Secret and what the pod mounts of it', () => {
  const keys = generateControlKeys();

  it('holds the four keys and round-trips them', () => {
    const secret = renderControlSecret(gpuEngine, keys);
    expect(secret.metadata).toMatchObject({ name: 'equities-momentum-control', namespace: 'trading', ownerReferences: [expect.objectContaining({ kind: 'TradingEngine', controller: true })] });
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(['client.key', 'client.pub', 'server.key', 'server.pub']);
    expect(controlKeysOf(secret)).toEqual(keys);
    expect(controlKeysOf({ data: { ...secret.data, 'server.key': Buffer.from('short').toString('base64') } })).toBeUndefined();
  });

  it('mounts every key but the client secret key, read-only, and a state emptyDir, into engines with a control socket only', () => {
    const spec = renderReplicaSet(gpuEngine, 'abc', 1).spec?.template?.spec;
    const volume = spec?.volumes?.find((v) => v.name === 'control-keys');
    expect(volume?.secret).toEqual({
      secretName: 'equities-momentum-control',
      items: [{ key: 'server.key', path: 'server.key' }, { key: 'server.pub', path: 'server.pub' }, { key: 'client.pub', path: 'client.pub' }],
      defaultMode: 0o440,
    });
    expect(spec?.volumes?.find((v) => v.name === 'state')?.emptyDir).toEqual({ sizeLimit: '1Mi' });
    const container = spec?.containers[0];
    expect(container?.volumeMounts).toEqual(expect.arrayContaining([
      { name: 'control-keys', mountPath: '/etc/nexus-control', readOnly: true },
      { name: 'state', mountPath: '/var/lib/nexus' },
    ]));
    expect(container?.env).toEqual(expect.arrayContaining([
      { name: 'NEXUS_CONTROL_KEYS', value: '/etc/nexus-control' },
      { name: 'NEXUS_STATE_DIR', value: '/var/lib/nexus' },
    ]));
    const plain = renderReplicaSet(minimal, 'abc', 1).spec?.template?.spec;
    expect(plain?.volumes?.map((v) => v.name)).toEqual(['engine-config', 'tmp']);
  });
});

describe('renderNetworkPolicy', () => {
  const settings = {
    operatorNamespace: 'nexus-system',
    operatorPodLabels: { 'app.kubernetes.io/name': 'trading-operator', 'app.kubernetes.io/instance': 'nexus' },
  };
  const operatorPeer = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'nexus-system' } },
    podSelector: { matchLabels: settings.operatorPodLabels },
  };

  it('lets only the operator reach the control port, the operator and Prometheus the metrics port, anyone the signals port', () => {
    const policy = renderNetworkPolicy(gpuEngine, { ...settings, prometheus: { namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, podLabels: { 'app.kubernetes.io/name': 'prometheus' } } });
    expect(policy.metadata).toMatchObject({ name: 'equities-momentum-engine', namespace: 'trading', ownerReferences: [expect.objectContaining({ kind: 'TradingEngine' })] });
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nexus-engine', 'app.kubernetes.io/instance': 'equities-momentum' } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [operatorPeer], ports: [{ protocol: 'TCP', port: 5560 }, { protocol: 'TCP', port: 9100 }] },
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
          ports: [{ protocol: 'TCP', port: 9100 }],
        },
        { ports: [{ protocol: 'TCP', port: 5557 }] },
      ],
    });
  });

  it('admits a bound orders or market-data port only from pods of the engine namespace', () => {
    const binding = withSpec(minimal, (s) => { s.engine.zeromq.endpoints = [{ name: 'md', role: 'marketData', bindPort: 5555 }, { name: 'orders', role: 'orders', bindPort: 5556 }]; });
    expect(renderNetworkPolicy(binding, settings).spec?.ingress?.[1]).toEqual({ from: [{ podSelector: {} }], ports: [{ protocol: 'TCP', port: 5555 }, { protocol: 'TCP', port: 5556 }] });
  });

  it('admits only the operator when no Prometheus is configured and the engine binds nothing else', () => {
    expect(renderNetworkPolicy(minimal, settings).spec?.ingress).toEqual([{ from: [operatorPeer], ports: [{ protocol: 'TCP', port: 9100 }] }]);
  });
});

describe('imageVersion', () => {
  it.each([
    ['ghcr.io/x/nexus-engine:0.1.0', '0.1.0'],
    ['nexus/engine:dev', 'dev'],
    ['localhost:5000/nexus', undefined],
    ['nexus@sha256:0123', undefined],
    ['nexus:1.0@sha256:0123', '1.0'],
    ['nexus', undefined],
  ])('reads %s as %s', (image, version) => {
    expect(imageVersion(image)).toBe(version);
  });
});
