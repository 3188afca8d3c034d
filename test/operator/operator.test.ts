import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventWebhook, type WebhookEvent } from '../../operator/notify/event-webhook.ts';
import { parse, stringify } from 'yaml';
import { freePort } from '../../cli/lib/processes.ts';
import { startController, type Controller } from '../../operator/controller/controller.ts';
import { createClusterWriter } from '../../operator/kube/cluster-writer.ts';
import { loadKubeConfig } from '../../operator/kube/kube-config.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../../operator/metrics/operator-metrics.ts';
import { startControlPlane, type ControlPlane } from '../../devcluster/control-plane.ts';
import { startNodeAgent, type NodeAgent } from '../../devcluster/node-agent.ts';
import { sendControl } from '../../engine/control/control-client.ts';
import { clientKeysOf } from '../../engine/control/control-keys.ts';
import { controlKeysOf } from '../../operator/render/control-secret.ts';
import { ControlCommand, TickKind } from '../../engine/wire/layout.ts';
import { eventually } from '../support/eventually.ts';
import { engineMetric } from '../support/engines.ts';
import { marketTicks, streamedSinceOpen, tickCsv, type RecordedOrder } from '../support/history.ts';
import { Publisher } from 'zeromq';
import { monoNowNs } from '../../engine/clock/monotonic.ts';
import { parseEngineConfig } from '../../engine/config/engine-config.ts';
import { standardIndicators } from '../../engine/config/presets.ts';
import { OrderSink } from '../../engine/sim/order-sink.ts';
import { symbolId } from '../../engine/wire/symbol-id.ts';
import { TickFrameWriter } from '../../engine/wire/tick-codec.ts';
import { renderEngineConfig } from '../../operator/render/engine-config.ts';
import type { TradingEngineSpec } from '../../operator/api/types.ts';
import { kubectl, kubectlGet, kubectlOrThrow, type PodJson } from '../support/kube.ts';

/**
 * The operator's controller against a real control plane (kube-apiserver, controller-manager, scheduler) with the
 * local node agent running engine pods as real `nexus engine` processes: create -> children with owner
 * references and GPU fields, pods Ready, status Ready; spec change -> new revision, old scaled to zero; ten
 * resyncs -> zero writes; semantic errors -> InvalidSpec with the field path and nothing deleted; schema errors
 * rejected by the API server; killed and expired watches recovered; delete -> children garbage-collected.
 */
const namespace = 'trading';
const root = fileURLToPath(new URL('../../', import.meta.url));
let cluster: ControlPlane;
let agent: NodeAgent | undefined;
let controller: Controller | undefined;
let metrics: OperatorMetrics | undefined;
/** The event webhook's receiver: a real local HTTP server collecting what the operator POSTs. */
let receiver: Server | undefined;
let eventWebhook: EventWebhook | undefined;
const webhookEvents: WebhookEvent[] = [];
const lines: string[] = [];
const log = (line: string): void => {
  lines.push(line);
};

const getJson = <T>(args: string[]): T | undefined => kubectlGet<T>(cluster.kubeconfig, ['-n', namespace, ...args]);
const tail = (): string => lines.slice(-25).join('\n');

interface Meta { name: string; uid: string; resourceVersion: string; ownerReferences?: Array<{ kind: string; name: string; controller?: boolean; blockOwnerDeletion?: boolean }>; labels?: Record<string, string> }
interface EngineJson {
  metadata: Meta & { generation: number };
  status?: {
    observedGeneration?: number; phase?: string; stableRevision?: string; gate?: { kind: string; name: string; generation?: number }; readyText?: string; updateRevision?: string; readyReplicas?: number; selector?: string;
    conditions?: Array<{ type: string; status: string; reason: string; message: string; observedGeneration?: number }>;
  };
}
interface ReplicaSetJson {
  metadata: Meta;
  spec: { replicas: number; template: { spec: { containers: Array<{ resources: { limits: Record<string, string> } }>; tolerations?: unknown[]; runtimeClassName?: string } } };
  status: { readyReplicas?: number };
}

const engine = (name: string): EngineJson | undefined => getJson<EngineJson>(['tradingengine', name]);
const replicaSetsOf = (name: string): ReplicaSetJson[] =>
  getJson<{ items: ReplicaSetJson[] }>(['replicasets', '-l', `app.kubernetes.io/instance=${name}`])?.items ?? [];
const podsOf = (name: string): PodJson[] => getJson<{ items: PodJson[] }>(['pods', '-l', `app.kubernetes.io/instance=${name}`])?.items ?? [];
const condition = (name: string, type: string) => engine(name)?.status?.conditions?.find((c) => c.type === type);

/** A TradingEngine manifest for the local node agent (image nexus/engine:dev runs `nexus engine`). */
function manifest(name: string, edit: (spec: Record<string, any>) => void = () => undefined): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const document = parse(readFileSync(`${root}examples/minimal.yaml`, 'utf8')) as { metadata: { name: string; namespace?: string }; spec: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  document.metadata = { name, namespace };
  document.spec.template.image = 'nexus/engine:dev';
  document.spec.engine.zeromq.endpoints = [
    { name: 'md', role: 'marketData', address: `tcp://127.0.0.1:${mdPort}` },
    { name: 'orders', role: 'orders', address: `tcp://127.0.0.1:${ordersPort}` },
  ];
  document.spec.engine.warmupTicks = 2000;
  edit(document.spec);
  return stringify(document);
}
let mdPort = 0;
let ordersPort = 0;

function apply(text: string): void {
  kubectlOrThrow(cluster.kubeconfig, ['apply', '--server-side', '-f', '-'], { input: text });
}

