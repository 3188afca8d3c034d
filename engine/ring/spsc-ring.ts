import { BlockingWaitStrategy, type WaitPoint, type WaitStrategy } from './wait-strategy.ts';

/**
 * What a producer's `claim()` does when the ring is full, fixed when the ring is created. Spelled as the engine
 * config spells them (`pipeline.overflow`).
 */
export const OVERFLOW_POLICIES = ['drop', 'block'] as const;
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];

export interface SpscRingOptions {
  /** Number of slots: a power of two, 1 to 2^30. */
  readonly capacity: number;
  /** Bytes per slot: a positive multiple of 8, so every slot starts on a Float64 boundary. */
  readonly slotBytes: number;
  /** 'drop': a write to a full ring is refused and counted. 'block': the producer waits for space. */
  readonly overflow: OverflowPolicy;
  /** First sequence number (any integer; taken modulo 2^32). Tests start just below 2^31 to cross the Int32 wrap. */
  readonly initialSequence?: number;
  /** How this thread waits. Default: BlockingWaitStrategy. */
  readonly waitStrategy?: WaitStrategy;
}

export interface SpscRingAttachOptions {
  /** How this thread waits. Default: BlockingWaitStrategy. */
  readonly waitStrategy?: WaitStrategy;
}

/** Fills slot `slot` in place; handed to `offer`. Pass a function made once, not a fresh closure per message. */
export type SlotWriter = (ring: SpscRing, slot: number) => void;

/** Bytes before the slot area: six 64-byte cache lines. */
export const CONTROL_BYTES = 384;
/** 'NXRS' */
export const RING_MAGIC = 0x4e585253;
export const RING_LAYOUT_VERSION = 1;
export const MAX_CAPACITY = 2 ** 30;

// Int32 indices into the control block; 16 Int32 per 64-byte line.
const MAGIC = 0;
const VERSION = 1;
const CAPACITY = 2;
const SLOT_BYTES = 3;
const POLICY = 4;
const CONTROL_LENGTH = 5;
const CLOSED = 6;
const HEAD = 16;
const TAIL = 32;
const CONSUMER_SLEEPING = 48;
const PRODUCER_SLEEPING = 64;
const DROPPED_LO = 80;
const DROPPED_HI = 81;
const DROPPED_VERSION = 82;

const POLICY_CODES: Record<OverflowPolicy, number> = { drop: 1, block: 2 };
const TWO_32 = 2 ** 32;

