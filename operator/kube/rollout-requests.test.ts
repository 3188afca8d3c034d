import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startControlPlane, type ControlPlane } from '../../devcluster/control-plane.ts';
import { kubectlOrThrow } from '../../test/support/kube.ts';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import { apiRequest, ApiError } from './api-request.ts';
import { loadKubeConfig } from './kube-config.ts';
import { clusterLatencyGates, collectionPath, tradingEngines } from './resources.ts';
import {
  contextNamespace, planRolloutRequest, readResolvedTradingEngine, readTradingEngine, requestRollout, rolloutFieldManager, tradingEnginePath, type RolloutAction,
} from './rollout-requests.ts';

/**
 * Rollout requests against a real kube-apiserver (devcluster/control-plane.ts, no controllers): the CRD as
 * shipped, TradingEngines from examples/minimal.yaml with a canary strategy, and their status set directly with
 * merge patches as the operator would. Checks what each request writes, what it refuses (writing nothing), and
 * that a status changed between read and patch is re-read and retried, never overwritten.
 */
const namespace = 'trading';
const root = new URL('../../', import.meta.url);
let cluster: ControlPlane | undefined;
let kubeConfig: KubeConfig;
const lines: string[] = [];

/** A rollout in progress: stable a, update b at step 1 (an untimed pause), weight 25. */
const inProgress: TradingEngineStatus = {
  observedGeneration: 1, phase: 'Paused', stableRevision: 'aaaaaaaaaa', updateRevision: 'bbbbbbbbbb', currentStepIndex: 1,
  canary: { weight: 25, replicas: 1, ordersEnabled: true }, pauseConditions: [{ reason: 'PauseStep', startTime: '2026-11-24T10:00:00Z' }],
};

/** Creates TradingEngine `name` (examples/minimal.yaml, replicas 4, canary steps) and writes `status` as the operator would. */
async function createEngine(name: string, status: TradingEngineStatus): Promise<TradingEngine> {
  const document = parse(readFileSync(new URL('examples/minimal.yaml', root), 'utf8')) as { spec: Record<string, unknown> };
  const body = {
    apiVersion: tradingEngines.apiVersion, kind: tradingEngines.kind, metadata: { name, namespace },
    spec: { ...document.spec, replicas: 4, strategy: { type: 'Canary', canary: { steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }] } } },
  };
  await apiRequest(kubeConfig, { method: 'POST', path: collectionPath(tradingEngines, namespace), body });
  return operatorWrites(name, status);
}

/** A merge patch of the status as the operator would write it (no resourceVersion: last writer wins). */
function operatorWrites(name: string, status: object): Promise<TradingEngine> {
  return apiRequest<TradingEngine>(kubeConfig, {
    method: 'PATCH', path: `${tradingEnginePath(namespace, name)}/status`, contentType: 'application/merge-patch+json',
    query: { fieldManager: 'nexus-operator' }, body: { status },
  });
}

const read = (name: string): Promise<TradingEngine> => readTradingEngine(kubeConfig, namespace, name);

