import { systemTimerClock, type TimerClock, type TimerHandle } from './timer-clock.ts';

/**
 * The leader-election view of a coordination.k8s.io/v1 Lease (client-go resourcelock.LeaderElectionRecord).
 * `acquireTime` and `renewTime` are the writer's wall-clock times, for people reading the Lease: no candidate
 * judges expiry by them.
 */
export interface LeaseRecord {
  /** '' when nobody holds the lease (after a release). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: Date | undefined;
  readonly renewTime: Date | undefined;
  readonly leaseTransitions: number;
  /** The object version the record was read at; `update` succeeds only if it is still current. */
  readonly resourceVersion?: string;
}

/** Where the Lease lives (operator/kube/lease-store.ts for the API server; an in-memory one in tests). */
export interface LeaseStore {
  /** The record, or `undefined` when the Lease does not exist. */
  get(): Promise<LeaseRecord | undefined>;
  /** Creates the Lease; fails with `LeaseConflictError` when it exists already. */
  create(record: LeaseRecord): Promise<LeaseRecord>;
  /** Replaces the record; fails with `LeaseConflictError` when `record.resourceVersion` is stale. */
  update(record: LeaseRecord): Promise<LeaseRecord>;
}

/** Someone else wrote the Lease first (HTTP 409, or the object went away). The elector re-reads and decides again. */
export class LeaseConflictError extends Error {
  constructor(message = 'Lease was changed by another writer') {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

export interface LeaderElectionTimings {
  /** How long a non-leader waits, from when it last saw the record change, before it takes the lease over; whole seconds. */
  readonly leaseDurationMs: number;
  /** How long the leader keeps leading without a successful renewal before it steps down. */
  readonly renewDeadlineMs: number;
  /** How often every candidate tries to acquire or renew. */
  readonly retryPeriodMs: number;
}

/** client-go's defaults (and kube-controller-manager's). */
export const defaultLeaderElectionTimings: LeaderElectionTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/**
 * Throws a RangeError unless retryPeriod < renewDeadline < leaseDuration. The order is what makes election safe:
 * a leader that cannot renew steps down (renewDeadline) before any other candidate may take over (leaseDuration).
 */
export function validateLeaderElectionTimings(t: LeaderElectionTimings): void {
  if (!Number.isInteger(t.leaseDurationMs / 1000) || t.leaseDurationMs < 1000) {
    throw new RangeError(`leaseDurationMs must be a whole number of seconds (at least 1000), got ${t.leaseDurationMs}`);
  }
  if (!(t.retryPeriodMs > 0)) throw new RangeError(`retryPeriodMs must be positive, got ${t.retryPeriodMs}`);
  if (!(t.renewDeadlineMs < t.leaseDurationMs)) {
    throw new RangeError(
      `renewDeadlineMs (${t.renewDeadlineMs}) must be less than leaseDurationMs (${t.leaseDurationMs}): ` +
        'a leader must step down before others may take the lease over',
    );
  }
  if (!(t.retryPeriodMs < t.renewDeadlineMs)) {
    throw new RangeError(
      `retryPeriodMs (${t.retryPeriodMs}) must be less than renewDeadlineMs (${t.renewDeadlineMs}): ` +
        'the leader needs more than one renewal attempt before its deadline',
    );
  }
}

export interface LeaderCallbacks {
  /** This candidate now leads: start reconciling. Called once per elector. */
  readonly onStartedLeading?: () => void;
  /**
   * This candidate no longer leads (renewals failed for renewDeadline, or `stop()`): stop reconciling at once. On
   * `stop()` the lease is released only after a returned promise settles, so no successor starts while work is
   * still winding down. Not called for a candidate that never led.
   */
  readonly onStoppedLeading?: () => void | Promise<void>;
  /** The observed holder changed to `identity` (this candidate's own included); never called with ''. */
  readonly onNewLeader?: (identity: string) => void;
}

export interface LeaderElectorOptions extends Partial<LeaderElectionTimings> {
  /** Unique per process (e.g. pod name plus a random suffix): two processes with one identity would both lead. */
  readonly identity: string;
  readonly store: LeaseStore;
  readonly callbacks?: LeaderCallbacks;
  /** Monotonic time and timers for every decision; default `systemTimerClock`. */
  readonly clock?: TimerClock;
  /** Wall-clock time written into the record's acquireTime/renewTime only; default `new Date()`. */
  readonly wallClock?: () => Date;
  readonly log?: (line: string) => void;
}

type Phase = 'idle' | 'running' | 'stopping' | 'stopped';

const timedOut = Symbol('timed out');

/**
 * Leader election over one Lease, with client-go's leaderelection semantics (leaderelection.go,
 * resourcelock/leaselock.go), so Nexus replicas and client-go controllers reason about a Lease alike.
 *
 * ```
 *  idle --run()--> candidate --acquired--> leader --renewed every retryPeriod--> leader
 *                     |  ^ retry every          |  no renewal for renewDeadline: onStoppedLeading, run() resolves
 *                     |  | retryPeriod          |  stop(): onStoppedLeading, release (holder '', 1 s), run() resolves
 *                     +--+                      v
 *                  stop(): run() resolves     stopped
 * ```
 *
 * Guarantees:
 * - A candidate takes the lease only when it is absent, released (holder ''), held by itself, or expired by this
 *   candidate's own monotonic clock: `observedAt + leaseDurationSeconds <= now`, where `observedAt` is when this
 *   candidate last saw the record change. The holder's wall-clock renewTime is never trusted.
 * - Writes are optimistic (resourceVersion), so of candidates racing for one record exactly one wins.
 * - The leader steps down `renewDeadlineMs` after the start of its last successful renewal, on its own timer, even
 *   when a store call hangs. Since renewDeadline < leaseDuration it stops before anyone else may take over.
 * - A store error of any kind (network, 5xx, conflict) fails only the current attempt; the next comes a retry
 *   period later. A call that does not answer within renewDeadline/2 counts as failed. Callback errors are logged.
 * - `stop()` releases a lease it holds (holderIdentity '', leaseDurationSeconds 1), so another candidate takes over
 *   at its next attempt instead of after a full leaseDuration.
 * - One elector leads at most once: after it stops leading, `run()` resolves and the process must stop
 *   reconciling (exit, or build a new elector to stand again), as with client-go's `Run`.
 */
export class LeaderElector {
  readonly identity: string;
  private readonly store: LeaseStore;
  private readonly callbacks: LeaderCallbacks;
  private readonly clock: TimerClock;
  private readonly wallClock: () => Date;
  private readonly log: (line: string) => void;
  private readonly timings: LeaderElectionTimings;
  private readonly attemptTimeoutMs: number;

  private phase: Phase = 'idle';
  private leading = false;
  /** The record as last read or written, and when (monotonic) this candidate saw it change. */
  private observed: LeaseRecord | undefined;
  private observedAtMs = 0;
  private reportedLeader = '';
  /** When the last successful acquire or renewal started (monotonic). */
  private renewedAtMs = 0;
  private attemptSeq = 0;
  private inFlight: Promise<void> | undefined;
  private retryTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private readonly finished: Promise<void>;
  private finish: () => void = () => undefined;

  constructor(options: LeaderElectorOptions) {
    if (options.identity === '') throw new RangeError('LeaderElector needs a non-empty identity');
    this.timings = {
      leaseDurationMs: options.leaseDurationMs ?? defaultLeaderElectionTimings.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs ?? defaultLeaderElectionTimings.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs ?? defaultLeaderElectionTimings.retryPeriodMs,
    };
    validateLeaderElectionTimings(this.timings);
    this.attemptTimeoutMs = this.timings.renewDeadlineMs / 2;
    this.identity = options.identity;
    this.store = options.store;
    this.callbacks = options.callbacks ?? {};
    this.clock = options.clock ?? systemTimerClock;
    this.wallClock = options.wallClock ?? (() => new Date());
    this.log = options.log ?? (() => undefined);
    this.finished = new Promise((resolve) => {
      this.finish = resolve;
    });
  }

  /** True from a successful acquire until this elector steps down or is stopped. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder this candidate last observed ('' for none). */
  get leader(): string {
    return this.observed?.holderIdentity ?? '';
  }

  /**
   * Stands for election: tries at once, then every retry period. Resolves when this elector is done: after it
   * stopped leading, or after `stop()`.
   */
  run(): Promise<void> {
    if (this.phase === 'idle') {
      this.phase = 'running';
      this.attempt();
    }
    return this.finished;
  }

  /**
   * Stops standing for election. If leading, calls `onStoppedLeading` (and awaits it) and then releases the lease.
   * Resolves when that is done; never rejects.
   */
  async stop(): Promise<void> {
    if (this.phase === 'idle') {
      this.phase = 'stopped';
      this.finish();
    }
    if (this.phase !== 'running') return this.finished;
    this.phase = 'stopping';
    this.clearTimers();
    // An attempt under way may still acquire: wait for it, so that a lease won meanwhile is released too.
    await this.inFlight;
    if (this.leading) await this.stepDown('stopped');
    if (this.observed?.holderIdentity === this.identity) await this.release();
    this.phase = 'stopped';
    this.finish();
    return this.finished;
  }

  /** One acquire-or-renew attempt, then the next one a retry period after it ends. */
  private attempt(): void {
    this.retryTimer = undefined;
    const seq = ++this.attemptSeq;
    const startedMs = this.clock.now();
    const attempt = this.withTimeout(this.tryAcquireOrRenew(seq, startedMs)).then(
      (result) => {
        if (result === timedOut) this.log(`Timed out on Lease identity=${this.identity} timeoutMs=${this.attemptTimeoutMs}`);
        return result === true;
      },
      (error: unknown) => {
        this.log(`Failed to acquire or renew Lease identity=${this.identity} error=${errorText(error)}`);
        return false;
      },
    ).then((succeeded) => {
      if (this.inFlight === attempt) this.inFlight = undefined;
      if (this.phase !== 'running') return;
      this.reportLeader();
      if (succeeded) this.renewed(startedMs);
      this.retryTimer = this.clock.setTimer(() => this.attempt(), this.timings.retryPeriodMs);
    });
    this.inFlight = attempt;
  }

  /** client-go tryAcquireOrRenew: true when this candidate holds the lease after the call. */
  private async tryAcquireOrRenew(seq: number, nowMs: number): Promise<boolean> {
    const now = this.wallClock();
    const desired: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.timings.leaseDurationMs / 1000,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };

    // 1. Fast path: the leader renews on the version it saw last; on any failure it falls back to a fresh read.
    const seen = this.observed;
    if (this.leading && seen !== undefined && seen.holderIdentity === this.identity && this.observedValid(nowMs)) {
      try {
        const renewed = await this.store.update({ ...desired, acquireTime: seen.acquireTime, leaseTransitions: seen.leaseTransitions, resourceVersion: seen.resourceVersion });
        this.observe(seq, renewed);
        return true;
      } catch (error) {
        this.log(`Failed to renew Lease optimistically, reading it again identity=${this.identity} error=${errorText(error)}`);
      }
    }

    // 2. Read the record, or create it. An attempt that was abandoned (timed out) or outlived run() writes no more.
    const current = await this.store.get();
    if (seq !== this.attemptSeq || this.phase !== 'running') return false;
    if (current === undefined) {
      this.observe(seq, await this.store.create(desired));
      return true;
    }

    // 3. Someone else holds it and, by this candidate's own observation, it has not expired.
    this.observe(seq, current);
    if (current.holderIdentity !== '' && current.holderIdentity !== this.identity && this.observedValid(nowMs)) return false;

    // 4. Take it over (a transition) or renew it.
    const next: LeaseRecord =
      current.holderIdentity === this.identity
        ? { ...desired, acquireTime: current.acquireTime, leaseTransitions: current.leaseTransitions, resourceVersion: current.resourceVersion }
        : { ...desired, leaseTransitions: current.leaseTransitions + 1, resourceVersion: current.resourceVersion };
    this.observe(seq, await this.store.update(next));
    return true;
  }

  /** Records what the latest attempt saw; `observedAtMs` moves only when the record changed. */
  private observe(seq: number, record: LeaseRecord): void {
    if (seq !== this.attemptSeq) return; // an abandoned attempt answering late
    if (this.observed === undefined || !sameRecord(this.observed, record)) this.observedAtMs = this.clock.now();
    this.observed = record;
  }

  /** Whether the observed holder's lease runs on, judged only by this candidate's clock. */
  private observedValid(nowMs: number): boolean {
    const observed = this.observed;
    return observed !== undefined && this.observedAtMs + observed.leaseDurationSeconds * 1000 > nowMs;
  }

  private renewed(startedMs: number): void {
    this.renewedAtMs = startedMs;
    if (!this.leading) {
      this.leading = true;
      this.log(`Acquired Lease identity=${this.identity} transitions=${this.observed?.leaseTransitions ?? 0}`);
      this.call('onStartedLeading', () => this.callbacks.onStartedLeading?.());
    }
    this.armDeadline();
  }

  /** Arms the step-down timer for renewDeadline after the last successful renewal started. */
  private armDeadline(): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimer(this.deadlineTimer);
    const dueMs = this.renewedAtMs + this.timings.renewDeadlineMs;
    this.deadlineTimer = this.clock.setTimer(() => {
      this.deadlineTimer = undefined;
      if (this.phase !== 'running' || !this.leading) return;
      if (this.clock.now() < dueMs) {
        this.armDeadline(); // fired early
        return;
      }
      this.log(`Lost Lease identity=${this.identity} reason=RenewDeadlineExceeded renewDeadlineMs=${this.timings.renewDeadlineMs}`);
      this.phase = 'stopped';
      this.clearTimers();
      void this.stepDown('lost').then(() => this.finish());
    }, dueMs - this.clock.now());
  }

