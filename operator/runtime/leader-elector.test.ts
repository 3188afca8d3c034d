import { describe, expect, it } from 'vitest';
import {
  LeaderElector,
  LeaseConflictError,
  validateLeaderElectionTimings,
  type LeaderElectorOptions,
  type LeaseRecord,
  type LeaseStore,
} from './leader-elector.ts';
import { ManualTimerClock } from '../../test/support/manual-timer-clock.ts';

/** One Lease in memory with the API server's optimistic concurrency: a write on a stale resourceVersion conflicts. */
class MemoryLease {
  record: LeaseRecord | undefined;
  private version = 0;

  get(): LeaseRecord | undefined {
    return this.record;
  }

  create(record: LeaseRecord): LeaseRecord {
    if (this.record !== undefined) throw new LeaseConflictError('leases "nexus" already exists');
    return this.write(record);
  }

  update(record: LeaseRecord): LeaseRecord {
    if (this.record === undefined || record.resourceVersion !== this.record.resourceVersion) {
      throw new LeaseConflictError('the object has been modified; please apply your changes to the latest version');
    }
    return this.write(record);
  }

  /** Another writer changes the object (a label, say) without touching the record's fields. */
  touch(): void {
    if (this.record !== undefined) this.write(this.record);
  }

  private write(record: LeaseRecord): LeaseRecord {
    this.record = { ...record, resourceVersion: String(++this.version) };
    return this.record;
  }
}

/** One candidate's connection to the Lease, which a test can break: calls fail (a 503) or never answer. */
class Link implements LeaseStore {
  mode: 'ok' | 'fail' | 'hang' = 'ok';

  constructor(private readonly lease: MemoryLease) {}

  get(): Promise<LeaseRecord | undefined> {
    return this.call(() => this.lease.get());
  }

  create(record: LeaseRecord): Promise<LeaseRecord> {
    return this.call(() => this.lease.create(record));
  }

  update(record: LeaseRecord): Promise<LeaseRecord> {
    return this.call(() => this.lease.update(record));
  }

  private call<T>(fn: () => T): Promise<T> {
    if (this.mode === 'hang') return new Promise(() => undefined);
    if (this.mode === 'fail') return Promise.reject(new Error('503 Service Unavailable'));
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

interface Candidate {
  readonly elector: LeaderElector;
  readonly link: Link;
  /** 'started', 'stopped', 'leader=<identity>' in the order the callbacks came. */
  readonly events: string[];
  readonly logs: string[];
  /** Set when run() resolved. */
  readonly done: { value: boolean };
}

function candidate(identity: string, lease: MemoryLease, clock: ManualTimerClock, options: Partial<LeaderElectorOptions> = {}): Candidate {
  const link = new Link(lease);
  const events: string[] = [];
  const logs: string[] = [];
  const elector = new LeaderElector({
    identity,
    store: link,
    clock,
    wallClock: () => new Date(clock.now()),
    log: (line) => logs.push(line),
    callbacks: {
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: () => void events.push('stopped'),
      onNewLeader: (leader) => events.push(`leader=${leader}`),
    },
    ...options,
  });
  return { elector, link, events, logs, done: { value: false } };
}

function run(c: Candidate): void {
  void c.elector.run().then(() => {
    c.done.value = true;
  });
}

/** Advances to `untilMs` in `stepMs` steps, checking after each step that at most one candidate leads. */
async function advanceChecking(clock: ManualTimerClock, untilMs: number, stepMs: number, candidates: Candidate[]): Promise<void> {
  while (clock.now() < untilMs) {
    await clock.advanceAsync(Math.min(stepMs, untilMs - clock.now()));
    expect(candidates.filter((c) => c.elector.isLeader()).length, `leaders at ${clock.now()} ms`).toBeLessThanOrEqual(1);
  }
}

describe('validateLeaderElectionTimings', () => {
  it.each([
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 15_000, retryPeriodMs: 2000 }, 'renewDeadlineMs (15000) must be less than leaseDurationMs (15000): a leader must step down before others may take the lease over'],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 20_000, retryPeriodMs: 2000 }, 'renewDeadlineMs (20000) must be less than leaseDurationMs (15000): a leader must step down before others may take the lease over'],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 10_000 }, 'retryPeriodMs (10000) must be less than renewDeadlineMs (10000): the leader needs more than one renewal attempt before its deadline'],
    [{ leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 500 }, 'leaseDurationMs must be a whole number of seconds (at least 1000), got 1500'],
    [{ leaseDurationMs: 0, renewDeadlineMs: 0, retryPeriodMs: 0 }, 'leaseDurationMs must be a whole number of seconds (at least 1000), got 0'],
    [{ leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 0 }, 'retryPeriodMs must be positive, got 0'],
  ])('rejects %o', (timings, message) => {
    expect(() => validateLeaderElectionTimings(timings)).toThrow(new RangeError(message));
  });

  it.each([
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }],
    [{ leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 }],
  ])('accepts %o', (timings) => {
    expect(() => validateLeaderElectionTimings(timings)).not.toThrow();
  });

  it('is applied by the constructor, which also needs an identity', () => {
    const clock = new ManualTimerClock();
    expect(() => candidate('a', new MemoryLease(), clock, { renewDeadlineMs: 20_000 })).toThrow(/renewDeadlineMs \(20000\) must be less/);
    expect(() => candidate('', new MemoryLease(), clock)).toThrow(new RangeError('LeaderElector needs a non-empty identity'));
  });
});

