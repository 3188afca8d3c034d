/**
 * A fixed-size pool of preallocated hot-path objects (orders, scratch records), so the tick path never allocates.
 *
 * All `size` objects are created by `factory` at construction and kept in a LIFO free list (an array filled once,
 * never resized), so the most recently released object, the one most likely still in cache, is handed out next.
 *
 * Guarantees:
 * - `acquire()` and `release()` are O(1) and allocate nothing.
 * - Exhaustion is never silent: `acquire()` returns null, increments `exhaustedCount`, and the caller counts the
 *   work it could not do (e.g. an order it dropped).
 * - The pool does not reset objects: the caller overwrites every field it reads after `acquire()`.
 * - Releasing more objects than were acquired throws RangeError (it would mean an object released twice or one
 *   that never came from this pool). A double release within the outstanding count is not detected.
 */
export class ObjectPool<T> {
  readonly size: number;
  private readonly free: T[];
  private freeCount: number;
  private exhausted = 0;

  constructor(factory: () => T, size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`pool size must be an integer >= 1, got ${size}`);
    this.size = size;
    this.free = new Array<T>(size);
    for (let i = 0; i < size; i++) this.free[i] = factory();
    this.freeCount = size;
  }

  /** Takes an object, or returns null (and counts it) when every object is in use. */
  acquire(): T | null {
    const count = this.freeCount;
    if (count === 0) {
      this.exhausted++;
      return null;
    }
    this.freeCount = count - 1;
    return this.free[count - 1];
  }

  /** Returns an object taken with `acquire()`. */
  release(object: T): void {
    const count = this.freeCount;
    if (count === this.size) throw new RangeError(`ObjectPool released more objects than it handed out (size ${this.size})`);
    this.free[count] = object;
    this.freeCount = count + 1;
  }

  /** Objects ready to be acquired. */
  get available(): number {
    return this.freeCount;
  }

  /** Objects currently acquired and not yet released. */
  get inUse(): number {
    return this.size - this.freeCount;
  }

  /** `acquire()` calls that found the pool empty, since construction. */
  get exhaustedCount(): number {
    return this.exhausted;
  }
}