  private async stepDown(why: 'lost' | 'stopped'): Promise<void> {
    this.leading = false;
    if (why === 'stopped') this.log(`Stopped leading identity=${this.identity}`);
    try {
      await this.callbacks.onStoppedLeading?.();
    } catch (error) {
      this.log(`Failed in onStoppedLeading identity=${this.identity} error=${errorText(error)}`);
    }
  }

  /** Gives the lease up so the next candidate need not wait out leaseDuration (client-go release). */
  private async release(): Promise<void> {
    const seen = this.observed;
    if (seen === undefined) return;
    const now = this.wallClock();
    const seq = ++this.attemptSeq;
    try {
      const released = await this.withTimeout(
        this.store.update({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: seen.leaseTransitions, resourceVersion: seen.resourceVersion }),
      );
      if (released === timedOut) throw new Error(`no answer within ${this.attemptTimeoutMs} ms`);
      this.observe(seq, released);
      this.log(`Released Lease identity=${this.identity}`);
    } catch (error) {
      this.log(`Failed to release Lease identity=${this.identity} error=${errorText(error)}`);
    }
  }

  private reportLeader(): void {
    const holder = this.observed?.holderIdentity ?? '';
    if (holder === '' || holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    this.log(`Observed new leader identity=${this.identity} leader=${holder}`);
    this.call('onNewLeader', () => this.callbacks.onNewLeader?.(holder));
  }

  private call(name: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.log(`Failed in ${name} identity=${this.identity} error=${errorText(error)}`);
    }
  }

  /** Races `promise` against the attempt timeout on the injected clock. */
  private withTimeout<T>(promise: Promise<T>): Promise<T | typeof timedOut> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<typeof timedOut>((resolve) => {
      timer = this.clock.setTimer(() => resolve(timedOut), this.attemptTimeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => {
      if (timer !== undefined) this.clock.clearTimer(timer);
    });
  }

  private clearTimers(): void {
    if (this.retryTimer !== undefined) this.clock.clearTimer(this.retryTimer);
    if (this.deadlineTimer !== undefined) this.clock.clearTimer(this.deadlineTimer);
    this.retryTimer = undefined;
    this.deadlineTimer = undefined;
  }
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  if (a.resourceVersion !== undefined && b.resourceVersion !== undefined) return a.resourceVersion === b.resourceVersion;
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.leaseTransitions === b.leaseTransitions &&
    a.acquireTime?.getTime() === b.acquireTime?.getTime() &&
    a.renewTime?.getTime() === b.renewTime?.getTime()
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