describe('LeaderElector', () => {
  it('elects exactly one of two candidates racing for a missing Lease, and keeps it', async () => {
    const clock = new ManualTimerClock();
    const lease = new MemoryLease();
    const a = candidate('a', lease, clock);
    const b = candidate('b', lease, clock);
    run(a);
    run(b);
    await clock.advanceAsync(0);
    expect([a.elector.isLeader(), b.elector.isLeader()]).toEqual([true, false]);
    await advanceChecking(clock, 60_000, 250, [a, b]);
    expect([a.elector.isLeader(), b.elector.isLeader()]).toEqual([true, false]);
    expect(lease.record).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0, acquireTime: new Date(0), renewTime: new Date(60_000) });
    expect(a.events).toEqual(['leader=a', 'started']);
    expect(b.events).toEqual(['leader=a']);
    expect(b.elector.leader).toBe('a');
  });

  it('hands over within one retry period when the leader stops gracefully', async () => {
    const clock = new ManualTimerClock();
    const lease = new MemoryLease();
    const a = candidate('a', lease, clock);
    const b = candidate('b', lease, clock);
    run(a);
    await clock.advanceAsync(1000);
    run(b); // b tries at 1000, 3000, 5000, ...
    await clock.advanceAsync(3500);
    await a.elector.stop();
    expect(a.done.value).toBe(true);
    expect(a.events).toEqual(['leader=a', 'started', 'stopped']);
    expect(lease.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
    await clock.advanceAsync(499); // t = 4999
    expect(b.elector.isLeader()).toBe(false);
    await clock.advanceAsync(1); // t = 5000: b's next attempt, 500 ms after the release
    expect(b.elector.isLeader()).toBe(true);
    expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(b.events).toEqual(['leader=a', 'leader=b', 'started']);
  });

  it('takes over from a vanished leader only leaseDuration after it last saw the record change, by its own clock', async () => {
    const clock = new ManualTimerClock();
    const lease = new MemoryLease();
    // The leader's wall clock says 1970: a candidate that trusted renewTime would take over at once.
    const a = candidate('a', lease, clock, { wallClock: () => new Date(0) });
    const b = candidate('b', lease, clock);
    run(a); // a renews at 0, 2000, ..., 10 000
    await clock.advanceAsync(1000);
    run(b); // b reads at 1000, 3000, ..., 11 000: it sees a's 10 000 renewal at 11 000
    await clock.advanceAsync(9000);
    a.link.mode = 'hang'; // a's process is cut off after its renewal at 10 000: it never writes again
    await advanceChecking(clock, 19_999, 100, [a, b]);
    expect(a.elector.isLeader()).toBe(true);
    await clock.advanceAsync(1); // t = 20 000: 10 s after a's last renewal started
    expect(a.elector.isLeader()).toBe(false);
    expect(a.done.value).toBe(true);
    expect(a.events).toEqual(['leader=a', 'started', 'stopped']);
    await advanceChecking(clock, 26_999, 100, [a, b]);
    expect(b.elector.isLeader()).toBe(false); // 11 000 + 15 000 = 26 000 was not yet past at b's try at 25 000
    await clock.advanceAsync(1); // t = 27 000
    expect(b.elector.isLeader()).toBe(true);
    expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('steps down when its renewals fail for renewDeadline', async () => {
    const clock = new ManualTimerClock();
    const a = candidate('a', new MemoryLease(), clock);
    run(a);
    await clock.advanceAsync(1000);
    a.link.mode = 'fail';
    await clock.advanceAsync(8999); // tries at 2000, 4000, 6000, 8000 fail
    expect(a.elector.isLeader()).toBe(true);
    await clock.advanceAsync(1); // t = 10 000
    expect(a.elector.isLeader()).toBe(false);
    expect(a.done.value).toBe(true);
    expect(a.events).toEqual(['leader=a', 'started', 'stopped']);
    expect(a.logs.filter((line) => line.startsWith('Failed to acquire or renew Lease'))).toHaveLength(4);
    expect(a.logs).toContain('Lost Lease identity=a reason=RenewDeadlineExceeded renewDeadlineMs=10000');
    await clock.advanceAsync(60_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps leading through store errors shorter than renewDeadline', async () => {
    const clock = new ManualTimerClock();
    const lease = new MemoryLease();
    const a = candidate('a', lease, clock);
    run(a);
    await clock.advanceAsync(1000);
    a.link.mode = 'fail';
    await clock.advanceAsync(6000); // t = 7000; fails at 2000, 4000, 6000
    a.link.mode = 'ok';
    await clock.advanceAsync(30_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(['leader=a', 'started']);
    expect(lease.record?.renewTime).toEqual(new Date(36_000));
  });

  it('retries store errors every retry period while it is a candidate', async () => {
    const clock = new ManualTimerClock();
    const a = candidate('a', new MemoryLease(), clock);
    a.link.mode = 'fail';
    run(a);
    await clock.advanceAsync(3000); // tries at 0 and 2000 fail
    expect(a.elector.isLeader()).toBe(false);
    a.link.mode = 'ok';
    await clock.advanceAsync(999);
    expect(a.elector.isLeader()).toBe(false);
    await clock.advanceAsync(1); // t = 4000
    expect(a.elector.isLeader()).toBe(true);
  });

  it('gives up on a store call that does not answer and tries again', async () => {
    const clock = new ManualTimerClock();
    const a = candidate('a', new MemoryLease(), clock);
    a.link.mode = 'hang';
    run(a);
    await clock.advanceAsync(1000);
    a.link.mode = 'ok';
    await clock.advanceAsync(6000); // the try at 0 times out at 5000; the next comes at 7000
    expect(a.elector.isLeader()).toBe(true);
    expect(a.logs).toContain('Timed out on Lease identity=a timeoutMs=5000');
  });

  it('renews on a fresh read when another writer changed the object', async () => {
    const clock = new ManualTimerClock();
    const lease = new MemoryLease();
    const a = candidate('a', lease, clock);
    run(a);
    await clock.advanceAsync(1000);
    lease.touch();
    await clock.advanceAsync(1000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.logs.some((line) => line.startsWith('Failed to renew Lease optimistically') && line.includes('LeaseConflictError'))).toBe(true);
    expect(lease.record).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0, acquireTime: new Date(0), renewTime: new Date(2000) });
  });

  it('counts each change of holder in leaseTransitions', async () => {
    const clock = new ManualTimerClock();
    const lease = new MemoryLease();
    const electors = ['a', 'b', 'c'].map((id) => candidate(id, lease, clock));
    for (const c of electors) run(c);
    const holders: string[] = [];
    for (let round = 0; round < 3; round++) {
      await clock.advanceAsync(2000);
      const leader = electors.find((c) => c.elector.isLeader());
      if (leader === undefined) throw new Error(`no leader in round ${round}`);
      holders.push(`${leader.elector.identity}:${lease.record?.leaseTransitions}`);
      await leader.elector.stop();
    }
    expect(holders).toEqual(['a:0', 'b:1', 'c:2']);
  });

  it('resumes a Lease it holds already (a restart with the same identity) without a transition', async () => {
    const clock = new ManualTimerClock();
    const lease = new MemoryLease();
    lease.create({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: new Date(0), renewTime: new Date(0), leaseTransitions: 4 });
    const a = candidate('a', lease, clock);
    run(a);
    await clock.advanceAsync(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(lease.record).toMatchObject({ holderIdentity: 'a', leaseTransitions: 4, acquireTime: new Date(0) });
  });

  it('waits for onStoppedLeading before it releases the Lease', async () => {
    const clock = new ManualTimerClock();
    const lease = new MemoryLease();
    let holderDuringStop = '';
    const a = candidate('a', lease, clock, {
      callbacks: {
        onStoppedLeading: async () => {
          await clock.advanceAsync(0);
          holderDuringStop = lease.record?.holderIdentity ?? '';
        },
      },
    });
    run(a);
    await clock.advanceAsync(0);
    await a.elector.stop();
    expect(holderDuringStop).toBe('a');
    expect(lease.record?.holderIdentity).toBe('');
  });

  it('survives callbacks that throw', async () => {
    const clock = new ManualTimerClock();
    const a = candidate('a', new MemoryLease(), clock, {
      callbacks: {
        onStartedLeading: () => {
          throw new Error('boom');
        },
        onNewLeader: () => {
          throw new Error('bang');
        },
      },
    });
    run(a);
    await clock.advanceAsync(4000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.logs).toContain('Failed in onStartedLeading identity=a error=Error: boom');
    expect(a.logs).toContain('Failed in onNewLeader identity=a error=Error: bang');
  });

  it('stops a candidate that never led without callbacks or writes', async () => {
    const clock = new ManualTimerClock();
    const lease = new MemoryLease();
    const a = candidate('a', lease, clock);
    const b = candidate('b', lease, clock);
    run(a);
    run(b);
    await clock.advanceAsync(0);
    const before = lease.record;
    await b.elector.stop();
    expect(b.done.value).toBe(true);
    expect(b.events).toEqual([]);
    expect(lease.record).toBe(before);
    await clock.advanceAsync(10_000);
    expect(b.events).toEqual([]);
    expect(a.elector.isLeader()).toBe(true);
  });

  it('stops before run() resolves run() at once', async () => {
    const a = candidate('a', new MemoryLease(), new ManualTimerClock());
    await a.elector.stop();
    await a.elector.run();
    expect(a.events).toEqual([]);
  });
});