/**
 * A lock-free single-producer/single-consumer ring of fixed-size slots in a SharedArrayBuffer, for handing
 * messages between two threads with no allocation and no syscall on the busy path.
 *
 * Topology. Each stage thread owns one ring per direction, so every ring has exactly one writer thread and
 * one reader thread and no MPSC ring is needed:
 *
 *     feed thread --SPSC--> worker 1 --SPSC--> main
 *                 --SPSC--> worker 2 --SPSC--> main      (main polls its inbound rings in turn)
 *
 * Memory layout (byte offsets). Control fields written by different sides are at least 64 bytes apart, so
 * they sit on different cache lines whatever the buffer's base alignment: the producer's stores to `head`
 * never invalidate the line holding `tail`, and the other way round.
 *
 *     0    +------------------------------------------------------------------+
 *          | magic 'NXRS' | version | capacity | slotBytes | policy |          |  line 0: layout, written
 *          | controlBytes | closed  | (unused)                                 |  once; closed set once
 *     64   +------------------------------------------------------------------+
 *          | head: producer sequence (Int32, wraps)                           |  line 1: producer writes
 *     128  +------------------------------------------------------------------+
 *          | tail: consumer sequence (Int32, wraps)                           |  line 2: consumer writes
 *     192  +------------------------------------------------------------------+
 *          | consumer sleeping flag                                           |  line 3: raised by a
 *     256  +------------------------------------------------------------------+          blocked consumer
 *          | producer sleeping flag                                           |  line 4: raised by a
 *     320  +------------------------------------------------------------------+          blocked producer
 *          | dropped lo | dropped hi | dropped version (seqlock on carry)       |  line 5: producer writes
 *     384  +----------------+----------------+-----+--------------------------+
 *          | slot 0         | slot 1         | ... | slot capacity-1          |  slot area: capacity x
 *          +----------------+----------------+-----+--------------------------+  slotBytes
 *
 * Slot views. `f64`, `i32` and `u8` all start at the slot area (byte 384), so slot `s` begins at
 * `f64[s * slotF64]`, `i32[s * slotI32]` and `u8[s * slotBytes]`. Callers define their own fields at fixed
 * offsets inside a slot and read and write them in place.
 *
 * Protocol. Sequence `q` lives in slot `q & mask`. The producer writes slot fields with plain stores, then
 * publishes with `Atomics.store(head)`; the consumer reads `head` with `Atomics.load` before reading fields.
 * Atomics are sequentially consistent, so everything written before a publish is visible after the load
 * that sees it; the same holds for `release` (tail) before the producer reuses a slot. Each side keeps a
 * cached copy of the other side's sequence and re-reads the shared cell only when the cache says the ring is
 * full (producer) or empty (consumer), so a busy side touches the other's cache line about once per lap.
 *
 * Wrap-around (why Int32 sequences are correct while capacity <= 2^30). Sequences are counters taken modulo
 * 2^32 and stored as Int32. The true number of unread slots d = head - tail always satisfies
 * 0 <= d <= capacity <= 2^30 < 2^31, because the producer only advances head while d < capacity and the
 * consumer only advances tail while d > 0. `(head - tail) | 0` reduces the difference modulo 2^32 into
 * [-2^31, 2^31), and since d lies in that range it returns d exactly, across any wrap (2^31 - 1 -> -2^31 is an
 * ordinary +1). A stale cached copy lies between the other side's sequence and this side's, so the same bound
 * holds for it. Slot indices stay continuous too: capacity divides 2^32, so `q & mask` (the low bits of the
 * two's-complement value) equals q mod capacity on both sides of the wrap. Capacity 2^31 would allow
 * d = 2^31, which `| 0` reads as -2^31; hence the 2^30 limit (the next power of two down).
 *
 * Overflow, never silent. With policy 'drop', `claim()` and `offer()` on a full ring refuse the write and add
 * one to the shared dropped counter, so at every moment: messages offered == consumed + in the ring + dropped.
 * With 'block', they wait for space with this thread's wait strategy. `tryClaim()` is the raw probe under both
 * and counts nothing: a producer that gives up after it must call `recordDropped()`.
 *
 * Threads. Create the ring on one thread, pass `ring.sab` in workerData or postMessage, and call
 * `SpscRing.attach(sab)` on the other. Each thread's SpscRing object keeps its own cursor state; use one
 * object as the producer on one thread and one as the consumer on one thread (a single object may play both
 * roles on one thread, as the unit tests do). Stats and `close()` may be called from any thread.
 */
