import { WasmHeap } from './wasm-heap.ts';

/**
 * The wasm backend's linear memory: ONE shared WebAssembly.Memory that both kernel modules import (`env.memory`,
 * built with `--importMemory --sharedMemory`, see assembly/build.ts), laid out by a WasmHeap above the modules'
 * static data.
 *
 * Why shared: growing a shared memory never detaches the views already taken on it (their SharedArrayBuffer keeps
 * its length; a grown memory hands out a new, longer one over the same bytes). So a Float64Array allocated here
 * stays valid however much the memory grows, and can be given to the kernels in place, with no copy in or out
 * (`allocate`, `addressOf`). A non-shared memory detaches every view on `grow()`. Shared also lets worker threads
 * instantiate the same kernels on the same bytes.
 *
 * Threads: only the thread that created it allocates and releases; workers only compute on addresses it hands
 * them.
 */
export const WASM_PAGE_BYTES = 65536;
/** The declared maximum: all that wasm32 addresses (4 GiB), reserved as address space, committed on growth. */
export const WASM_MAXIMUM_PAGES = 65536;

// The WebAssembly JS API as far as the backend uses it: @types/node 20 and lib ES2023 do not declare it (it comes
// with lib "dom"), and pulling DOM types into the whole project for it is not worth it.
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Instantiates a compiled kernel module on `memory` (its only import). */
export function instantiateKernels<T>(module: object, memory: WasmMemory): T {
  return new wasmApi.Instance(module, { env: { memory } }).exports as T;
}

export class SharedWasmMemory {
  readonly memory: WasmMemory;
  private readonly heap: WasmHeap;
  /** Every buffer object the memory has handed out: a view on one of them is a view into this memory. */
  private readonly buffers = new WeakSet<object>();
  private f64: Float64Array;

  /** `base`: the first byte above every module's static data. */
  constructor(base: number) {
    this.memory = new wasmApi.Memory({
      initial: Math.max(1, Math.ceil(base / WASM_PAGE_BYTES)), maximum: WASM_MAXIMUM_PAGES, shared: true,
    });
    this.heap = new WasmHeap(base, WASM_MAXIMUM_PAGES * WASM_PAGE_BYTES);
    this.f64 = this.view();
  }

  /** Bytes currently live in allocated blocks (resident arrays and a running call's scratch). */
  get liveBytes(): number {
    return this.heap.liveBytes;
  }

  private view(): Float64Array {
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    return new Float64Array(buffer);
  }

  /** Reserves room for `count` f64 (cache-line aligned) and grows the memory to cover it; returns the address. */
  allocate(count: number): number {
    const address = this.heap.allocate(count * 8);
    const needed = this.heap.top;
    const have = this.memory.buffer.byteLength;
    if (needed > have) {
      try {
        this.memory.grow(Math.ceil((needed - have) / WASM_PAGE_BYTES));
      } catch (error) {
        this.heap.release(address);
        throw new RangeError(`wasm memory: cannot grow to ${needed} bytes (${String(error)})`);
      }
      this.f64 = this.view();
    }
    return address;
  }

  release(address: number): void {
    this.heap.release(address);
  }

  /** The size in bytes of the live block at `address`, or undefined. */
  blockBytes(address: number): number | undefined {
    return this.heap.sizeOf(address);
  }

  /** A Float64Array of `length` over the memory at `address` (never detached: the buffer is shared). */
  array(address: number, length: number): Float64Array {
    return new Float64Array(this.f64.buffer, address, length);
  }

  /** Whether `values` lies in this memory (the kernels can read and write it in place). */
  holds(values: Float64Array): boolean {
    return this.buffers.has(values.buffer);
  }

  /** Copies `values` to `address`. */
  put(address: number, values: Float64Array): void {
    this.f64.set(values, address / 8);
  }

  /** Copies `out.length` values from `address` into `out`. */
  get(address: number, out: Float64Array): void {
    const from = address / 8;
    out.set(this.f64.subarray(from, from + out.length));
  }
}
