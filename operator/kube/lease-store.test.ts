import { CoordinationV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../devcluster/control-plane.ts';
import { eventually } from '../../test/support/eventually.ts';
import { LeaderElector, LeaseConflictError } from '../runtime/leader-elector.ts';
import { KubeLeaseStore } from './lease-store.ts';

/**
 * KubeLeaseStore and LeaderElector against a real API server (devcluster/control-plane.ts; binaries are built
 * once and cached). Timings are short (lease 3 s, renew deadline 2 s, retry 0.5 s) so a handover takes under a second.
 */
let cluster: ControlPlane;
let kc: KubeConfig;
let api: CoordinationV1Api;
const electors: LeaderElector[] = [];
const namespace = 'default';
const timings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 } as const;

function elector(identity: string, name: string, logs: string[]): LeaderElector {
  const e = new LeaderElector({ identity, store: new KubeLeaseStore(kc, namespace, name), ...timings, log: (line) => logs.push(line) });
  electors.push(e);
  return e;
}

beforeAll(async () => {
  cluster = await startControlPlane({ controllers: false });
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  api = kc.makeApiClient(CoordinationV1Api);
}, 25 * 60_000);

afterAll(async () => {
  await Promise.all(electors.map((e) => e.stop()));
  await cluster?.stop();
});

describe('KubeLeaseStore', () => {
  it('reads a missing Lease as undefined, creates it once, and replaces it only at the current resourceVersion', async () => {
    const store = new KubeLeaseStore(api, namespace, 'store-contract');
    expect(await store.get()).toBeUndefined();

    const acquired = new Date('2026-01-02T03:04:05.678Z');
    const created = await store.create({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: acquired, renewTime: acquired, leaseTransitions: 0 });
    expect(created).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: acquired, renewTime: acquired, leaseTransitions: 0 });
    expect(created.resourceVersion).toMatch(/^\d+$/);
    await expect(store.create(created)).rejects.toBeInstanceOf(LeaseConflictError);

    const renewed = new Date('2026-01-02T03:04:07.001Z');
    const updated = await store.update({ ...created, renewTime: renewed });
    expect(updated).toMatchObject({ holderIdentity: 'a', acquireTime: acquired, renewTime: renewed });
    expect(updated.resourceVersion).not.toBe(created.resourceVersion);
    await expect(store.update({ ...created, holderIdentity: 'b' })).rejects.toBeInstanceOf(LeaseConflictError);
    expect(await store.get()).toEqual(updated);

    const raw = await api.readNamespacedLease({ name: 'store-contract', namespace });
    expect(String(raw.spec?.renewTime)).toBe('2026-01-02T03:04:07.001000Z');
  });

  it('keeps labels and other fields it does not model when it replaces the Lease', async () => {
    const store = new KubeLeaseStore(kc, namespace, 'store-labels');
    const now = new Date();
    await store.create({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 0 });
    await api.patchNamespacedLease(
      { name: 'store-labels', namespace, body: { metadata: { labels: { team: 'trading' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const current = await store.get();
    if (current === undefined) throw new Error('Lease store-labels is missing');
    await store.update({ ...current, holderIdentity: 'b', leaseTransitions: 1 });
    const raw = await api.readNamespacedLease({ name: 'store-labels', namespace });
    expect(raw.metadata?.labels).toEqual({ team: 'trading' });
    expect(raw.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('rejects a replace of a Lease deleted meanwhile as a conflict', async () => {
    const store = new KubeLeaseStore(kc, namespace, 'store-deleted');
    const now = new Date();
    const created = await store.create({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 0 });
    await api.deleteNamespacedLease({ name: 'store-deleted', namespace });
    await expect(store.update(created)).rejects.toBeInstanceOf(LeaseConflictError);
  });
});

describe('LeaderElector on a real API server', () => {
  it('elects one of two replicas and hands over within a second of a graceful stop', async () => {
    const logs: string[] = [];
    const a = elector('replica-a', 'nexus-operator', logs);
    const b = elector('replica-b', 'nexus-operator', logs);
    let overlap = false;
    const watcher = setInterval(() => {
      if (a.isLeader() && b.isLeader()) overlap = true;
    }, 5);
    try {
      void a.run();
      await eventually(() => a.isLeader(), { timeoutMs: 5000, what: 'replica-a leads', intervalMs: 20 });
      void b.run();
      await new Promise((resolve) => setTimeout(resolve, 1500)); // three of b's attempts, all refused
      expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
      expect(b.leader).toBe('replica-a');
      const before = await api.readNamespacedLease({ name: 'nexus-operator', namespace });
      expect(before.spec).toMatchObject({ holderIdentity: 'replica-a', leaseDurationSeconds: 3 });
      const transitions = before.spec?.leaseTransitions ?? 0;

      const stoppedAt = Date.now();
      await a.stop();
      expect(a.isLeader()).toBe(false);
      await eventually(() => b.isLeader(), { timeoutMs: 3000, what: 'replica-b leads', intervalMs: 20 });
      const handoverMs = Date.now() - stoppedAt;
      expect(handoverMs).toBeLessThan(1500);

      const after = await api.readNamespacedLease({ name: 'nexus-operator', namespace });
      expect(after.spec).toMatchObject({ holderIdentity: 'replica-b', leaseDurationSeconds: 3, leaseTransitions: transitions + 1 });
      expect(Date.now() - new Date(String(after.spec?.renewTime)).getTime()).toBeLessThan(2000);

      await b.stop();
      const released = await api.readNamespacedLease({ name: 'nexus-operator', namespace });
      expect(released.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: transitions + 1 });
      expect(overlap).toBe(false);
    } finally {
      clearInterval(watcher);
    }
  });
});
