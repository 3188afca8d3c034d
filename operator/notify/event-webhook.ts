import { summarizeMeasurement, type MeasurementSummary } from '../api/measurement-summary.ts';
import type { TradingEngineStatus } from '../api/types.ts';

/**
 * The operator's event webhook: every Event it records (a rollout aborted, orders could not be cut, a gate
 * breached, a revision promoted, ...) is POSTed as JSON to one URL, for chat, paging or change-management tools.
 *
 *   reconcile --send(event) (sync, O(1))--> bounded queue --one POST at a time, in order--> receiver
 *                                               | full: the oldest waiting is dropped        | failure / non-2xx:
 *                                               |                                            |   retry after 1 s, 2 s,
 *                                               '------------------------------------------- '   4 s ... 30 s, then drop
 *
 * Guarantees: `send` never blocks and never throws, so a slow or dead receiver never holds a reconcile back; events
 * leave in the order they were sent; each is tried `maxAttempts` times before it is dropped; every outcome is
 * counted (`counts`, and the operator's nexus_operator_webhook_events_total{result}) and the first drop of a run
 * is logged, then every 100th. Delivery is at-least-once from the receiver's view only while the operator runs: the
 * queue is in memory, and a restart loses what was queued (the Events themselves are in the API server).
 */

/** One Event as the receiver gets it: the engine, the Event, and where its rollout and gate stood. */
export interface WebhookEvent {
  readonly engine: { readonly namespace: string; readonly name: string };
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  /** The revision rolling out and the stable one, when known. */
  readonly revision?: string;
  readonly stableRevision?: string;
  readonly phase?: string;
  /** The gate's last measurement at the time, when there is one: measured quantile, stable's, threshold (µs). */
  readonly measurement?: MeasurementSummary;
  /** When the operator recorded it (ISO 8601). */
  readonly time: string;
}

export interface EventWebhookOptions {
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>` when given. */
  readonly token?: string;
  /** One POST's limit (connect, send, answer). Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Events held at most (>= 2, the one in flight included); the oldest waiting goes when full. Default 1000. */
  readonly maxQueue?: number;
  /** Tries per event before it is dropped. Default 6 (the last about a minute after the first). */
  readonly maxAttempts?: number;
  /** The first retry's delay, doubled per retry up to maxBackoffMs. Defaults 1000 and 30000. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly fetch?: typeof fetch;
  readonly log: (line: string) => void;
  /** Called with each outcome, e.g. to count it in a metric. */
  readonly onResult?: (result: WebhookResult) => void;
}

/** `delivered`: a 2xx answer; `retried`: an attempt failed and the event waits for another; `dropped`: given up or pushed out. */
export type WebhookResult = 'delivered' | 'retried' | 'dropped';

export class EventWebhook {
  readonly counts: Record<WebhookResult, number> = { delivered: 0, retried: 0, dropped: 0 };
  private readonly queue: WebhookEvent[] = [];
  private running: Promise<void> | undefined;
  /** close() was called: no event is taken any more. */
  private closing = false;
  /** close()'s drain time is over: the sender stops at its next step and counts nothing more. */
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly maxQueue: number;

  constructor(private readonly options: EventWebhookOptions) {
    this.maxQueue = options.maxQueue ?? 1000;
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 2) throw new RangeError(`maxQueue must be an integer >= 2, got ${this.maxQueue}`);
  }

  /** Queues one event for delivery. O(1); never blocks, never throws. */
  send(event: WebhookEvent): void {
    if (this.closing) return;
    if (this.queue.length >= this.maxQueue) {
      // The first event is in flight; the oldest one waiting makes room.
      this.queue.splice(1, 1);
      this.outcome('dropped', `queue full (${this.maxQueue} events): the oldest waiting was dropped`);
    }
    this.queue.push(event);
    // deliverAll clears `running` in the same synchronous step that finds the queue empty, so an event pushed here
    // is either seen by the running sender or starts a new one.
    this.running ??= this.deliverAll();
  }

  /** Events waiting (the one being delivered included). */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Stops taking events and lets the sender work up to `drainMs` (a retry waiting out its backoff goes at once);
   * then stops it and drops what is left, each event counted once: never posted after close returns.
   */
  async close(drainMs = 5_000): Promise<void> {
    this.closing = true;
    this.wake?.();
    const running = this.running;
    if (running !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((resolve) => {
        timer = setTimeout(resolve, drainMs);
      })]);
      clearTimeout(timer);
    }
    this.stopped = true;
    this.wake?.();
    for (const _left of this.queue.splice(0)) this.outcome('dropped', 'the operator stopped before it was delivered');
  }

  private async deliverAll(): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 6;
    while (this.queue.length > 0 && !this.stopped) {
      const event = this.queue[0];
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const failure = await this.post(event);
        // Stopped while this post was out: close() has taken (and counted) what was queued, this event included.
        if (this.stopped) break;
        if (failure === undefined) {
          this.outcome('delivered');
          this.queue.shift();
          break;
        }
        if (attempt === maxAttempts) {
          this.outcome('dropped', `${failure}; gave up after ${attempt} attempts`);
          this.queue.shift();
          break;
        }
        this.outcome('retried', failure);
        // Closing: the remaining attempts go without waiting, within close()'s drain time.
        if (!this.closing) await this.pause(Math.min(this.options.maxBackoffMs ?? 30_000, (this.options.baseBackoffMs ?? 1_000) * 2 ** (attempt - 1)));
        if (this.stopped) break;
      }
    }
    this.running = undefined;
  }

  /** One POST; undefined when the receiver answered 2xx, else why not. */
  private async post(event: WebhookEvent): Promise<string | undefined> {
    const fetchImpl = this.options.fetch ?? globalThis.fetch;
    try {
      const response = await fetchImpl(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.options.token === undefined ? {} : { authorization: `Bearer ${this.options.token}` }),
        },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.status >= 200 && response.status < 300 ? undefined : `the receiver answered HTTP ${response.status}`;
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      return `${error instanceof Error ? error.message : String(error)}${cause}`;
    }
  }

  /** Waits `ms`, or less when closing. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private outcome(result: WebhookResult, detail?: string): void {
    this.counts[result]++;
    this.options.onResult?.(result);
    if (result === 'dropped' && (this.counts.dropped === 1 || this.counts.dropped % 100 === 0)) {
      this.options.log(`Event webhook dropped an event (${this.counts.dropped} so far): ${detail ?? ''}`);
    } else if (result === 'retried' && this.counts.retried === 1) {
      this.options.log(`Event webhook delivery failed, retrying: ${detail ?? ''}`);
    }
  }
}

/** The webhook's view of one Event the operator records for `engine`, with the status decided alongside it. */
export function webhookEventOf(
  engine: { readonly namespace: string; readonly name: string },
  event: { readonly type: string; readonly reason: string; readonly message: string },
  status: TradingEngineStatus,
  nowMs: number,
): WebhookEvent {
  const measurement = summarizeMeasurement(status.analysis?.lastMeasurement);
  return {
    engine: { namespace: engine.namespace, name: engine.name },
    type: event.type,
    reason: event.reason,
    message: event.message,
    ...(status.updateRevision === undefined ? {} : { revision: status.updateRevision }),
    ...(status.stableRevision === undefined ? {} : { stableRevision: status.stableRevision }),
    ...(status.phase === undefined ? {} : { phase: status.phase }),
    ...(measurement === undefined ? {} : { measurement }),
    time: new Date(nowMs).toISOString(),
  };
}
