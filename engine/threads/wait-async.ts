/**
 * `Atomics.waitAsync` (V8 8.7+, Node 16+), typed here because the project's TypeScript library (ES2023) predates
 * it: waits for `array[index]` to change from `value` (a notify, or `timeoutMs`) without blocking the event loop.
 * `async: false` when it did not have to wait (the value already differed, or a zero timeout).
 */
export type WaitAsyncResult = { readonly async: false; readonly value: 'not-equal' | 'timed-out' } | { readonly async: true; readonly value: Promise<'ok' | 'timed-out'> };

export const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs?: number): WaitAsyncResult;
}).waitAsync;
