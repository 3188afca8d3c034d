/**
 * Status expectations: after this operator writes a TradingEngine's status, the informer cache holds the old
 * object until the watch event arrives. A reconcile in that gap would decide from a stale status (a step already
 * taken, a streak already counted) and could undo children it just changed. So each key remembers the
 * resourceVersion its last status write produced, and reconcile waits until the cache holds that version or a
 * later one, for at most `timeoutMs` (then it proceeds: the status precondition still refuses a stale write).
 *
 * resourceVersions are opaque to clients; comparing them as integers (what every etcd-backed API server issues)
 * is used only to recognise "that version or a later one"; a non-integer version is compared for equality.
 */
export class StatusExpectations {
  private readonly pending = new Map<string, { readonly resourceVersion: string; readonly untilMs: number }>();

  constructor(private readonly timeoutMs = 5_000) {}

  expect(key: string, resourceVersion: string | undefined, nowMs: number): void {
    if (resourceVersion === undefined || resourceVersion === '') return;
    this.pending.set(key, { resourceVersion, untilMs: nowMs + this.timeoutMs });
  }

  /** True when no write is pending for `key`, or the cached version has reached it, or the wait timed out. */
  satisfiedBy(key: string, cachedVersion: string | undefined, nowMs: number): boolean {
    const pending = this.pending.get(key);
    if (pending === undefined) return true;
    if (nowMs >= pending.untilMs || reached(cachedVersion, pending.resourceVersion)) {
      this.pending.delete(key);
      return true;
    }
    return false;
  }

  forget(key: string): void {
    this.pending.delete(key);
  }
}

function reached(cached: string | undefined, expected: string): boolean {
  if (cached === undefined) return false;
  if (cached === expected) return true;
  if (!/^[0-9]+$/.test(cached) || !/^[0-9]+$/.test(expected)) return false;
  return BigInt(cached) >= BigInt(expected);
}