export class SpscRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly mask: number;
  readonly slotBytes: number;
  /** Float64 elements per slot: slot `s` starts at `f64[s * slotF64]`. */
  readonly slotF64: number;
  /** Int32 elements per slot: slot `s` starts at `i32[s * slotI32]`. */
  readonly slotI32: number;
  readonly overflow: OverflowPolicy;
  /** The slot area viewed as Float64. */
  readonly f64: Float64Array;
  /** The slot area viewed as Int32. */
  readonly i32: Int32Array;
  /** The slot area viewed as bytes. */
  readonly u8: Uint8Array;

  /**
   * Producer: a free slot, or -1. 'drop' rings count a drop and return -1 when full; 'block' rings publish
   * any pending claims, wait for space with the wait strategy and return -1 only once the ring is closed.
   * Picked once at construction, so the hot path does not branch on the policy.
   */
  readonly claim: () => number;

  private readonly control: Int32Array;
  private readonly waitStrategy: WaitStrategy;
  private readonly consumerPoint: WaitPoint;
  private readonly producerPoint: WaitPoint;

  // Producer cursor: last published sequence, slots claimed since, cached consumer sequence.
  private head: number;
  private claimed = 0;
  private cachedTail: number;
  // Consumer cursor: next sequence to read, cached producer sequence.
  private tail: number;
  private cachedHead: number;

  /** SharedArrayBuffer size for a ring of this shape. */
  static byteLength(capacity: number, slotBytes: number): number {
    checkShape(capacity, slotBytes);
    return CONTROL_BYTES + capacity * slotBytes;
  }

  /** Allocates and initialises a ring; this thread may then use it as producer, consumer or both. */
  static create(options: SpscRingOptions): SpscRing {
    const { capacity, slotBytes, overflow, initialSequence = 0 } = options;
    checkShape(capacity, slotBytes);
    if (!Object.hasOwn(POLICY_CODES, overflow)) {
      throw new RangeError(`SpscRing overflow policy must be 'drop' or 'block', got ${String(overflow)}`);
    }
    if (!Number.isSafeInteger(initialSequence)) {
      throw new RangeError(`SpscRing initialSequence must be a safe integer, got ${initialSequence}`);
    }
    const sab = new SharedArrayBuffer(CONTROL_BYTES + capacity * slotBytes);
    const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    control[CAPACITY] = capacity;
    control[SLOT_BYTES] = slotBytes;
    control[POLICY] = POLICY_CODES[overflow];
    control[CONTROL_LENGTH] = CONTROL_BYTES;
    control[HEAD] = initialSequence | 0;
    control[TAIL] = initialSequence | 0;
    control[VERSION] = RING_LAYOUT_VERSION;
    // Magic last: a buffer that carries it is fully initialised.
    Atomics.store(control, MAGIC, RING_MAGIC);
    return new SpscRing(sab, options.waitStrategy);
  }

  /**
   * Rebuilds a ring over a buffer made by `create` (usually on another thread). Throws TypeError when `sab` is
   * not a SharedArrayBuffer and RangeError when its control block does not describe a valid ring of its size.
   */
  static attach(sab: SharedArrayBuffer, options: SpscRingAttachOptions = {}): SpscRing {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new TypeError('SpscRing.attach needs a SharedArrayBuffer (an ArrayBuffer is copied, not shared, between threads)');
    }
    if (sab.byteLength < CONTROL_BYTES) {
      throw new RangeError(`SpscRing.attach: buffer of ${sab.byteLength} bytes is shorter than the ${CONTROL_BYTES}-byte control block`);
    }
    const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    const magic = Atomics.load(control, MAGIC);
    if (magic !== RING_MAGIC) {
      throw new RangeError(`SpscRing.attach: bad magic 0x${(magic >>> 0).toString(16)}, expected 0x${RING_MAGIC.toString(16)} (not a ring buffer)`);
    }
    if (control[VERSION] !== RING_LAYOUT_VERSION) {
      throw new RangeError(`SpscRing.attach: layout version ${control[VERSION]}, this build reads version ${RING_LAYOUT_VERSION}`);
    }
    if (control[CONTROL_LENGTH] !== CONTROL_BYTES) {
      throw new RangeError(`SpscRing.attach: control block of ${control[CONTROL_LENGTH]} bytes, expected ${CONTROL_BYTES}`);
    }
    checkShape(control[CAPACITY], control[SLOT_BYTES]);
    if (policyOf(control[POLICY]) === undefined) {
      throw new RangeError(`SpscRing.attach: unknown overflow policy code ${control[POLICY]}`);
    }
    const expected = CONTROL_BYTES + control[CAPACITY] * control[SLOT_BYTES];
    if (sab.byteLength !== expected) {
      throw new RangeError(
        `SpscRing.attach: buffer is ${sab.byteLength} bytes, but capacity ${control[CAPACITY]} x slotBytes ${control[SLOT_BYTES]} needs ${expected}`,
      );
    }
    return new SpscRing(sab, options.waitStrategy);
  }

  private constructor(sab: SharedArrayBuffer, waitStrategy: WaitStrategy = new BlockingWaitStrategy()) {
    const control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    this.sab = sab;
    this.control = control;
    this.capacity = control[CAPACITY];
    this.mask = this.capacity - 1;
    this.slotBytes = control[SLOT_BYTES];
    this.slotF64 = this.slotBytes / 8;
    this.slotI32 = this.slotBytes / 4;
    this.overflow = policyOf(control[POLICY]) ?? 'block';
    const slotAreaBytes = this.capacity * this.slotBytes;
    this.f64 = new Float64Array(sab, CONTROL_BYTES, slotAreaBytes / 8);
    this.i32 = new Int32Array(sab, CONTROL_BYTES, slotAreaBytes / 4);
    this.u8 = new Uint8Array(sab, CONTROL_BYTES, slotAreaBytes);
    this.waitStrategy = waitStrategy;
    this.head = Atomics.load(control, HEAD);
    this.cachedHead = this.head;
    this.tail = Atomics.load(control, TAIL);
    this.cachedTail = this.tail;
    this.claim = this.overflow === 'drop' ? () => this.claimOrDrop() : () => this.claimOrWait();
    this.consumerPoint = {
      control,
      sleepFlagIndex: CONSUMER_SLEEPING,
      poll: () => this.refreshAvailable(),
      isClosed: () => this.isClosed(),
    };
    this.producerPoint = {
      control,
      sleepFlagIndex: PRODUCER_SLEEPING,
      poll: () => this.refreshFree(),
      isClosed: () => this.isClosed(),
    };
  }

  // ---- Producer ----------------------------------------------------------------------------------------

  /**
   * Producer: claims the next free slot and returns its index, or -1 when the ring is full. The slot becomes
   * visible to the consumer at the next `publish()`/`publishN()`. Counts nothing and never waits.
   */
  tryClaim(): number {
    const next = (this.head + this.claimed) | 0;
    if (((next - this.cachedTail) | 0) >= this.capacity) {
      this.cachedTail = Atomics.load(this.control, TAIL);
      if (((next - this.cachedTail) | 0) >= this.capacity) return -1;
    }
    this.claimed++;
    return next & this.mask;
  }

  /** Producer: publishes every slot claimed with `tryClaim`/`claim` since the last publish. */
  publish(): void {
    this.publishN(0);
  }

  /**
   * Producer, batch: how many slots after those already claimed are free to write, re-reading the consumer
   * sequence only when the cached copy says none. Write them via `claimSlotAt(0 .. n-1)`, then `publishN(n)`.
   */
  claimable(): number {
    const used = (this.head + this.claimed - this.cachedTail) | 0;
    if (used < this.capacity) return this.capacity - used;
    return this.refreshFree();
  }

  /** Producer, batch: the slot index of the `offset`-th free slot (0 <= offset < claimable()). */
  claimSlotAt(offset: number): number {
    return (this.head + this.claimed + offset) & this.mask;
  }

  /**
   * Producer: publishes the slots claimed one by one plus the next `n` free slots (written through
   * `claimSlotAt`), with one release store, and wakes the consumer only if it flagged that it sleeps.
   * Throws RangeError if that would publish more slots than are free.
   */
  publishN(n: number): void {
    const next = (this.head + this.claimed + n) | 0;
    if (n < 0 || ((next - this.cachedTail) | 0) > this.capacity) {
      throw new RangeError(`SpscRing.publishN(${n}): only ${this.claimable()} slots are free beyond ${this.claimed} claimed`);
    }
    this.head = next;
    this.claimed = 0;
    Atomics.store(this.control, HEAD, next);
    if (Atomics.load(this.control, CONSUMER_SLEEPING) !== 0) wake(this.control, CONSUMER_SLEEPING);
  }

  /**
   * Producer: claims a slot under the overflow policy, fills it with `write` and publishes it. Returns false
   * when the message was dropped ('drop', full) or the ring is closed ('block').
   */
  offer(write: SlotWriter): boolean {
    const slot = this.claim();
    if (slot < 0) return false;
    write(this, slot);
    this.publishN(0);
    return true;
  }

  /** Producer: counts messages it gave up on without `claim`/`offer` (e.g. after `tryClaim` returned -1). */
  recordDropped(count = 1): void {
    const control = this.control;
    const sum = (Atomics.load(control, DROPPED_LO) >>> 0) + count;
    if (sum < TWO_32) {
      Atomics.store(control, DROPPED_LO, sum | 0);
      return;
    }
    // Carry into the high word: an odd version tells readers the pair is changing (a one-writer seqlock).
    const version = Atomics.load(control, DROPPED_VERSION);
    Atomics.store(control, DROPPED_VERSION, (version + 1) | 0);
    Atomics.store(control, DROPPED_HI, Atomics.load(control, DROPPED_HI) + Math.floor(sum / TWO_32));
    Atomics.store(control, DROPPED_LO, sum | 0);
    Atomics.store(control, DROPPED_VERSION, (version + 2) | 0);
  }

  /** Producer: waits with this thread's strategy until a slot is free; returns the free count, 0 on timeout/close. */
  waitForSpace(timeoutMs = Infinity): number {
    const free = this.claimable();
    return free > 0 ? free : this.waitStrategy.waitFor(this.producerPoint, timeoutMs);
  }

  // ---- Consumer ----------------------------------------------------------------------------------------

  /** Consumer: how many published slots are ready to read, re-reading `head` only when the cache says none. */
  available(): number {
    const ready = (this.cachedHead - this.tail) | 0;
    return ready > 0 ? ready : this.refreshAvailable();
  }

  /** Consumer: the slot index of the `offset`-th ready slot (0 <= offset < available()). */
  slotIndexAt(offset: number): number {
    return (this.tail + offset) & this.mask;
  }

  /**
   * Consumer: hands the first `n` ready slots back to the producer, with one release store, waking the
   * producer only if it flagged that it sleeps. Throws RangeError if fewer than `n` are ready.
   */
  release(n: number): void {
    if (n < 0 || n > ((this.cachedHead - this.tail) | 0)) {
      throw new RangeError(`SpscRing.release(${n}): only ${(this.cachedHead - this.tail) | 0} slots are ready`);
    }
    const next = (this.tail + n) | 0;
    this.tail = next;
    Atomics.store(this.control, TAIL, next);
    if (Atomics.load(this.control, PRODUCER_SLEEPING) !== 0) wake(this.control, PRODUCER_SLEEPING);
  }

  /**
   * Consumer: waits with this thread's strategy until a slot is ready; returns the ready count, or 0 on
   * timeout or once the ring is closed and drained (slots published before `close()` are still delivered).
   */
  waitForAvailable(timeoutMs = Infinity): number {
    const ready = this.available();
    return ready > 0 ? ready : this.waitStrategy.waitFor(this.consumerPoint, timeoutMs);
  }

  // ---- Either side, any thread -------------------------------------------------------------------------

  /**
   * Marks the ring closed and wakes any blocked waiter on either side. Waits then return 0 (the consumer
   * only once drained); `tryClaim`, `publish` and `release` keep working, so closing is a shutdown signal,
   * not a barrier. Idempotent.
   */
  close(): void {
    // Closed must be visible before the flags are cleared: see BlockingWaitStrategy.
    Atomics.store(this.control, CLOSED, 1);
    wake(this.control, CONSUMER_SLEEPING);
    wake(this.control, PRODUCER_SLEEPING);
  }

  isClosed(): boolean {
    return Atomics.load(this.control, CLOSED) !== 0;
  }

  /** How many slots the producer has published since the ring was made (a wrapping int32 sequence). */
  publishedSequence(): number {
    return Atomics.load(this.control, HEAD);
  }

  /**
   * Whether the consumer has released every slot up to `sequence` (an earlier `publishedSequence()`): the consumer
   * is done with them, and releases a slot only after publishing what it made of it. Wrap-safe.
   */
  releasedThrough(sequence: number): boolean {
    return ((Atomics.load(this.control, TAIL) - sequence) | 0) >= 0;
  }

  /** Published but not yet released slots, 0 to capacity; a snapshot that may be stale by the time it returns. */
  occupancy(): number {
    // Tail first: a head read later is never behind it; clamp because both may have moved in between.
    const tail = Atomics.load(this.control, TAIL);
    const head = Atomics.load(this.control, HEAD);
    const used = (head - tail) | 0;
    return used < 0 ? 0 : used > this.capacity ? this.capacity : used;
  }

  /** Messages refused on a full 'drop' ring (plus any `recordDropped`), exact up to 2^53. */
  dropped(): number {
    const control = this.control;
    for (;;) {
      const version = Atomics.load(control, DROPPED_VERSION);
      const hi = Atomics.load(control, DROPPED_HI);
      const lo = Atomics.load(control, DROPPED_LO) >>> 0;
      if ((version & 1) === 0 && Atomics.load(control, DROPPED_VERSION) === version) return hi * TWO_32 + lo;
    }
  }

  // ---- Internals ---------------------------------------------------------------------------------------

  private refreshFree(): number {
    this.cachedTail = Atomics.load(this.control, TAIL);
    return this.capacity - ((this.head + this.claimed - this.cachedTail) | 0);
  }

  private refreshAvailable(): number {
    this.cachedHead = Atomics.load(this.control, HEAD);
    return (this.cachedHead - this.tail) | 0;
  }

  private claimOrDrop(): number {
    const slot = this.tryClaim();
    if (slot < 0) this.recordDropped(1);
    return slot;
  }

  private claimOrWait(): number {
    let slot = this.tryClaim();
    if (slot >= 0) return slot;
    // The consumer can only free slots it has seen: publish our own claims before waiting on it.
    if (this.claimed > 0) this.publishN(0);
    for (;;) {
      if (this.waitStrategy.waitFor(this.producerPoint, Infinity) === 0) return -1;
      slot = this.tryClaim();
      if (slot >= 0) return slot;
    }
  }
}

/**
 * Validates a ring shape. Examples: (1024, 64) ok; (1000, 64) RangeError (not a power of two);
 * (1024, 12) RangeError (not a multiple of 8); (2^31, 8) RangeError (above 2^30).
 */
function checkShape(capacity: number, slotBytes: number): void {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`SpscRing capacity must be a power of two from 1 to 2^30, got ${capacity}`);
  }
  if (!Number.isInteger(slotBytes) || slotBytes < 8 || slotBytes % 8 !== 0) {
    throw new RangeError(`SpscRing slotBytes must be a positive multiple of 8, got ${slotBytes}`);
  }
  if (CONTROL_BYTES + capacity * slotBytes > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`SpscRing of ${capacity} x ${slotBytes} bytes is too large`);
  }
}

function policyOf(code: number): OverflowPolicy | undefined {
  return code === POLICY_CODES.drop ? 'drop' : code === POLICY_CODES.block ? 'block' : undefined;
}

/** Clears a raised sleeping flag and wakes its sleeper; does nothing if the sleeper already lowered it. */
function wake(control: Int32Array, flag: number): void {
  if (Atomics.compareExchange(control, flag, 1, 0) === 1) Atomics.notify(control, flag, 1);
}