beforeAll(async () => {
  mdPort = await freePort();
  ordersPort = await freePort();
  cluster = await startControlPlane({ controllers: true, log });
  agent = await startNodeAgent({ kubeconfig: cluster.kubeconfig, gpus: 2, heartbeatMs: 5_000, log });
  expect(kubectl(cluster.kubeconfig, ['apply', '--server-side', '-f', `${root}crds/`]).code).toBe(0);
  for (const crd of ['tradingengines', 'latencygates', 'clusterlatencygates']) {
    expect(kubectl(cluster.kubeconfig, ['wait', '--for=condition=Established', `crd/${crd}.trading.nexus.dev`, '--timeout=30s']).code).toBe(0);
  }
  expect(kubectl(cluster.kubeconfig, ['create', 'namespace', namespace]).code).toBe(0);
  const kubeConfig = loadKubeConfig(cluster.kubeconfig);
  metrics = createOperatorMetrics();
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      webhookEvents.push(JSON.parse(body) as WebhookEvent);
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  eventWebhook = new EventWebhook({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`, log });
  controller = startController({
    kubeConfig, writer: createClusterWriter(kubeConfig), metrics, namespaces: [], workers: 2, resyncMs: 0, watchSilenceMs: 60_000, log, eventWebhook,
    settings: { networkPolicy: { operatorNamespace: 'nexus-system', operatorPodLabels: { 'app.kubernetes.io/name': 'trading-operator' }, prometheus: { namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } } },
  });
  await controller.synced;
}, 180_000);

afterAll(async () => {
  await controller?.stop();
  await eventWebhook?.close(0);
  receiver?.closeAllConnections();
  receiver?.close();
  await agent?.stop();
  await cluster?.stop();
}, 60_000);

describe('the operator against a real API server', () => {
  it('rejects a schema-invalid TradingEngine with the field path in the message', () => {
    const result = kubectl(cluster.kubeconfig, ['apply', '--server-side', '-f', '-'], { input: manifest('bad', (spec) => { spec.template.gpu = { count: 0 }; }) });
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/spec\.template\.gpu\.count: Invalid value: 0/);
    const cel = kubectl(cluster.kubeconfig, ['apply', '--server-side', '-f', '-'], { input: manifest('bad', (spec) => { spec.strategy = { type: 'BlueGreen', canary: { steps: [{ setWeight: 10 }] } }; }) });
    expect(cel.err).toMatch(/spec\.strategy\.canary: Forbidden: canary is allowed only with type Canary/);
  });

  it('accepts signal checks with a limit, and refuses one without any limit or two of the same signal', () => {
    const withChecks = (checks: unknown[]): string => manifest('checked', (spec) => {
      spec.strategy = { type: 'Canary', canary: { steps: [{ setWeight: 50 }, { analysis: {} }] } };
      spec.engine.zeromq.endpoints.push({ name: 'control', role: 'control', bindPort: 5560 });
      spec.analysis = { latency: { thresholdMicros: 800 }, checks };
    });
    const dryRun = (text: string) => kubectl(cluster.kubeconfig, ['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: text });
    expect(dryRun(withChecks([{ signal: 'TicksRejected', maxIncreasePercent: 50 }, { signal: 'TicksLost', maxRatio: 0.001 }])).code).toBe(0);
    expect(dryRun(withChecks([{ signal: 'TicksRejected' }])).err).toMatch(/a check needs maxRatio, maxIncreasePercent or both/);
    expect(dryRun(withChecks([{ signal: 'TicksLost', maxRatio: 0.1 }, { signal: 'TicksLost', maxRatio: 0.2 }])).err).toMatch(/duplicate entries for key \[signal="TicksLost"\]/);
  });

  it('accepts the Mann-Whitney gate with a tolerance on PodScrape, and refuses it without one or on Prometheus', () => {
    const withGate = (latency: Record<string, unknown>): string => manifest('compared', (spec) => {
      spec.strategy = { type: 'Canary', canary: { steps: [{ setWeight: 50 }, { analysis: {} }] } };
      spec.analysis = { latency: { thresholdMicros: 800, method: 'MannWhitney', ...latency } as never };
    });
    const dryRun = (text: string) => kubectl(cluster.kubeconfig, ['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: text });
    expect(dryRun(withGate({ relativeToStable: { maxIncreasePercent: 15 }, confidence: '0.995' })).code).toBe(0);
    expect(dryRun(withGate({})).err).toMatch(/spec\.analysis\.latency\.relativeToStable: Required value: method MannWhitney compares canary with stable and needs relativeToStable\.maxIncreasePercent/);
    expect(dryRun(withGate({ relativeToStable: { maxIncreasePercent: 15 }, source: { type: 'Prometheus', prometheus: { address: 'http://prometheus:9090' } } })).err)
      .toMatch(/method MannWhitney reads each pod's latency samples and needs source type PodScrape/);
    expect(dryRun(withGate({ relativeToStable: { maxIncreasePercent: 15 }, confidence: '1' })).err).toMatch(/spec\.analysis\.latency\.confidence: Invalid value: "1"/);
  });

  it('holds an engine whose LatencyGate does not exist, rolls it out once the gate is created, and follows a move to a ClusterLatencyGate', async () => {
    const gate = (kind: string, name: string, thresholdMicros: number, tolerance: object = { relativeToStable: { maxIncreasePercent: 15 } }): string => stringify({
      apiVersion: 'trading.nexus.dev/v1alpha1', kind, metadata: kind === 'LatencyGate' ? { name, namespace } : { name },
      spec: { latency: { thresholdMicros, method: 'MannWhitney', ...tolerance } },
    });
    apply(manifest('gated', (spec) => { spec.analysis = { gateRef: { name: 'team-gate' } }; }));
    await eventually(() => condition('gated', 'Ready')?.reason === 'GateNotFound', { timeoutMs: 30_000, what: 'gated Ready=False GateNotFound', context: tail });
    expect(engine('gated')?.status?.phase).toBe('InvalidSpec');
    expect(condition('gated', 'Ready')?.message).toMatch(/names LatencyGate "team-gate", which does not exist in the engine's namespace/);
    expect(replicaSetsOf('gated')).toEqual([]);
    // The operator's metrics say the same: phase, and the Warning it recorded once.
    const exposition = (await metrics?.registry.metrics()) ?? '';
    expect(exposition).toContain(`nexus_operator_engine_phase{engine_namespace="${namespace}",engine="gated",phase="InvalidSpec"} 1`);
    expect(exposition).toContain(`nexus_operator_events_total{engine_namespace="${namespace}",engine="gated",type="Warning",reason="GateNotFound"} 1`);
    // And the event webhook got it, with the engine and its phase.
    await eventually(() => webhookEvents.find((event) => event.engine.name === 'gated' && event.reason === 'GateNotFound'), { timeoutMs: 10_000, what: 'the GateNotFound Event at the webhook', context: tail });
    expect(webhookEvents.find((event) => event.engine.name === 'gated' && event.reason === 'GateNotFound')).toMatchObject({ engine: { namespace }, type: 'Warning', phase: 'InvalidSpec' });
    // The gate's own schema is the engine's: the same CEL rules refuse a Mann-Whitney gate without a tolerance.
    const refused = kubectl(cluster.kubeconfig, ['apply', '--server-side', '-f', '-'], { input: gate('LatencyGate', 'team-gate', 5_000, {}) });
    expect(refused.err).toMatch(/method MannWhitney compares canary with stable and needs relativeToStable\.maxIncreasePercent/);
    apply(gate('LatencyGate', 'team-gate', 5_000));
    await eventually(() => condition('gated', 'Ready')?.status === 'True', { timeoutMs: 90_000, what: 'gated Ready=True once its gate exists', context: tail });
    expect(engine('gated')?.status?.gate).toEqual({ kind: 'LatencyGate', name: 'team-gate', generation: 1 });
    expect(kubectl(cluster.kubeconfig, ['get', 'lgate', '-n', namespace, 'team-gate']).out).toMatch(/team-gate\s+MannWhitney\s+0\.99\s+5000/);
    apply(gate('ClusterLatencyGate', 'platform-default', 4_000));
    apply(manifest('gated', (spec) => { spec.analysis = { gateRef: { kind: 'ClusterLatencyGate', name: 'platform-default' } }; }));
    await eventually(() => engine('gated')?.status?.gate?.kind === 'ClusterLatencyGate', { timeoutMs: 30_000, what: 'gated names its ClusterLatencyGate', context: tail });
    expect(engine('gated')?.status?.gate).toEqual({ kind: 'ClusterLatencyGate', name: 'platform-default', generation: 1 });
    expect(kubectl(cluster.kubeconfig, ['delete', 'tradingengine', 'gated', '-n', namespace, '--wait=true']).code).toBe(0);
    // A deleted engine leaves no series behind.
    await eventually(async () => !((await metrics?.registry.metrics()) ?? 'engine="gated"').includes('engine="gated"'), { timeoutMs: 10_000, what: 'the metrics of gated dropped', context: tail });
  });

  it('accepts every example (GPU canary, minimal, the gate definitions, strategy modules) as it is written', () => {
    const result = kubectl(cluster.kubeconfig, ['apply', '--server-side', '--dry-run=server', '-n', namespace, '-R', '-f', `${root}examples/`]);
    expect(result.out).toMatch(/tradingengine\.trading\.nexus\.dev\/pairs serverside-applied \(server dry run\)/);
    expect(result.out).toMatch(/tradingengine\.trading\.nexus\.dev\/equities-momentum serverside-applied \(server dry run\)/);
    expect(result.out).toMatch(/tradingengine\.trading\.nexus\.dev\/minimal serverside-applied \(server dry run\)/);
    expect(result.out).toMatch(/clusterlatencygate\.trading\.nexus\.dev\/low-latency serverside-applied \(server dry run\)/);
    expect(result.out).toMatch(/latencygate\.trading\.nexus\.dev\/equities-gate serverside-applied \(server dry run\)/);
    expect(result.code).toBe(0);
  });

  it('creates the revision ReplicaSet, ConfigMap and Service with owner references; the pods run and the engine turns Ready', async () => {
    apply(manifest('alpha', (spec) => { spec.replicas = 2; }));
    await eventually(() => condition('alpha', 'Ready')?.status === 'True', { timeoutMs: 90_000, what: 'alpha Ready=True', context: tail });
    const te = engine('alpha');
    const [rs, ...others] = replicaSetsOf('alpha');
    expect(others).toHaveLength(0);
    expect(rs?.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'TradingEngine', name: 'alpha', controller: true, blockOwnerDeletion: true })]);
    expect(rs?.metadata.name).toBe(`alpha-${te?.status?.updateRevision ?? ''}`);
    expect(te?.status).toMatchObject({ observedGeneration: te?.metadata.generation, phase: 'Healthy', readyReplicas: 2, stableRevision: te?.status?.updateRevision });
    expect(te?.status?.selector).toBe('app.kubernetes.io/name=nexus-engine,app.kubernetes.io/instance=alpha');
    for (const kind of ['configmap', 'service']) {
      const owned = getJson<{ items: Array<{ metadata: Meta }> }>([kind, '-l', 'app.kubernetes.io/instance=alpha'])?.items ?? [];
      expect(owned.length).toBe(1);
      expect(owned[0]?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'TradingEngine', name: 'alpha' });
    }
    const pods = podsOf('alpha');
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.status.podIP).toMatch(/^127\.0\.0\.\d+$/);
      const response = await fetch(`http://${pod.status.podIP ?? ''}:9100/metrics`);
      expect(await response.text()).toContain('nexus_engine_tick_to_order_latency_window_micros');
    }
    // The operator commits a transition to status before it records the Event: allow it a moment.
    const reasonsOf = (name: string): string => kubectl(cluster.kubeconfig, ['get', 'events', '-n', namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={.items[*].reason}']).out;
    await eventually(() => reasonsOf('alpha').includes('RevisionAvailable'), { timeoutMs: 10_000, what: 'RevisionAvailable Event', context: tail });
    const events = reasonsOf('alpha');
    expect(events).toContain('RevisionCreated');
    expect(events).toContain('RevisionAvailable');
  }, 120_000);

  it('makes zero writes over ten resyncs of a steady state', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = controller?.stats();
    const versions = (): string => [
      engine('alpha')?.metadata.resourceVersion,
      ...replicaSetsOf('alpha').map((rs) => rs.metadata.resourceVersion),
    ].join(',');
    const versionsBefore = versions();
    for (let i = 0; i < 10; i++) {
      controller?.resyncAll();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await eventually(() => (controller?.stats().reconciles ?? 0) >= (before?.reconciles ?? 0) + 10, { timeoutMs: 10_000, what: 'ten reconciles', context: tail });
    expect(controller?.stats().writes).toBe(before?.writes);
    expect(versions()).toBe(versionsBefore);
  });

  it('gives an engine with a control socket its CURVE keys (Secret) and a NetworkPolicy the API server accepts; the pod answers only those keys', async () => {
    apply(manifest('secure', (spec) => {
      spec.engine.zeromq.endpoints.push({ name: 'control', role: 'control', bindPort: 5560 }, { name: 'signals', role: 'signals', bindPort: 5557 });
    }));
    await eventually(() => condition('secure', 'Ready')?.status === 'True', { timeoutMs: 90_000, what: 'secure Ready=True', context: tail });
    const secret = getJson<{ metadata: Meta; type: string; data: Record<string, string> }>(['secret', 'secure-control']);
    expect(secret?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'TradingEngine', name: 'secure', controller: true });
    expect(Object.keys(secret?.data ?? {}).sort()).toEqual(['client.key', 'client.pub', 'server.key', 'server.pub']);
    const keys = clientKeysOf(controlKeysOf({ data: secret?.data }) ?? {});

    const policy = getJson<{ metadata: Meta; spec: { podSelector: unknown; policyTypes: string[]; ingress: Array<{ from?: unknown[]; ports: Array<{ port: number; protocol: string }> }> } }>(['networkpolicy', 'secure-engine']);
    expect(policy?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'TradingEngine', name: 'secure' });
    expect(policy?.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'nexus-engine', 'app.kubernetes.io/instance': 'secure' } });
    expect(policy?.spec.policyTypes).toEqual(['Ingress']);
    expect(policy?.spec.ingress.map((rule) => [rule.from?.length ?? 0, rule.ports.map((port) => port.port)])).toEqual([[1, [5560, 9100]], [1, [9100]], [0, [5557]]]);
    const service = getJson<{ spec: { ports: Array<{ name: string }> } }>(['service', 'secure']);
    expect(service?.spec.ports.map((port) => port.name)).toEqual(['metrics', 'signals']);

    const [pod] = podsOf('secure');
    const address = `tcp://${pod?.status.podIP ?? ''}:5560`;
    const answer = await sendControl(address, ControlCommand.Status, { keys, timeoutMs: 5_000 });
    expect(answer.body).toMatchObject({ controlAuthenticated: true, ordersEnabled: true, ordersLatched: false });
    await expect(sendControl(address, ControlCommand.OrdersOff, { timeoutMs: 700 })).rejects.toThrow(/no answer/);
    expect((await sendControl(address, ControlCommand.Status, { keys })).body).toMatchObject({ ordersEnabled: true });
  }, 120_000);

  it('rolls a spec change out as a new revision and scales the old one to zero once the new one is available', async () => {
    const oldRevision = engine('alpha')?.status?.stableRevision ?? '';
    apply(manifest('alpha', (spec) => { spec.replicas = 2; spec.engine.risk = { maxOrderQty: 50 }; }));
    await eventually(() => {
      const status = engine('alpha')?.status;
      return status?.stableRevision !== undefined && status.stableRevision !== oldRevision && status.phase === 'Healthy';
    }, { timeoutMs: 90_000, what: 'new revision stable', context: tail });
    const sets = replicaSetsOf('alpha');
    expect(sets).toHaveLength(2);
    await eventually(() => replicaSetsOf('alpha').find((rs) => rs.metadata.name === `alpha-${oldRevision}`)?.spec.replicas === 0, { timeoutMs: 10_000, what: 'old scaled to 0', context: tail });
    await eventually(() => podsOf('alpha').length === 2, { timeoutMs: 30_000, what: 'old pods gone', context: tail });
  }, 120_000);

  it('reports what the schema cannot catch as Ready=False InvalidSpec with the field path, and deletes nothing', async () => {
    const setsBefore = replicaSetsOf('alpha').map((rs) => `${rs.metadata.name}:${rs.spec.replicas}`).sort();
    apply(manifest('alpha', (spec) => {
      spec.replicas = 2;
      spec.engine.risk = { maxOrderQty: 50 };
      spec.engine.indicators[0].params = { period: 0 };
    }));
    await eventually(() => condition('alpha', 'Ready')?.reason === 'InvalidSpec', { timeoutMs: 15_000, what: 'InvalidSpec', context: tail });
    expect(condition('alpha', 'Ready')?.message).toMatch(/spec\.engine\.indicators\[0\]\.params\.period: must be an integer >= 1/);
    expect(engine('alpha')?.status?.phase).toBe('InvalidSpec');
    expect(replicaSetsOf('alpha').map((rs) => `${rs.metadata.name}:${rs.spec.replicas}`).sort()).toEqual(setsBefore);
    expect(podsOf('alpha')).toHaveLength(2);
    // Fixing the spec returns to the running revision without a new one.
    apply(manifest('alpha', (spec) => { spec.replicas = 2; spec.engine.risk = { maxOrderQty: 50 }; }));
    await eventually(() => condition('alpha', 'Ready')?.status === 'True', { timeoutMs: 15_000, what: 'Ready again', context: tail });
    expect(replicaSetsOf('alpha')).toHaveLength(2);
  }, 60_000);

  it('never takes over a Service it does not own: Ready=False ResourceExists naming it, the Service unchanged, no child written', async () => {
    apply(stringify({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'occupied', namespace, labels: { team: 'web' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] },
    }));
    const before = getJson<{ metadata: Meta; spec: { selector: Record<string, string> } }>(['service', 'occupied']);
    apply(manifest('occupied'));
    await eventually(() => condition('occupied', 'Ready')?.reason === 'ResourceExists', { timeoutMs: 30_000, what: 'occupied Ready=False ResourceExists', context: tail });
    const ready = condition('occupied', 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ResourceExists' });
    expect(ready?.message).toBe(`Service ${namespace}/occupied (no controller) already exists and is not owned by this TradingEngine: not overwritten; delete or rename it`);
    expect(engine('occupied')?.status?.phase).toBe('Degraded');
    const after = getJson<{ metadata: Meta; spec: { selector: Record<string, string> } }>(['service', 'occupied']);
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(after?.metadata.ownerReferences).toBeUndefined();
    expect(after?.spec.selector).toEqual({ app: 'web' });
    expect(replicaSetsOf('occupied')).toEqual([]);
    const warnings = (): string => kubectl(cluster.kubeconfig, ['get', 'events', '-n', namespace, '--field-selector', 'involvedObject.name=occupied,reason=ResourceExists', '-o', 'jsonpath={.items[*].message}']).out;
    await eventually(() => warnings() !== '', { timeoutMs: 10_000, what: 'ResourceExists Event', context: tail });
    expect(warnings()).toContain(`Service ${namespace}/occupied (no controller) already exists`);
    // Once the name is free, the next look (any change to the engine, or 30 s later) creates the engine's own Service.
    kubectlOrThrow(cluster.kubeconfig, ['delete', 'service', 'occupied', '-n', namespace]);
    apply(manifest('occupied', (spec) => { spec.replicas = 1; spec.minReadySeconds = 1; }));
    await eventually(() => getJson<{ metadata: Meta }>(['service', 'occupied'])?.metadata.ownerReferences?.[0]?.name === 'occupied', { timeoutMs: 30_000, what: 'the engine Service created', context: tail });
    kubectlOrThrow(cluster.kubeconfig, ['delete', 'tradingengine', 'occupied', '-n', namespace, '--wait=false']);
  }, 90_000);

  it('puts the GPU in the pod limits, tolerates the GPU taint, and reports pods that find no GPU', async () => {
    apply(manifest('gpu', (spec) => { spec.replicas = 3; spec.template.gpu = { count: 1 }; }));
    await eventually(() => condition('gpu', 'GPUSchedulable')?.status === 'False', { timeoutMs: 60_000, what: 'GPUSchedulable=False', context: tail });
    expect(condition('gpu', 'GPUSchedulable')).toMatchObject({ reason: 'InsufficientGPU' });
    expect(condition('gpu', 'GPUSchedulable')?.message).toMatch(/Insufficient nvidia\.com\/gpu/);
    const rs = replicaSetsOf('gpu')[0];
    expect(rs?.spec.template.spec.containers[0]?.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(rs?.spec.template.spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    await eventually(() => podsOf('gpu').filter((pod) => pod.status.podIP !== undefined).length === 2, { timeoutMs: 60_000, what: 'two GPU pods running', context: tail });
    const gpuEvents = (): string => kubectl(cluster.kubeconfig, ['get', 'events', '-n', namespace, '--field-selector', 'involvedObject.name=gpu,reason=InsufficientGPU', '-o', 'jsonpath={.items[*].message}']).out;
    await eventually(() => gpuEvents() !== '', { timeoutMs: 10_000, what: 'InsufficientGPU Event', context: tail });
    const events = gpuEvents();
    expect(events).toMatch(/0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu/);
    // Two GPUs on the node: scaling to two fits.
    apply(manifest('gpu', (spec) => { spec.replicas = 2; spec.template.gpu = { count: 1 }; }));
    await eventually(() => condition('gpu', 'GPUSchedulable')?.status === 'True' && condition('gpu', 'Ready')?.status === 'True', { timeoutMs: 90_000, what: 'GPU engine ready', context: tail });
  }, 180_000);

  it('says why no pod exists: a ReplicaSet that cannot create pods (no such RuntimeClass) shows as ReplicaFailure', async () => {
    apply(manifest('noclass', (spec) => { spec.template.gpu = { count: 1, runtimeClassName: 'no-such-class' }; }));
    await eventually(() => condition('noclass', 'ReplicaFailure')?.status === 'True', { timeoutMs: 60_000, what: 'ReplicaFailure=True', context: tail });
    expect(condition('noclass', 'ReplicaFailure')).toMatchObject({ reason: 'FailedCreate' });
    expect(condition('noclass', 'ReplicaFailure')?.message).toMatch(/^ReplicaSet noclass-\w+ cannot create pods: .*RuntimeClass "no-such-class" not found/);
    expect(condition('noclass', 'GPUSchedulable')).toMatchObject({ status: 'Unknown', reason: 'NoPods' });
    const warnings = (): string => kubectl(cluster.kubeconfig, ['get', 'events', '-n', namespace, '--field-selector', 'involvedObject.name=noclass,reason=FailedCreate', '-o', 'jsonpath={.items[*].message}']).out;
    await eventually(() => warnings() !== '', { timeoutMs: 10_000, what: 'FailedCreate Event on the engine', context: tail });
    expect(kubectl(cluster.kubeconfig, ['delete', 'tradingengine', 'noclass', '-n', namespace, '--wait=true']).code).toBe(0);
  }, 90_000);

  it('says why an engine keeps exiting: a strategy module that is not there shows as EngineFailing with the engine\'s own message', async () => {
    apply(manifest('nomodule', (spec) => {
      spec.engine.strategies = [{ name: 'mine', module: '/nonexistent/strategy.ts', indicators: ['rsi-14'] }];
    }));
    await eventually(() => condition('nomodule', 'EngineFailing')?.status === 'True', { timeoutMs: 60_000, what: 'EngineFailing=True', context: tail });
    expect(condition('nomodule', 'EngineFailing')).toMatchObject({ reason: 'ConfigurationRejected' });
    expect(condition('nomodule', 'EngineFailing')?.message).toMatch(/^Pod nomodule-\w+-\w+: the engine exited with code 2 \(its configuration or a strategy module was rejected; \d+ restarts\): strategy module \/nonexistent\/strategy.ts: no such file$/);
    const warnings = (): string => kubectl(cluster.kubeconfig, ['get', 'events', '-n', namespace, '--field-selector', 'involvedObject.name=nomodule,reason=EngineExited', '-o', 'jsonpath={.items[*].message}']).out;
    await eventually(() => warnings().includes('strategy module /nonexistent/strategy.ts: no such file'), { timeoutMs: 10_000, what: 'EngineExited Event on the engine', context: tail });
    expect(kubectl(cluster.kubeconfig, ['delete', 'tradingengine', 'nomodule', '-n', namespace, '--wait=true']).code).toBe(0);
  }, 90_000);

  it('runs a strategy module kept in a labelled ConfigMap, rolls out a new revision when its source changes, and names a missing key', async () => {
    const source = readFileSync(`${root}examples/strategies/ema-cross.ts`, 'utf8');
    const configMap = (text: string): string => stringify({
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: 'desk-strategies', namespace, labels: { 'trading.nexus.dev/strategy-module': 'true' } },
      data: { 'cross.ts': text },
    });
    apply(configMap(source));
    const withModule = (key: string) => manifest('cmmodule', (spec) => {
      spec.engine.indicators = [{ name: 'ema-12', type: 'ema', params: { period: 12 } }, { name: 'ema-26', type: 'ema', params: { period: 26 } }];
      spec.engine.strategies = [{ name: 'cross', moduleConfigMap: { name: 'desk-strategies', key }, indicators: ['ema-12', 'ema-26'] }];
    });
    apply(withModule('cross.ts'));
    await eventually(() => condition('cmmodule', 'Ready')?.status === 'True', { timeoutMs: 90_000, what: 'cmmodule Ready=True (its module loaded)', context: tail });
    const first = engine('cmmodule')?.status?.updateRevision ?? '';
    const revisionConfig = getJson<{ data: Record<string, string> }>(['configmap', `cmmodule-${first}-config`]);
    const copied = Object.keys(revisionConfig?.data ?? {}).find((key) => key.startsWith('strategy-cross-'));
    expect(copied).toMatch(/^strategy-cross-[0-9a-f]{12}\.mts$/);
    expect(revisionConfig?.data[copied ?? '']).toBe(source);
    expect(revisionConfig?.data['engine.yaml']).toContain(`module: ./${copied ?? ''}`);
    const pod = podsOf('cmmodule')[0];
    const metrics = await (await fetch(`http://${pod?.status.podIP ?? ''}:9100/metrics`)).text();
    expect(metrics).toContain('nexus_engine_signals_total{strategy="cross"}');

    // A new source is a new revision, rolled out; the old revision's ConfigMap keeps the old source.
    apply(configMap(`${source}\n// v2: same logic, new source\n`));
    await eventually(() => engine('cmmodule')?.status, {
      until: (status) => status?.updateRevision !== first && status?.stableRevision === status?.updateRevision && status?.phase === 'Healthy',
      timeoutMs: 90_000, what: 'a new revision for the new source, stable', context: tail,
    });
    expect(getJson<{ data: Record<string, string> }>(['configmap', `cmmodule-${first}-config`])?.data[copied ?? '']).toBe(source);

    apply(withModule('missing.ts'));
    await eventually(() => condition('cmmodule', 'Ready')?.reason === 'InvalidSpec', { timeoutMs: 30_000, what: 'InvalidSpec for a missing key', context: tail });
    expect(condition('cmmodule', 'Ready')?.message).toContain(`spec.engine.strategies[0].moduleConfigMap.key: ConfigMap ${namespace}/desk-strategies has no key "missing.ts"`);
    expect(kubectl(cluster.kubeconfig, ['delete', 'tradingengine', 'cmmodule', '-n', namespace, '--wait=true']).code).toBe(0);
    expect(kubectl(cluster.kubeconfig, ['delete', 'configmap', 'desk-strategies', '-n', namespace]).code).toBe(0);
  }, 240_000);

  it('runs a sandboxed WebAssembly strategy module from a ConfigMap\'s binaryData (kubectl create configmap --from-file)', async () => {
    const wasmFile = `${root}build/wasm/strategies/ema-cross.wasm`;
    const created = kubectl(cluster.kubeconfig, ['create', 'configmap', 'desk-wasm', '-n', namespace, `--from-file=cross.wasm=${wasmFile}`]);
    expect(created.code, created.err).toBe(0);
    expect(kubectl(cluster.kubeconfig, ['label', 'configmap', 'desk-wasm', '-n', namespace, 'trading.nexus.dev/strategy-module=true']).code).toBe(0);
    apply(manifest('wasmmodule', (spec) => {
      spec.engine.indicators = [{ name: 'ema-12', type: 'ema', params: { period: 12 } }, { name: 'ema-26', type: 'ema', params: { period: 26 } }];
      spec.engine.strategies = [{ name: 'cross', moduleConfigMap: { name: 'desk-wasm', key: 'cross.wasm' }, indicators: ['ema-12', 'ema-26'] }];
    }));
    await eventually(() => condition('wasmmodule', 'Ready')?.status === 'True', { timeoutMs: 90_000, what: 'wasmmodule Ready=True (its WebAssembly module loaded)', context: tail });
    const revision = engine('wasmmodule')?.status?.updateRevision ?? '';
    const revisionConfig = getJson<{ data: Record<string, string>; binaryData: Record<string, string> }>(['configmap', `wasmmodule-${revision}-config`]);
    const copied = Object.keys(revisionConfig?.binaryData ?? {}).find((key) => key.startsWith('strategy-cross-')) ?? '';
    expect(copied).toMatch(/^strategy-cross-[0-9a-f]{12}\.wasm$/);
    expect(Buffer.from(revisionConfig?.binaryData[copied] ?? '', 'base64').equals(readFileSync(wasmFile))).toBe(true);
    const pod = podsOf('wasmmodule')[0];
    // The engine loaded it (a module that fails to load exits 2 and is never Ready) and runs it without a fault.
    const metrics = await (await fetch(`http://${pod?.status.podIP ?? ''}:9100/metrics`)).text();
    expect(metrics).toContain('nexus_engine_signals_total{strategy="cross"}');
    expect(metrics).toContain('nexus_engine_strategy_faults_total{strategy="cross"} 0');
    expect(kubectl(cluster.kubeconfig, ['delete', 'tradingengine', 'wasmmodule', '-n', namespace, '--wait=true']).code).toBe(0);
    expect(kubectl(cluster.kubeconfig, ['delete', 'configmap', 'desk-wasm', '-n', namespace]).code).toBe(0);
  }, 180_000);

  it('warm-starts a pod started while the market is open from its history volume: it decides as the pod running since the open', async () => {
    // The market: history ticks the first pod sees live, then live ticks both pods see.
    const symbols = ['AAPL', 'MSFT', 'NVDA'];
    const HISTORY = 6_000;
    const market = marketTicks(symbols, HISTORY + 1_200, 9);
    const history = { ...market, count: HISTORY };
    const feed = new Publisher({ linger: 0, sendHighWaterMark: 1_000_000 });
    // Its own feed and gateway ports: the engines other tests leave running trade AAPL on the shared ones.
    const feedPort = await freePort();
    const gatewayPort = await freePort();
    await feed.bind(`tcp://127.0.0.1:${feedPort}`);
    const gateway = new OrderSink({ ordersBind: `tcp://127.0.0.1:${gatewayPort}`, clockNs: monoNowNs });
    await gateway.open();
    const indexOf = new Map(symbols.map((symbol, index) => [symbolId(symbol), index]));
    const received: Array<RecordedOrder & { instance: number }> = [];
    gateway.onOrder = (order) => {
      received.push({ instance: Math.floor(order.orderId / 2 ** 32), symbolIndex: indexOf.get(order.symbolId) ?? -1, strategyId: order.strategyId, side: order.side, price: order.price, quantity: order.quantity });
    };
    const gatewayLoop = gateway.run();
    const writer = new TickFrameWriter(1);
    let sequence = 0;
    const publish = async (s: number, kind: number, price: number, size: number): Promise<void> => {
      writer.begin(11, sequence++);
      writer.append(symbolId(symbols[s]), kind, price, size, sequence, monoNowNs());
      await feed.send([Buffer.from(symbols[s]), writer.finish(monoNowNs())]);
    };
    const publishTicks = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        await publish(market.symbolIndex[i], market.kind[i], market.price[i], market.size[i]);
        if (i % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const bid = (last: boolean): number => {
      for (let k = 0; k < HISTORY; k++) {
        const i = last ? HISTORY - 1 - k : k;
        if (market.symbolIndex[i] === 0 && market.kind[i] === TickKind.Bid) return market.price[i];
      }
      throw new Error('no AAPL bid in the history');
    };
    const ticksOf = async (pod: PodJson): Promise<number> => (await engineMetric(pod.status.podIP ?? '', 'nexus_engine_ticks_received_total')) ?? 0;
    // PUB/SUB joins asynchronously: a bid the pod's book already holds (or is about to hold) until it has one.
    const join = async (pod: PodJson, price: number): Promise<void> => {
      await eventually(async () => {
        await publish(0, TickKind.Bid, price, 1);
        return ticksOf(pod);
      }, { timeoutMs: 20_000, intervalMs: 100, until: (n) => n > 0, what: `ticks at ${pod.metadata.name}`, context: tail });
    };
    const historyConfigMap = (ticks: string): string => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'desk-history', namespace }, data: { 'ticks.csv': ticks } });
    try {
      // At the open the recorded history is empty: the first pod starts with cold indicators (short symbols, warned).
      apply(historyConfigMap(tickCsv({ ...market, count: 0 })));
      const spec = (engineSpec: Record<string, any>): void => { // eslint-disable-line @typescript-eslint/no-explicit-any
        engineSpec.engine.zeromq.endpoints = [
          { name: 'md', role: 'marketData', address: `tcp://127.0.0.1:${feedPort}` },
          { name: 'orders', role: 'orders', address: `tcp://127.0.0.1:${gatewayPort}` },
        ];
        engineSpec.engine.symbols = symbols;
        engineSpec.engine.indicators = [...standardIndicators];
        engineSpec.engine.strategies = [
          { name: 'macd-cross', type: 'macdCross', indicators: ['macd'], params: { orderQuantity: 10 } },
          { name: 'bb-breakout', type: 'bollingerBreakout', indicators: ['bb-20'], params: { orderQuantity: 5 } },
        ];
        engineSpec.engine.risk = { maxOrderQty: 1000, maxPosition: 1_000_000, maxNotional: 1e12, priceBandBps: 5000, ordersEnabled: true };
        engineSpec.engine.history = { path: 'ticks.csv', volume: { configMap: { name: 'desk-history' } }, maxTradesPerSymbol: 100_000, strategyReplayTrades: 20, onError: 'coldStart' };
      };
      apply(manifest('warmstart', spec));
      await eventually(() => condition('warmstart', 'Ready')?.status === 'True', { timeoutMs: 90_000, what: 'warmstart Ready=True', context: tail });
      const [open] = podsOf('warmstart');
      const revision = engine('warmstart')?.status?.updateRevision;
      expect(await engineMetric(open.status.podIP ?? '', 'nexus_engine_warm_start_short_symbols')).toBe(symbols.length);

      // The market runs: the first pod streams the history live.
      await join(open, bid(false));
      const joined = await ticksOf(open);
      await publishTicks(0, HISTORY);
      await eventually(() => ticksOf(open), { timeoutMs: 30_000, until: (n) => n >= joined + HISTORY, what: 'the history at the first pod', context: tail });

      // Mid-session, with the day's ticks recorded, a second pod of the same revision starts and warm-starts.
      apply(historyConfigMap(tickCsv(history)));
      kubectlOrThrow(cluster.kubeconfig, ['scale', 'tradingengine', 'warmstart', '-n', namespace, '--replicas=2']);
      await eventually(() => podsOf('warmstart').filter((pod) => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')), {
        timeoutMs: 90_000, until: (pods) => pods.length === 2, what: 'two Ready pods', context: tail,
      });
      expect(engine('warmstart')?.status?.updateRevision).toBe(revision);
      const late = podsOf('warmstart').find((pod) => pod.metadata.name !== open.metadata.name) as PodJson;
      expect(await engineMetric(late.status.podIP ?? '', 'nexus_engine_warm_start_short_symbols')).toBe(0);
      expect(await engineMetric(late.status.podIP ?? '', 'nexus_engine_warm_start_trades{part="seeded"}')).toBeGreaterThan(1_000);
      await join(late, bid(true)); // the bid both books hold now

      // The next ticks: both pods order exactly what an engine that streamed the history would.
      const before = received.length;
      const sinceOpen = new Set(received.map((order) => order.instance)); // the first pod's, from the history
      await publishTicks(HISTORY, market.count);
      // The reference runs the engine configuration the operator rendered (schema defaults in), without the history.
      const stored = getJson<{ spec: TradingEngineSpec }>(['tradingengine', 'warmstart'])?.spec as TradingEngineSpec;
      const config = parseEngineConfig({ ...renderEngineConfig(stored), history: undefined });
      const reference = streamedSinceOpen(config, history, 100_000);
      for (let i = HISTORY; i < market.count; i++) reference.tick(market.symbolIndex[i], market.kind[i], market.price[i], market.size[i]);
      expect(reference.orders.length).toBeGreaterThan(5);
      // Orders by the process that sent them (the order id's instance): the first pod's instance sent orders during
      // the history already (a restart would give it another and fail this), the late pod's did not.
      const byInstance = (open: boolean): RecordedOrder[] => received.slice(before)
        .filter((order) => sinceOpen.has(order.instance) === open)
        .map(({ instance: _instance, ...order }) => order);
      await eventually(() => [byInstance(true).length, byInstance(false).length], {
        timeoutMs: 30_000, until: ([open, late]) => open >= reference.orders.length && late >= reference.orders.length,
        what: 'both pods\' orders on the live ticks', context: tail,
      });
      const bySymbol = (orders: readonly RecordedOrder[]) => symbols.map((_, s) => orders.filter((o) => o.symbolIndex === s));
      expect(bySymbol(byInstance(true))).toEqual(bySymbol(reference.orders));
      expect(bySymbol(byInstance(false))).toEqual(bySymbol(reference.orders));
    } finally {
      feed.close();
      gateway.close();
      await gatewayLoop.catch(() => undefined);
      kubectl(cluster.kubeconfig, ['delete', 'tradingengine', 'warmstart', '-n', namespace, '--wait=true', '--ignore-not-found']);
      kubectl(cluster.kubeconfig, ['delete', 'configmap', 'desk-history', '-n', namespace, '--ignore-not-found']);
    }
  }, 240_000);

  it('recovers from a killed watch and from an expired resourceVersion (410 Gone)', async () => {
    const restarts = async (reason: string): Promise<number> => {
      const metric = (await metrics?.watchRestarts.get())?.values ?? [];
      return metric.filter((v) => v.labels.reason === reason).reduce((sum, v) => sum + v.value, 0);
    };
    controller?.dropWatches();
    apply(manifest('alpha', (spec) => { spec.replicas = 1; spec.engine.risk = { maxOrderQty: 50 }; }));
    await eventually(() => engine('alpha')?.status?.readyText === '1/1' && condition('alpha', 'Ready')?.status === 'True', { timeoutMs: 30_000, what: 'scaled to 1 after a dropped watch', context: tail });
    expect(await restarts('error')).toBeGreaterThanOrEqual(5);

    controller?.expireWatches();
    await eventually(() => lines.some((line) => /Watch failed .* code=410/.test(line)), { timeoutMs: 10_000, what: 'a 410 answer', context: tail });
    apply(manifest('alpha', (spec) => { spec.replicas = 2; spec.engine.risk = { maxOrderQty: 50 }; }));
    await eventually(() => engine('alpha')?.status?.readyText === '2/2', { timeoutMs: 60_000, what: 'scaled to 2 after an expired watch', context: tail });
    expect(await restarts('expired')).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('garbage-collects every child when the TradingEngine is deleted, engine processes included', async () => {
    const pids = [...(agent?.pids().values() ?? [])];
    expect(pids.length).toBeGreaterThan(0);
    expect(kubectl(cluster.kubeconfig, ['delete', 'tradingengine', '-n', namespace, 'alpha', 'gpu', 'secure', '--wait=true', '--timeout=60s']).code).toBe(0);
    await eventually(() => replicaSetsOf('alpha').length === 0 && replicaSetsOf('gpu').length === 0, { timeoutMs: 60_000, what: 'ReplicaSets collected', context: tail });
    await eventually(() => podsOf('alpha').length === 0 && podsOf('gpu').length === 0, { timeoutMs: 60_000, what: 'Pods collected', context: tail });
    await eventually(() => (getJson<{ items: unknown[] }>(['configmaps,services,secrets,networkpolicies', '-l', 'app.kubernetes.io/managed-by=nexus-operator'])?.items.length ?? 1) === 0, { timeoutMs: 30_000, what: 'ConfigMaps, Services, Secrets and NetworkPolicies collected', context: tail });
    await eventually(() => agent?.pids().size === 0, { timeoutMs: 30_000, what: 'engine processes stopped', context: tail });
  }, 120_000);
});
