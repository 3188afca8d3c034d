import type { SpscRing } from './spsc-ring.ts';
import type { WaitStrategyName } from './wait-strategy.ts';

// Test support for the ring tests (not used by the engine): the message they pass through rings, and what the
// stress tests exchange with their consumer thread (fixtures/ring-consumer.worker.ts). It lives beside the tests,
// not in fixtures/, so that the tests import nothing from fixtures/ and fixtures/ imports only this folder.

/**
 * The message the ring stress tests send, 24 bytes (three Float64 words, deliberately not a power of two):
 *
 *     f64[base + 0]      message id (0, 1, 2, ... as the producer offered them)
 *     i32[2*base + 2]    checksum(id)
 *     i32[2*base + 3]    ~id
 *     f64[base + 2]      id * 0.5 + 0.25
 *
 * where base = slot * ring.slotF64.
 */
export const MESSAGE_BYTES = 24;

/** A 32-bit mix of the id, so a torn or stale slot fails the check. */
export function checksum(id: number): number {
  let h = Math.imul(id ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35) ^ (h >>> 16);
}

export function writeMessage(ring: SpscRing, slot: number, id: number): void {
  const base = slot * ring.slotF64;
  ring.f64[base] = id;
  ring.i32[2 * base + 2] = checksum(id);
  ring.i32[2 * base + 3] = ~id;
  ring.f64[base + 2] = id * 0.5 + 0.25;
}

/** The id stored in `slot`, or -1 if any field disagrees with it. */
export function readMessage(ring: SpscRing, slot: number): number {
  const base = slot * ring.slotF64;
  const id = ring.f64[base];
  const intact =
    ring.i32[2 * base + 2] === checksum(id) && ring.i32[2 * base + 3] === ~id && ring.f64[base + 2] === id * 0.5 + 0.25;
  return intact ? id : -1;
}

/** What a stress test hands its consumer thread (workerData). */
export interface ConsumerRequest {
  readonly sab: SharedArrayBuffer;
  readonly strategy: WaitStrategyName;
  /** Spin this many iterations per message, to make a 'drop' ring overflow. */
  readonly slowdown: number;
}

/** What the consumer thread posts once the ring is closed and drained (or it gave up). */
export interface ConsumerReport {
  readonly consumed: number;
  /** Ids skipped between consecutive messages (dropped upstream). */
  readonly gaps: number;
  readonly lastId: number;
  /** Messages whose fields disagreed, or whose id did not increase. */
  readonly errors: number;
  readonly firstError: string;
  /** False when the consumer gave up after 10 s without data instead of seeing the ring closed. */
  readonly closed: boolean;
}
