/**
 * Polling for tests against real processes and a real API server, where a state is reached "soon" rather than at
 * a known moment.
 */
export interface EventuallyOptions<T> {
  /** How long to keep polling, in ms. */
  readonly timeoutMs: number;
  /** What is awaited, in words: named in the timeout error. */
  readonly what: string;
  /** Accepts a value read; default: the value is truthy (a `() => boolean` check returned true). */
  readonly until?: (value: T) => boolean;
  /** Pause between reads; default 250 ms. */
  readonly intervalMs?: number;
  /** More for the timeout error, e.g. the last lines a component logged. */
  readonly context?: () => string;
}

/**
 * Reads until `until` accepts the value (or, without `until`, until the value is truthy) and returns that value.
 * Each read comes before the deadline check, so a state reached by the deadline is seen. On timeout it throws
 * `not true within <timeoutMs> ms: <what>`, with the last value (unless it is a boolean; Kubernetes objects without
 * their managedFields, which would fill the message) and the context. An error
 * thrown by `read` ends the wait with that error.
 */
export async function eventually<T>(read: () => T | Promise<T>, options: EventuallyOptions<T>): Promise<T> {
  const accept = options.until ?? ((value: T) => Boolean(value));
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) {
      const last = typeof value === 'boolean' ? '' : `\nlast: ${JSON.stringify(value, withoutManagedFields)?.slice(0, 4000)}`;
      const context = options.context === undefined ? '' : `\n${options.context()}`;
      throw new Error(`not true within ${options.timeoutMs} ms: ${options.what}${last}${context}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}

/** JSON.stringify replacer that leaves out metadata.managedFields. */
function withoutManagedFields(key: string, value: unknown): unknown {
  return key === 'managedFields' ? undefined : value;
}
