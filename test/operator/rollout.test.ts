import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { TradingEngine } from '../../operator/api/types.ts';
import { startRolloutLab, type MutableSpec, type RolloutLab } from '../../cli/commands/rollout-lab.ts';
import { requestRollout } from '../../operator/kube/rollout-requests.ts';
import { apiRequest } from '../../operator/kube/api-request.ts';
import { sendControl } from '../../engine/control/control-client.ts';
import { clientKeysOf } from '../../engine/control/control-keys.ts';
import { controlKeysOf } from '../../operator/render/control-secret.ts';
import { ControlCommand, ControlStatus } from '../../engine/wire/layout.ts';
import { spawnNexus, waitForExit } from '../../cli/lib/processes.ts';
import { engineMetric } from '../support/engines.ts';
import { eventually } from '../support/eventually.ts';
import type { PodJson } from '../support/kube.ts';

/**
 * Latency-gated canary rollouts end to end against a real API server, with real engines (node agent processes),
 * a real market-data feed and order sink, and the operator's controller: a healthy revision is promoted through
 * every step; a revision with injected latency is aborted by the gate, its orders cut through the control socket
 * (seen in the canary engine's own metrics) before it is scaled down, with one Event carrying the measured p99
 * and the threshold; the stable set never drops below spec.replicas; an operator restart mid-canary resumes
 * without duplicate ReplicaSets or Events; a manual abort and a retry through `nexus rollout` requests work.
 */
let lab: RolloutLab | undefined;
const lines: string[] = [];
const log = (line: string): void => {
  lines.push(line);
};
const name = 'gate';

const tail = (): string => lines.slice(-30).join('\n');

interface ReplicaSetJson { metadata: { name: string; labels: Record<string, string> }; spec: { replicas: number }; status: { availableReplicas?: number } }

const replicaSetsOf = async (instance: string): Promise<ReplicaSetJson[]> => {
  const list = await apiRequest<{ items: ReplicaSetJson[] }>(lab?.kubeConfig ?? (undefined as never), {
    method: 'GET', path: `/apis/apps/v1/namespaces/${lab?.namespace ?? ''}/replicasets`, query: { labelSelector: `app.kubernetes.io/instance=${instance}` },
  });
  return list.items;
};
const replicaSets = async (): Promise<ReplicaSetJson[]> => replicaSetsOf(name);
const pods = async (): Promise<PodJson[]> => {
  const list = await apiRequest<{ items: PodJson[] }>(lab?.kubeConfig ?? (undefined as never), {
    method: 'GET', path: `/api/v1/namespaces/${lab?.namespace ?? ''}/pods`, query: { labelSelector: `app.kubernetes.io/instance=${name}` },
  });
  return list.items;
};
const engine = async (): Promise<TradingEngine | undefined> => lab?.read(name);
const reasons = (events: readonly CoreV1Event[]): string[] => events.map((event) => event.reason ?? '');
/**
 * The engine's Events once `reason` has been recorded `times` times. The operator commits a transition to status
 * before it records the Event, so a test that saw the status must wait a moment for the Event.
 */
const eventsOnce = async (engineName: string, reason: string, times = 1): Promise<CoreV1Event[]> =>
  eventually(async () => await lab?.events(engineName) ?? [], { until: (events) => count(events, reason) >= times, timeoutMs: 10_000, what: `${times} ${reason} Event(s)`, context: tail });
const count = (events: readonly CoreV1Event[], reason: string): number => events.filter((event) => event.reason === reason).length;

/** `nexus rollout ARGS` as a real process against the lab's API server: its exit code, output and run time. */
async function nexusRollout(args: readonly string[], timeoutMs = 30_000): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const started = Date.now();
  const child = spawnNexus(['rollout', ...args, '--kubeconfig', lab?.kubeconfigPath ?? '']);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { code: await waitForExit(child, timeoutMs), out, err, ms: Date.now() - started };
}