beforeAll(async () => {
  cluster = await startControlPlane({ log: (line) => lines.push(line) });
  kubectlOrThrow(cluster.kubeconfig, ['apply', '--server-side', '-f', new URL('crds/', root).pathname]);
  for (const crd of ['tradingengines', 'clusterlatencygates']) {
    kubectlOrThrow(cluster.kubeconfig, ['wait', '--for=condition=Established', `crd/${crd}.trading.nexus.dev`, '--timeout=30s']);
  }
  kubectlOrThrow(cluster.kubeconfig, ['create', 'namespace', namespace]);
  kubeConfig = loadKubeConfig(cluster.kubeconfig);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 30_000);

describe('rollout requests against a real API server', () => {
  it('promote writes promotedStep = currentStepIndex and leaves the rest of the status as the operator wrote it', async () => {
    await createEngine('promote-step', inProgress);
    const result = await requestRollout(kubeConfig, namespace, 'promote-step', 'promote');
    expect(result).toMatchObject({ outcome: 'requested', status: { promotedStep: 1 }, attempts: 1 });
    const after = await read('promote-step');
    expect(after.status).toEqual({ ...inProgress, promotedStep: 1 });
    expect(after.metadata.managedFields?.some((f) => f.manager === rolloutFieldManager && f.subresource === 'status')).toBe(true);
  });

  it('promote --full writes promoteFull true and no promotedStep', async () => {
    await createEngine('promote-full', inProgress);
    expect(await requestRollout(kubeConfig, namespace, 'promote-full', 'promote-full')).toMatchObject({ outcome: 'requested', status: { promoteFull: true } });
    expect((await read('promote-full')).status).toEqual({ ...inProgress, promoteFull: true });
  });

  it('abort writes abort true; then abort and promote are refused (use retry) and retry writes abort false', async () => {
    await createEngine('abort-retry', inProgress);
    const refusedRetry = await requestRollout(kubeConfig, namespace, 'abort-retry', 'retry');
    expect(refusedRetry).toMatchObject({ outcome: 'refused', attempts: 0 });
    expect(refusedRetry.outcome === 'refused' && refusedRetry.reason).toMatch(/retry refused: the rollout of trading\/abort-retry is not aborted \(phase Paused\)/);

    expect(await requestRollout(kubeConfig, namespace, 'abort-retry', 'abort')).toMatchObject({ outcome: 'requested', status: { abort: true }, attempts: 1 });
    expect((await read('abort-retry')).status?.abort).toBe(true);
    // The operator acts on it: orders cut, weight 0, phase Aborted.
    const aborted = await operatorWrites('abort-retry', { phase: 'Aborted', abortReason: 'Manual', abortedAt: '2026-11-24T10:01:00Z', canary: { weight: 0, ordersEnabled: false } });

    for (const action of ['abort', 'promote', 'promote-full'] as const) {
      const refused = await requestRollout(kubeConfig, namespace, 'abort-retry', action);
      expect(refused.outcome).toBe('refused');
      expect(refused.outcome === 'refused' && refused.reason).toMatch(action === 'abort' ? /aborted \(Manual\); it is aborted already/ : /aborted \(Manual\); use `nexus rollout retry`/);
    }
    expect((await read('abort-retry')).metadata.resourceVersion).toBe(aborted.metadata.resourceVersion);

    expect(await requestRollout(kubeConfig, namespace, 'abort-retry', 'retry')).toMatchObject({ outcome: 'requested', status: { abort: false } });
    expect((await read('abort-retry')).status).toMatchObject({ abort: false, phase: 'Aborted', abortReason: 'Manual' });
  });

  it('refuses every request but retry with no rollout in progress, and writes nothing', async () => {
    const healthy = await createEngine('no-rollout', { observedGeneration: 1, phase: 'Healthy', stableRevision: 'aaaaaaaaaa', updateRevision: 'aaaaaaaaaa' });
    for (const action of ['promote', 'promote-full', 'abort'] as const) {
      const result = await requestRollout(kubeConfig, namespace, 'no-rollout', action);
      expect(result.outcome === 'refused' && result.reason).toBe(`${action} refused: no rollout in progress for trading/no-rollout (revision aaaaaaaaaa is stable)`);
    }
    // A new revision the operator has not put at a step yet: still nothing to promote.
    const noStep = await operatorWrites('no-rollout', { updateRevision: 'bbbbbbbbbb', phase: 'Progressing' });
    const result = await requestRollout(kubeConfig, namespace, 'no-rollout', 'promote');
    expect(result.outcome === 'refused' && result.reason).toBe('promote refused: no rollout in progress for trading/no-rollout (revision bbbbbbbbbb has no current step)');
    const after = await read('no-rollout');
    expect(after.metadata.resourceVersion).toBe(noStep.metadata.resourceVersion);
    expect(healthy.metadata.resourceVersion).not.toBe(noStep.metadata.resourceVersion);
  });

  it('re-reads and retries when the operator wrote the status between read and patch, keeping both writes', async () => {
    const created = await createEngine('conflict', inProgress);
    // The API server itself refuses a patch at a stale resourceVersion.
    await operatorWrites('conflict', { analysis: { consecutiveSuccesses: 1 } });
    await expect(apiRequest(kubeConfig, {
      method: 'PATCH', path: `${tradingEnginePath(namespace, 'conflict')}/status`, contentType: 'application/merge-patch+json',
      body: { metadata: { resourceVersion: created.metadata.resourceVersion }, status: { abort: true } },
    })).rejects.toMatchObject({ code: 409 });

    const seen: string[] = [];
    const result = await requestRollout(kubeConfig, namespace, 'conflict', 'abort', {
      beforePatch: async (engine, attempt) => {
        seen.push(engine.metadata.resourceVersion ?? '');
        if (attempt === 1) await operatorWrites('conflict', { analysis: { consecutiveSuccesses: 2 }, canary: { weight: 50 } });
      },
    });
    expect(result).toMatchObject({ outcome: 'requested', attempts: 2 });
    expect(new Set(seen).size).toBe(2);
    expect((await read('conflict')).status).toMatchObject({ abort: true, analysis: { consecutiveSuccesses: 2 }, canary: { weight: 50 } });
  });

  it('refuses a promote whose step moved on between read and patch instead of promoting a step never shown', async () => {
    await createEngine('moved', inProgress);
    const result = await requestRollout(kubeConfig, namespace, 'moved', 'promote', {
      beforePatch: async (_engine, attempt) => {
        if (attempt === 1) await operatorWrites('moved', { currentStepIndex: 2, canary: { weight: 50 } });
      },
    });
    expect(result.outcome === 'refused' && result.reason).toBe('promote refused: the rollout moved from step 1 to step 2 while requesting; nothing was requested, run it again');
    expect((await read('moved')).status?.promotedStep).toBeUndefined();
  });

  it('gives up with a 409 ApiError when the status keeps changing past the retries', async () => {
    await createEngine('busy', inProgress);
    let attempts = 0;
    const request = requestRollout(kubeConfig, namespace, 'busy', 'abort', {
      maxConflictRetries: 2,
      beforePatch: async (_engine, attempt) => {
        attempts = attempt;
        await operatorWrites('busy', { analysis: { consecutiveSuccesses: attempt } });
      },
    });
    await expect(request).rejects.toThrow(/abort of trading\/busy still conflicted after 2 re-reads/);
    expect(attempts).toBe(3);
    expect((await read('busy')).status?.abort).toBeUndefined();
  });

  it('runs as the kubectl plugin: `kubectl nexus rollout abort` requests (exit 0), a second abort is refused (exit 1)', async () => {
    await createEngine('plugin', inProgress);
    const env = { ...process.env, PATH: `${new URL('bin', root).pathname}:${process.env.PATH ?? ''}`, KUBECONFIG: cluster?.kubeconfig ?? '' };
    const nexus = (args: string[]) => spawnSync('kubectl', ['nexus', 'rollout', ...args], { env, encoding: 'utf8', timeout: 30_000 });
    const first = nexus(['abort', 'plugin', '-n', namespace]);
    expect({ code: first.status, out: first.stdout }).toEqual({ code: 0, out: 'abort requested for trading/plugin (revision bbbbbbbbbb at step 1, weight 25)\n' });
    const second = nexus(['abort', '-n', namespace, 'plugin']);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain('nexus rollout abort: abort refused: the rollout of trading/plugin is aborted; it is aborted already');
    expect((await read('plugin')).status?.abort).toBe(true);
  });

  it('answers a missing TradingEngine with ApiError 404', async () => {
    await expect(requestRollout(kubeConfig, namespace, 'missing', 'abort')).rejects.toMatchObject({ code: 404 });
    await expect(requestRollout(kubeConfig, namespace, 'missing', 'abort')).rejects.toBeInstanceOf(ApiError);
  });
});

describe('planRolloutRequest', () => {
  const engine = (status?: TradingEngineStatus): TradingEngine =>
    ({ apiVersion: 'trading.nexus.dev/v1alpha1', kind: 'TradingEngine', metadata: { name: 'alpha', namespace: 'trading' }, spec: {} as TradingEngine['spec'], status });
  const plans = (status?: TradingEngineStatus): Record<RolloutAction, unknown> => ({
    promote: planRolloutRequest(engine(status), 'promote'),
    'promote-full': planRolloutRequest(engine(status), 'promote-full'),
    abort: planRolloutRequest(engine(status), 'abort'),
    retry: planRolloutRequest(engine(status), 'retry'),
  });
  const patch = (status: object) => ({ kind: 'patch', status });
  const refused = { kind: 'refuse', reason: expect.any(String) };

  it.each([
    ['in progress', inProgress, { promote: patch({ promotedStep: 1 }), 'promote-full': patch({ promoteFull: true }), abort: patch({ abort: true }), retry: refused }],
    ['at step 0', { ...inProgress, currentStepIndex: 0 }, { promote: patch({ promotedStep: 0 }), 'promote-full': patch({ promoteFull: true }), abort: patch({ abort: true }), retry: refused }],
    ['aborted (abort true)', { ...inProgress, abort: true }, { promote: refused, 'promote-full': refused, abort: refused, retry: patch({ abort: false }) }],
    ['phase Aborted without abort', { ...inProgress, phase: 'Aborted' }, { promote: refused, 'promote-full': refused, abort: refused, retry: refused }],
    ['update == stable', { ...inProgress, updateRevision: 'aaaaaaaaaa' }, { promote: refused, 'promote-full': refused, abort: refused, retry: refused }],
    ['no step index', { ...inProgress, currentStepIndex: undefined }, { promote: refused, 'promote-full': refused, abort: refused, retry: refused }],
    ['no status', undefined, { promote: refused, 'promote-full': refused, abort: refused, retry: refused }],
  ] as const)('plans %s', (_what, status: TradingEngineStatus | undefined, expected) => {
    expect(plans(status)).toEqual(expected);
  });
});

describe('contextNamespace', () => {
  const config = (namespace?: string): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443' }], users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace }], currentContext: 'x',
    });
    return kc;
  };

  it('is the current context\'s namespace, else default', () => {
    expect(contextNamespace(config('trading'))).toBe('trading');
    expect(contextNamespace(config())).toBe('default');
    expect(contextNamespace(config(''))).toBe('default');
  });
});