/**
 * Watches the stable ReplicaSet's size while `revision` is the stable revision: the smallest size seen. A sample
 * counts only when the engine, read after the ReplicaSet, still names `revision` stable: the operator commits a
 * promotion to status before it scales the old set down, so such a sample predates the promotion.
 */
function watchStableSize(revision: string): { stop: () => Promise<number> } {
  let smallest = Number.POSITIVE_INFINITY;
  let running = true;
  const loop = (async () => {
    while (running) {
      const stable = (await replicaSets().catch(() => undefined))?.find((rs) => rs.metadata.labels['trading.nexus.dev/revision'] === revision);
      const stillStable = (await engine().catch(() => undefined))?.status?.stableRevision === revision;
      if (stable !== undefined && stillStable) smallest = Math.min(smallest, stable.spec.replicas);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return { stop: async () => { running = false; await loop; return smallest; } };
}

beforeAll(async () => {
  lab = await startRolloutLab({ log });
}, 180_000);

afterAll(async () => {
  await lab?.stop();
}, 60_000);

describe('latency-gated canary rollouts against a real API server and real engines', () => {
  let v1 = '';
  let v2 = '';

  it('creates v1 without a canary (first revision) and makes it stable', async () => {
    await lab?.apply(lab.manifest(name));
    const te = await eventually(engine, { until: (e) => e?.status?.phase === 'Healthy' && e.status.stableRevision !== undefined, timeoutMs: 90_000, what: 'v1 Healthy', context: tail });
    v1 = te?.status?.stableRevision ?? '';
    expect(te?.status?.stableHistory).toEqual([v1]);
    // Two shards of two symbols each, one per v1 pod (docs/ownership.md). The first pod Ready takes both; the second
    // takes one over when it is Ready, at the next epoch.
    const owned = await eventually(engine, {
      until: (e) => (e?.status?.shards ?? []).filter((shard) => shard.granted === true).length === 2 && new Set(e?.status?.shards?.map((shard) => shard.owner)).size === 2,
      timeoutMs: 30_000, what: 'both shards granted, one per pod', context: tail,
    });
    const shards = owned?.status?.shards ?? [];
    expect(shards.map((shard) => [shard.shard, shard.symbols.length])).toEqual([[0, 2], [1, 2]]);
    expect(shards.every((shard) => shard.epoch >= 1)).toBe(true);
    expect(shards.flatMap((shard) => shard.symbols).sort()).toEqual(['AAPL', 'AMZN', 'MSFT', 'NVDA']);
    expect(reasons(await eventsOnce(name, 'RevisionAvailable'))).not.toContain('RolloutStarted');
  }, 120_000);

  it('promotes a healthy v2 through setWeight 50, analysis and setWeight 100, the operator restarted mid-canary', async () => {
    const stableSize = watchStableSize(v1);
    await lab?.apply(lab.manifest(name, (spec) => { spec.template.image = 'nexus/engine:v2'; }));
    // Kill the operator once the canary is in its analysis step, then let a fresh one resume from status alone.
    await eventually(engine, { until: (e) => e?.status?.currentStepIndex === 1 && e.status.analysis?.phase === 'Running', timeoutMs: 90_000, what: 'v2 in analysis', context: tail });
    await lab?.restartOperator();
    const te = await eventually(engine, { until: (e) => e?.status?.phase === 'Healthy' && e.status.stableRevision !== v1, timeoutMs: 120_000, what: 'v2 promoted', context: tail });
    v2 = te?.status?.stableRevision ?? '';
    expect(te?.status?.updateRevision).toBe(v2);
    expect(te?.status?.stableHistory).toEqual([v2, v1]);
    expect(te?.status?.analysis?.phase).toBe('Successful');
    expect(te?.status?.analysis?.lastMeasurement?.result).toBe('Pass');
    expect(te?.status?.analysis?.lastMeasurement?.p99Micros).toBeLessThanOrEqual(5_000);
    const events = await eventsOnce(name, 'RolloutCompleted');
    // One of each transition, although two operators worked on this rollout.
    for (const reason of ['RolloutStarted', 'AnalysisStarted', 'AnalysisPassed', 'RolloutCompleted']) expect(count(events, reason), reason).toBe(1);
    expect(events.find((event) => event.reason === 'RolloutCompleted')?.message).toMatch(/p99 \d+ µs <= threshold 5000 µs/);
    const sets = await replicaSets();
    expect(sets.filter((rs) => rs.metadata.labels['trading.nexus.dev/revision'] === v2)).toHaveLength(1);
    expect(await stableSize.stop()).toBe(2);
    await eventually(replicaSets, { until: (list) => list.find((rs) => rs.metadata.labels['trading.nexus.dev/revision'] === v1)?.spec.replicas === 0, timeoutMs: 30_000, what: 'v1 scaled to 0', context: tail });
    // The canary took a shard at weight 50 and the rest at 100: every shard now on a v2 pod, each move at a new epoch,
    // and the gateway saw no tick answered twice and no order of a superseded epoch.
    const v2Pods = new Set((await pods()).filter((pod) => pod.metadata.labels?.['trading.nexus.dev/revision'] === v2).map((pod) => pod.metadata.name));
    const moved = await eventually(engine, { until: (e) => (e?.status?.shards ?? []).every((shard) => shard.granted === true && v2Pods.has(shard.owner ?? '')), timeoutMs: 30_000, what: 'every shard on a v2 pod', context: tail });
    expect(moved?.status?.shards?.every((shard) => shard.epoch >= 2)).toBe(true);
    expect(count(await eventsOnce(name, 'ShardMoved', 2), 'ShardMoved')).toBeGreaterThanOrEqual(2);
    expect(lab?.sink.counts.duplicates).toBe(0);
    expect(lab?.sink.counts.staleEpoch).toBe(0);
  }, 240_000);

  it('aborts a slow v3: orders off on the canary first (engine metric), one Event with p99 and threshold, stable untouched', async () => {
    const stableSize = watchStableSize(v2);
    await lab?.apply(lab.manifest(name, (spec) => {
      spec.template.image = 'nexus/engine:v3';
      spec.engine.faultInjection = { extraLatencyMicros: 8_000, affectedPercent: 5 } as MutableSpec['engine']['faultInjection'];
    }));
    const te = await eventually(engine, { until: (e) => e?.status?.phase === 'Aborted', timeoutMs: 120_000, what: 'v3 aborted', context: tail });
    const v3 = te?.status?.updateRevision ?? '';
    expect(te?.status?.abortReason).toBe('LatencyBreach');
    expect(te?.status?.stableRevision).toBe(v2);
    expect(te?.status?.canary?.ordersEnabled).toBe(false);
    expect(te?.status?.analysis?.consecutiveBreaches).toBe(3);
    expect(te?.status?.analysis?.lastMeasurement?.result).toBe('Breach');
    // The canary pod still runs (abortScaleDownDelaySeconds 5) with its orders cut, by its own account.
    const cut = te?.status?.canary?.ordersOffPods ?? [];
    expect(cut).toHaveLength(1);
    const canaryPod = (await pods()).find((pod) => pod.metadata.name === cut[0]);
    expect(canaryPod?.metadata.labels?.['trading.nexus.dev/revision']).toBe(v3);
    expect(await engineMetric(canaryPod?.status.podIP ?? '', 'nexus_engine_orders_enabled')).toBe(0);
    const events = await eventsOnce(name, 'OrdersOff');
    expect(count(events, 'RolloutAborted')).toBe(1);
    expect(count(events, 'OrdersOff')).toBe(1);
    const aborted = events.find((event) => event.reason === 'RolloutAborted');
    expect(aborted?.type).toBe('Warning');
    expect(aborted?.message).toMatch(/p99 \d+ µs > threshold 5000 µs/);
    expect(aborted?.message).toMatch(/3 breaches in a row/);
    // Orders off is recorded before the canary is scaled down, then the canary goes to zero after the delay.
    await eventually(replicaSets, { until: (list) => list.find((rs) => rs.metadata.labels['trading.nexus.dev/revision'] === v3)?.spec.replicas === 0, timeoutMs: 30_000, what: 'v3 scaled to 0', context: tail });
    expect(await stableSize.stop()).toBe(2);
    const after = await engine();
    expect(after?.status?.phase).toBe('Aborted');
    expect((await lab?.events(name) ?? []).filter((event) => event.reason === 'RolloutAborted')).toHaveLength(1);

    // Every analysis so far is on record: v2's passed, v3's failed with its three breaches.
    const history = async (...extra: string[]): Promise<string> => {
      const ran = await nexusRollout(['history', name, '-n', lab?.namespace ?? '', ...extra]);
      expect(ran.code).toBe(0);
      return ran.out;
    };
    const lines = (await history()).trim().split('\n');
    expect(lines.find((line) => line.includes(v3))).toMatch(/Failed\s+\d+ \(\d+\/3\/\d+\/\d+\)/);
    expect(lines.find((line) => line.includes(v2))).toMatch(/Successful\s+\d+ \(\d+\/\d+\/\d+\/\d+\)/);
    // The verdicts' own measurements: three passes in a row ended v2's analysis, three breaches v3's. A busy machine
    // may add a breach, an Error or an Inconclusive earlier in an analysis, never in the deciding run.
    const records = JSON.parse(await history('--json')) as Array<{ revision: string; measurements: Array<{ result: string }> }>;
    const deciding = (revision: string): string[] => (records.find((record) => record.revision === revision)?.measurements ?? []).slice(-3).map((m) => m.result);
    expect(deciding(v2)).toEqual(['Pass', 'Pass', 'Pass']);
    expect(deciding(v3)).toEqual(['Breach', 'Breach', 'Breach']);
  }, 180_000);

  it('retries the aborted v3 through a nexus rollout request: step 0 with zeroed counters, then aborts again', async () => {
    const result = await requestRollout(lab?.kubeConfig ?? (undefined as never), lab?.namespace ?? '', name, 'retry');
    expect(result.outcome).toBe('requested');
    await eventually(engine, { until: (e) => e?.status?.phase !== 'Aborted', timeoutMs: 30_000, what: 'retried', context: tail });
    const events = await eventsOnce(name, 'RolloutRetried');
    expect(count(events, 'RolloutRetried')).toBe(1);
    const te = await eventually(engine, { until: (e) => e?.status?.phase === 'Aborted', timeoutMs: 120_000, what: 'v3 aborted again', context: tail });
    expect(te?.status?.abortReason).toBe('LatencyBreach');
    expect(count(await eventsOnce(name, 'RolloutAborted', 2), 'RolloutAborted')).toBe(2);
  }, 180_000);

  it('a manual abort (nexus rollout abort) of a healthy canary cuts orders and rolls back; the cut holds against the network and a crash', async () => {
    await lab?.apply(lab.manifest(name, (spec) => {
      spec.template.image = 'nexus/engine:v4';
      spec.strategy = { type: 'Canary', canary: { steps: [{ setWeight: 50 }, { pause: {} }, { setWeight: 100 }], abortScaleDownDelaySeconds: 120 } } as MutableSpec['strategy'];
    }));
    await eventually(engine, { until: (e) => e?.status?.phase === 'Paused' && e.status.currentStepIndex === 1, timeoutMs: 90_000, what: 'v4 paused at step 1', context: tail });
    const result = await requestRollout(lab?.kubeConfig ?? (undefined as never), lab?.namespace ?? '', name, 'abort');
    expect(result.outcome).toBe('requested');
    const te = await eventually(engine, { until: (e) => e?.status?.phase === 'Aborted' && (e.status.canary?.cutPods?.length ?? 0) > 0, timeoutMs: 30_000, what: 'v4 aborted', context: tail });
    expect(te?.status?.abortReason).toBe('Manual');
    expect(te?.status?.canary?.ordersEnabled).toBe(false);
    expect(te?.status?.stableRevision).toBe(v2);

    // The canary's control socket, with the operator's own keys from the engine's Secret.
    const [cut] = te?.status?.canary?.cutPods ?? [];
    const canary = (await pods()).find((pod) => pod.metadata.name === cut?.pod);
    const address = `tcp://${canary?.status.podIP ?? ''}:5560`;
    const secret = await apiRequest<{ data: Record<string, string> }>(lab?.kubeConfig ?? (undefined as never), { method: 'GET', path: `/api/v1/namespaces/${lab?.namespace ?? ''}/secrets/${name}-control` });
    const keys = clientKeysOf(controlKeysOf(secret) ?? {});
    const engineStatus = async (): Promise<{ ordersEnabled: boolean; ordersLatched: boolean }> => (await sendControl(address, ControlCommand.Status, { keys })).body as never;

    // An orders-on from the network changes nothing: without the keys it gets no answer, with them it is refused.
    await expect(sendControl(address, ControlCommand.OrdersOn, { timeoutMs: 700 })).rejects.toThrow(/no answer/);
    expect((await sendControl(address, ControlCommand.OrdersOn, { keys })).status).toBe(ControlStatus.Rejected);
    expect(await engineStatus()).toMatchObject({ ordersEnabled: false, ordersLatched: true });

    // The latch is a file in the pod's state emptyDir (the node agent keeps it across container restarts), and the
    // restarted engine reads it at start (test/engine-control-auth.test.ts shows that on a bare process).
    const latchFile = (): string | undefined => readdirSync(tmpdir())
      .filter((entry) => entry.startsWith(`nexus-pod-${cut?.pod ?? ''}-`))
      .flatMap((dir) => readdirSync(join(tmpdir(), dir, 'volumes')).filter((volume) => volume.endsWith('-state')).map((volume) => join(tmpdir(), dir, 'volumes', volume, 'orders-cut')))
      .find((path) => existsSync(path));
    expect(latchFile()).toBeDefined();

    // Killed, the container is restarted by its kubelet and comes back cut; the operator sees the restart and cuts it again.
    const pid = lab?.containerPids().get(`${lab.namespace}/${cut?.pod ?? ''}`);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid ?? 0, 'SIGKILL');
    const recut = await eventually(engine, {
      until: (e) => (e?.status?.canary?.cutPods?.find((pod) => pod.pod === cut?.pod)?.restarts ?? 0) >= 1,
      timeoutMs: 60_000, what: 'the restarted canary cut again', context: tail,
    });
    expect(recut?.status?.phase).toBe('Aborted');
    expect(lab?.containerPids().get(`${lab.namespace}/${cut?.pod ?? ''}`)).not.toBe(pid);
    expect(latchFile()).toBeDefined();
    expect(await engineStatus()).toMatchObject({ ordersEnabled: false, ordersLatched: true });
    const restarted = (await eventsOnce(name, 'CutPodRestarted')).find((event) => event.reason === 'CutPodRestarted');
    expect(restarted?.message).toContain(`${cut?.pod ?? ''} (restarts 0 -> 1)`);
  }, 150_000);

  it('re-applying v2 (stable) ends the aborted rollout; re-applying v1 (in the rollback window) is a fast rollback', async () => {
    await lab?.apply(lab.manifest(name, (spec) => { spec.template.image = 'nexus/engine:v2'; }));
    await eventually(engine, { until: (e) => e?.status?.phase === 'Healthy' && e.status.updateRevision === v2, timeoutMs: 60_000, what: 'back on v2', context: tail });
    await lab?.apply(lab.manifest(name));
    const te = await eventually(engine, { until: (e) => e?.status?.phase === 'Healthy' && e.status.stableRevision === v1, timeoutMs: 90_000, what: 'fast rollback to v1', context: tail });
    expect(te?.status?.stableHistory?.slice(0, 2)).toEqual([v1, v2]);
    const events = await eventsOnce(name, 'FastRollback');
    expect(count(events, 'FastRollback')).toBe(1);
    expect(count(events, 'RolloutStarted')).toBe(3);
  }, 150_000);
});

describe('latency-gated blue-green rollouts against a real API server and real engines', () => {
  const bg = 'bluegreen';
  const bgEngine = async (): Promise<TradingEngine | undefined> => lab?.read(bg);
  const serviceSelector = async (service: string): Promise<string | undefined> => {
    const found = await apiRequest<{ spec: { selector: Record<string, string> } }>(lab?.kubeConfig ?? (undefined as never), {
      method: 'GET', path: `/api/v1/namespaces/${lab?.namespace ?? ''}/services/${service}`,
    });
    return found.spec.selector['trading.nexus.dev/revision'];
  };
  const blueGreen = (spec: MutableSpec): void => {
    spec.strategy = {
      type: 'BlueGreen',
      blueGreen: { previewReplicaCount: 1, autoPromotionEnabled: true, autoPromotionSeconds: 0, scaleDownDelaySeconds: 12, prePromotionAnalysis: false, postPromotionAnalysis: true, abortScaleDownDelaySeconds: 3 },
    } as MutableSpec['strategy'];
  };

  it('switches the active Service to a slow revision, then back to the still-warm old set when the post-promotion gate fails', async () => {
    await lab?.apply(lab.manifest(bg, blueGreen));
    const first = await eventually(bgEngine, { until: (e) => e?.status?.phase === 'Healthy' && e.status.stableRevision !== undefined, timeoutMs: 90_000, what: 'bg v1 Healthy', context: tail });
    const v1 = first?.status?.stableRevision ?? '';
    expect(await serviceSelector(bg)).toBe(v1);
    await lab?.apply(lab.manifest(bg, (spec) => {
      blueGreen(spec);
      spec.template.image = 'nexus/engine:v3';
      spec.engine.faultInjection = { extraLatencyMicros: 8_000, affectedPercent: 5 } as MutableSpec['engine']['faultInjection'];
    }));
    const switched = await eventually(bgEngine, { until: (e) => e?.status?.blueGreen?.active !== undefined && e.status.blueGreen.active !== v1, timeoutMs: 90_000, what: 'active switched to v3', context: tail });
    const v3 = switched?.status?.updateRevision ?? '';
    // The status is committed first; the Service follows in the same reconcile.
    await eventually(() => serviceSelector(bg), { until: (selected) => selected === v3, timeoutMs: 10_000, what: 'Service on v3', context: tail });
    const oldSet = (await replicaSetsOf(bg)).find((rs) => rs.metadata.labels['trading.nexus.dev/revision'] === v1);
    expect(oldSet?.spec.replicas).toBe(2);
    const aborted = await eventually(bgEngine, { until: (e) => e?.status?.phase === 'Aborted', timeoutMs: 60_000, what: 'bg v3 aborted after the switch', context: tail });
    expect(aborted?.status?.abortReason).toBe('LatencyBreach');
    expect(aborted?.status?.blueGreen?.active).toBe(v1);
    await eventually(() => serviceSelector(bg), { until: (selected) => selected === v1, timeoutMs: 10_000, what: 'Service back on v1', context: tail });
    // No new pods: the old set never left its full size, so its pods are the same ones.
    const oldAfter = (await replicaSetsOf(bg)).find((rs) => rs.metadata.labels['trading.nexus.dev/revision'] === v1);
    expect(oldAfter?.spec.replicas).toBe(2);
    const events = await eventsOnce(bg, 'OrdersOff');
    expect(count(events, 'ActiveSwitched')).toBe(1);
    expect(events.find((event) => event.reason === 'RolloutAborted')?.message).toMatch(/post-promotion .*active switched back to/);
    expect(count(events, 'OrdersOff')).toBe(1);
    // The switch moved every shard to the new set and the switch-back moved them to the warm old set again.
    const v1Pods = new Set((await apiRequest<{ items: PodJson[] }>(lab?.kubeConfig ?? (undefined as never), {
      method: 'GET', path: `/api/v1/namespaces/${lab?.namespace ?? ''}/pods`, query: { labelSelector: `app.kubernetes.io/instance=${bg},trading.nexus.dev/revision=${v1}` },
    })).items.map((pod) => pod.metadata.name));
    await eventually(bgEngine, { until: (e) => (e?.status?.shards ?? []).every((shard) => shard.granted === true && v1Pods.has(shard.owner ?? '')), timeoutMs: 30_000, what: 'every shard back on the old set', context: tail });
    expect(count(await eventsOnce(bg, 'ShardMoved', 2), 'ShardMoved')).toBeGreaterThanOrEqual(2);
    expect(lab?.sink.counts.duplicates).toBe(0);
  }, 240_000);

  it('pauses and resumes through nexus rollout (spec.paused), lists the engines of a namespace and of all, and names an unknown context', async () => {
    const run = async (...args: string[]) => nexusRollout(args);
    const namespace = lab?.namespace ?? '';
    const paused = await run('pause', name, '-n', namespace);
    expect(paused.code, paused.err).toBe(0);
    expect(paused.out).toContain(`Paused TradingEngine ${namespace}/${name}`);
    expect((await engine())?.spec.paused).toBe(true);
    expect((await run('pause', name, '-n', namespace)).out).toContain('is already paused: nothing changed');
    const listed = await run('list', '-n', namespace);
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out.split('\n')[0]).toMatch(/^NAME\s+PHASE\s+READY\s+STEP\s+WEIGHT\s+GATE\s+PAUSED$/);
    expect(listed.out).toMatch(new RegExp(`^${name}\\s+\\w+\\s+\\d+/\\d+.*\\syes$`, 'm'));
    const everywhere = await run('list', '-A');
    expect(everywhere.out).toMatch(new RegExp(`^${namespace}\\s+${name}\\s`, 'm'));
    const resumed = await run('resume', name, '-n', namespace);
    expect(resumed.out).toContain(`Resumed TradingEngine ${namespace}/${name}`);
    expect((await engine())?.spec.paused).toBe(false);
    const unknown = await run('status', name, '-n', namespace, '--context', 'no-such-context');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no context "no-such-context" in the kubeconfig (contexts: ');
  }, 120_000);

  it('undoes to the previous stable revision through nexus rollout undo (its spec read back from its ReplicaSet), and refuses one that is gone', async () => {
    const run = async (...args: string[]) => nexusRollout([...args, '-n', lab?.namespace ?? '']);
    const before = await eventually(engine, { until: (e) => e?.status?.phase === 'Healthy' && e.status.stableRevision === e.status.updateRevision, timeoutMs: 90_000, what: 'a settled engine', context: tail });
    const stable = before?.status?.stableRevision ?? '';
    const previous = (before?.status?.stableHistory ?? []).find((revision) => revision !== stable) ?? '';
    expect(previous, 'an earlier stable revision').not.toBe('');
    const refused = await run('undo', name, '--to-revision', 'zzzzzzzzzz');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('no ReplicaSet of revision zzzzzzzzzz with its spec');
    const undone = await run('undo', name);
    expect(undone.code, undone.err).toBe(0);
    expect(undone.out).toContain(`set back to revision ${previous} (was ${stable})`);
    await eventually(engine, {
      until: (e) => e?.status?.stableRevision === previous && e.status.updateRevision === previous && e.status.phase === 'Healthy',
      timeoutMs: 120_000, what: `revision ${previous} stable again`, context: tail,
    });
  }, 240_000);

  it('watches through the API server\'s watch: a settled engine ends the watch at once (exit 0), a missing one is named (exit 1)', async () => {
    const watch = async (target: string) => nexusRollout(['watch', target, '--timeout', '60', '-n', lab?.namespace ?? ''], 90_000);
    await eventually(engine, { until: (e) => e?.status?.phase === 'Healthy' && e.status.stableRevision === e.status.updateRevision, timeoutMs: 90_000, what: 'a settled engine', context: tail });
    const settled = await watch(name);
    expect(settled.code, settled.err).toBe(0);
    expect(settled.out).toContain(`Rollout of ${lab?.namespace ?? ''}/${name} finished`);
    expect(settled.ms).toBeLessThan(30_000);
    const missing = await watch('no-such-engine');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`TradingEngine ${lab?.namespace ?? ''}/no-such-engine not found`);
  }, 240_000);
});