describe('readResolvedTradingEngine', () => {
  it("shows a gateRef engine with its gate's analysis, and as it is while the gate does not exist", async () => {
    const body = {
      apiVersion: tradingEngines.apiVersion, kind: tradingEngines.kind, metadata: { name: 'by-ref', namespace },
      spec: { ...(parse(readFileSync(new URL('examples/minimal.yaml', root), 'utf8')) as { spec: Record<string, unknown> }).spec, analysis: { gateRef: { kind: 'ClusterLatencyGate', name: 'shared' } } },
    };
    await apiRequest(kubeConfig, { method: 'POST', path: collectionPath(tradingEngines, namespace), body });
    expect((await readResolvedTradingEngine(kubeConfig, namespace, 'by-ref')).spec.analysis).toEqual({ gateRef: { kind: 'ClusterLatencyGate', name: 'shared' } });
    await apiRequest(kubeConfig, {
      method: 'POST', path: collectionPath(clusterLatencyGates),
      body: { apiVersion: clusterLatencyGates.apiVersion, kind: clusterLatencyGates.kind, metadata: { name: 'shared' }, spec: { latency: { thresholdMicros: 700 } } },
    });
    const resolved = await readResolvedTradingEngine(kubeConfig, namespace, 'by-ref');
    expect(resolved.spec.analysis?.gateRef).toBeUndefined();
    // The API server filled the gate's defaults, as it does for an inline analysis.
    expect(resolved.spec.analysis?.latency).toMatchObject({ thresholdMicros: 700, method: 'Threshold', quantile: '0.99', interval: '30s' });
  });
});
