import type { BarContext, IndicatorType, StrategyContext, StrategyDefinition } from './sdk.ts';
import { StrategyFault } from './strategy-context.ts';
import { StrategyWatchdog } from './strategy-watchdog.ts';

/**
 * Sandboxed WebAssembly strategies (docs/strategy-sdk.md, "WebAssembly modules"): a module written in
 * AssemblyScript on the SDK in assembly/strategy/sdk.ts, or in any language that keeps its contract:
 *
 *   imports      none at all: the module can reach nothing but its own memory
 *   memory       its own, exported, with a maximum of at most MAX_STRATEGY_PAGES pages (64 KiB each)
 *   exports      nexusManifest() -> string (AssemblyScript UTF-16, its declarations as JSON), nexusIo() -> the
 *                I/O block's address, nexusSetup(), onTrade(), optionally onQuote(), and optionally onBar() with
 *                nexusScan() -> the scan region's address (allocated once, before the first bar)
 *
 * Before each call the engine writes the tick, the symbol's position and its indicators (by role) into the I/O
 * block (layout in assembly/strategy/sdk.ts); after it, it reads the orders the call asked for and sends each
 * through ownership and risk like any strategy's. Before an onBar call it copies the bar's scan (returns, ranks,
 * z-scores, the scanned indicators, the correlation matrix) and every symbol's position into the scan region. A call that traps (a WebAssembly RuntimeError: unreachable, an
 * out-of-bounds access, memory that cannot grow) or runs over its `budgetMicros` on BUDGET_STRIKES timed calls in a
 * row (every BUDGET_SAMPLE-th call is timed: a clock read costs about 60 ns here, more than the call) faults the
 * strategy: it is disabled and counted, its orders of that call dropped, and every other strategy keeps
 * trading. In a row, because one call's wall time also holds whatever stopped the thread meanwhile (a garbage
 * collection, the scheduler): measured on the 2-core development machine, a call of a few hundred nanoseconds
 * sometimes reads 4 to 8 ms, and a single-call budget disabled a healthy strategy within a million ticks. A
 * strategy slow on every call is still stopped after BUDGET_STRIKES calls; one slow now and then is the latency
 * gate's to judge. A call that never returns is the watchdog's (strategy-watchdog.ts).
 *
 * Each configured strategy gets its own instance, so its memory (per-symbol state, shared state) is its own.
 */
export const MAX_STRATEGY_PAGES = 1024;
/** The per-call budget when the manifest names none. */
export const DEFAULT_BUDGET_MICROS = 1_000;
/** Timed calls over budget in a row that disable a strategy, and which calls are timed (one in BUDGET_SAMPLE). */
export const BUDGET_STRIKES = 3;
export const BUDGET_SAMPLE = 16;

/** I/O block offsets in bytes (assembly/strategy/sdk.ts). */
const IO = {
  symbol: 0, symbolCount: 4, price: 8, size: 16, timeNs: 24, position: 32, orderCount: 40, stateSize: 44, sharedSize: 48, orders: 56, indicators: 312,
  params: 568, barStartNs: 824, bar: 832, scanIndicators: 836, correlationSymbols: 840,
} as const;
const MAX_ROLES = 8;
const MAX_ORDERS = 16;
const MAX_PARAMS = 32;

/** Outputs per indicator type that a WebAssembly strategy sees (at most 3 per role). */
const outputCount: Readonly<Record<IndicatorType, number>> = { sma: 1, ema: 1, rsi: 1, macd: 3, bbands: 3, atr: 1, vwap: 1, stoch: 2 };

// The WebAssembly JS API as far as this file uses it: @types/node 20 and lib ES2023 do not declare it (it comes with
// lib "dom"; engine/batch/wasm-memory.ts does the same for the batch backend).
interface ModuleEntry {
  readonly module: string;
  readonly name: string;
  readonly kind: string;
}
interface StrategyWasmApi {
  Module: { new (bytes: Uint8Array): object; imports(module: object): ModuleEntry[]; exports(module: object): ModuleEntry[] };
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: StrategyWasmApi }).WebAssembly;

interface WasmExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  nexusManifest(): number;
  nexusIo(): number;
  nexusSetup(): void;
  onTrade(): void;
  onQuote?: () => void;
  onBar?: () => void;
  nexusScan?: () => number;
}

/** Where a call's orders go: a tick's context or a bar's (both take `quantity | undefined` and a symbol). */
interface OrderTarget {
  readonly symbols: readonly string[];
  buy(quantity: number | undefined, symbol: number): void;
  sell(quantity: number | undefined, symbol: number): void;
}

/** A compiled strategy module: its declarations, and a fresh instance per configured strategy. */
export interface WasmStrategy {
  /** The manifest's declarations (the handlers of this object are never called). */
  readonly declarations: StrategyDefinition;
  readonly budgetMicros: number;
  instantiate(label: string): StrategyDefinition;
}

/**
 * Compiles and checks a module. Throws an Error whose message says what is wrong (the caller names the module):
 * not WebAssembly, an import, no bounded memory, a missing export, a manifest that is not JSON.
 */
export function compileWasmStrategy(bytes: Uint8Array, checkManifest: (value: unknown) => StrategyDefinition): WasmStrategy {
  let module: object;
  try {
    module = new wasm.Module(bytes);
  } catch (error) {
    throw new Error(`not a valid WebAssembly module: ${(error as Error).message}`);
  }
  const imports = wasm.Module.imports(module);
  if (imports.length > 0) {
    throw new Error(`it imports ${imports.map((entry) => `${entry.module}.${entry.name}`).join(', ')}: a strategy module may import nothing (build it with --use abort= on the SDK, docs/strategy-sdk.md)`);
  }
  const exported = new Map(wasm.Module.exports(module).map((entry) => [entry.name, entry.kind]));
  for (const [name, kind] of [['memory', 'memory'], ['nexusManifest', 'function'], ['nexusIo', 'function'], ['nexusSetup', 'function'], ['onTrade', 'function']] as const) {
    if (exported.get(name) !== kind) throw new Error(`it does not export the ${kind} ${name} (docs/strategy-sdk.md)`);
  }
  if (exported.get('onBar') === 'function' && exported.get('nexusScan') !== 'function') {
    throw new Error('it exports onBar but not the function nexusScan: re-export it from the SDK (docs/strategy-sdk.md)');
  }
  const pages = maximumPages(bytes);
  if (pages === undefined) throw new Error(`its memory has no maximum: build it with --maximumMemory (at most ${MAX_STRATEGY_PAGES} pages)`);
  if (pages > MAX_STRATEGY_PAGES) throw new Error(`its memory may grow to ${pages} pages, more than the ${MAX_STRATEGY_PAGES} allowed`);

  const probe = new wasm.Instance(module, {}).exports as unknown as WasmExports;
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(readString(probe.memory, probe.nexusManifest())) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`its nexusManifest() is not a JSON object: ${(error as Error).message}`);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw new Error('its nexusManifest() is not a JSON object');
  const { budgetMicros = DEFAULT_BUDGET_MICROS, ...declared } = manifest;
  if (typeof budgetMicros !== 'number' || !Number.isInteger(budgetMicros) || budgetMicros < 1 || budgetMicros > 1_000_000) {
    throw new Error(`its manifest's budgetMicros must be an integer between 1 and 1000000, got ${JSON.stringify(budgetMicros)}`);
  }
  // The declared handlers stand for the exports (never called): what the engine checks, e.g. that onBar has scans.
  const declarations = checkManifest({ ...declared, onTrade: () => undefined, ...(exported.get('onBar') === 'function' ? { onBar: () => undefined } : {}) });
  const roles = Object.entries(declarations.indicators ?? {});
  const params = Object.entries(declarations.params ?? {}).map(([name]) => name);
  if (roles.length > MAX_ROLES) throw new Error(`its manifest declares ${roles.length} indicator roles, at most ${MAX_ROLES}`);
  if (params.length > MAX_PARAMS) throw new Error(`its manifest declares ${params.length} params, at most ${MAX_PARAMS}`);
  return {
    declarations,
    budgetMicros,
    instantiate: (label) => instanceDefinition(module, declarations, roles, params, budgetMicros, label),
  };
}

/**
 * A definition whose handlers run one instance of the module of its own, made (with its watchdog registration) in
 * `setup`, which the tick processor calls once before any tick; validating a configuration instantiates nothing.
 */
function instanceDefinition(
  module: object,
  declarations: StrategyDefinition,
  roles: ReadonlyArray<readonly [string, IndicatorType]>,
  params: readonly string[],
  budgetMicros: number,
  label: string,
): StrategyDefinition {
  let exports: WasmExports | undefined;
  let io = 0;
  let id = 0;
  let watchdog: StrategyWatchdog | undefined;
  let strikes = 0;
  let calls = 0;
  const budgetMs = budgetMicros / 1000;
  const roleNames = roles.map(([role]) => role);
  const roleOutputs = roles.map(([, type]) => outputCount[type]);
  // Views over the module's memory, made again whenever it grew (growing detaches the old buffer).
  let buffer = new ArrayBuffer(0);
  let f64 = new Float64Array(0);
  let i32 = new Int32Array(0);
  const views = (exports: WasmExports): void => {
    if (exports.memory.buffer === buffer) return;
    buffer = exports.memory.buffer;
    f64 = new Float64Array(buffer);
    i32 = new Int32Array(buffer);
  };

  const call = (exports: WasmExports, watchdog: StrategyWatchdog | undefined, entry: () => void, ctx: StrategyContext): void => {
    views(exports);
    i32[(io + IO.symbol) >> 2] = ctx.symbol;
    f64[(io + IO.price) >> 3] = ctx.price;
    f64[(io + IO.size) >> 3] = ctx.size;
    f64[(io + IO.timeNs) >> 3] = ctx.timeNs;
    f64[(io + IO.position) >> 3] = ctx.position;
    i32[(io + IO.orderCount) >> 2] = 0;
    const readers = ctx.indicators;
    for (let r = 0; r < roleNames.length; r++) {
      const reader = readers[roleNames[r]];
      const base = (io + IO.indicators + r * 32) >> 3;
      const stable = reader.isStable;
      f64[base] = stable ? 1 : 0;
      if (!stable) continue;
      for (let o = 0; o < roleOutputs[r]; o++) f64[base + 1 + o] = reader.values[o];
    }
    run(exports, watchdog, entry, ctx);
  };

  // The scan region's address (nexusScan, at the first bar: the scan's shape is fixed by the configuration).
  let scanBase = 0;
  const callBar = (exports: WasmExports, watchdog: StrategyWatchdog | undefined, entry: () => void, ctx: BarContext): void => {
    const { scan } = ctx;
    const n = ctx.symbols.length;
    const indicators = Object.values(scan.indicators);
    const c = scan.correlationSymbols;
    views(exports);
    if (scanBase === 0) {
      i32[(io + IO.scanIndicators) >> 2] = indicators.length;
      i32[(io + IO.correlationSymbols) >> 2] = c;
      // The module's own code: under the watchdog, and its answer checked before anything is written there.
      let base: number;
      watchdog?.enter(id);
      try {
        base = (exports.nexusScan as () => number)();
      } finally {
        watchdog?.leave();
      }
      views(exports); // the allocation may have grown the memory
      const bytes = ((4 + 3 * indicators.length) * n + c * c) * 8;
      if (!(Number.isInteger(base) && base > 0 && base % 8 === 0 && base + bytes <= buffer.byteLength)) {
        throw new StrategyFault(`its nexusScan() answered ${base}: not an 8-byte-aligned region of ${bytes} bytes in its memory`);
      }
      scanBase = base;
    }
    i32[(io + IO.symbol) >> 2] = -1;
    f64[(io + IO.price) >> 3] = 0;
    f64[(io + IO.size) >> 3] = 0;
    f64[(io + IO.timeNs) >> 3] = ctx.timeNs;
    f64[(io + IO.position) >> 3] = 0;
    f64[(io + IO.barStartNs) >> 3] = scan.barStartNs;
    i32[(io + IO.bar) >> 2] = scan.bar;
    i32[(io + IO.orderCount) >> 2] = 0;
    for (let r = 0; r < roleNames.length; r++) f64[(io + IO.indicators + r * 32) >> 3] = 0; // no symbol: no roles
    let at = scanBase >> 3;
    f64.set(scan.returns.subarray(0, n), at);
    f64.set(scan.returnRank.subarray(0, n), at + n);
    f64.set(scan.returnZ.subarray(0, n), at + 2 * n);
    // A symbol this instance does not decide for (another shard's, in the workers layout): NaN, which the SDK's
    // handles() reads.
    for (let s = 0; s < n; s++) f64[at + 3 * n + s] = ctx.handles(s) ? ctx.positionOf(s) : Number.NaN;
    at += 4 * n;
    for (const indicator of indicators) {
      f64.set(indicator.values.subarray(0, n), at);
      f64.set(indicator.ranks.subarray(0, n), at + n);
      f64.set(indicator.zscores.subarray(0, n), at + 2 * n);
      at += 3 * n;
    }
    if (c > 0) f64.set(scan.correlation.subarray(0, c * c), at);
    run(exports, watchdog, entry, ctx);
  };

  /** Runs one entry under the watchdog and the budget, then checks every order it asked for and sends them. */
  const run = (exports: WasmExports, watchdog: StrategyWatchdog | undefined, entry: () => void, target: OrderTarget): void => {
    const timed = (++calls & (BUDGET_SAMPLE - 1)) === 0;
    const started = timed ? performance.now() : 0;
    watchdog?.enter(id);
    try {
      entry();
    } finally {
      watchdog?.leave();
    }
    if (timed) {
      const elapsedMs = performance.now() - started;
      if (elapsedMs <= budgetMs) strikes = 0;
      else if (++strikes >= BUDGET_STRIKES) throw new StrategyFault(`${BUDGET_STRIKES} timed calls in a row over its budget of ${budgetMicros} µs, the last ${Math.round(elapsedMs * 1000)} µs`);
    }
    views(exports);
    const count = i32[(io + IO.orderCount) >> 2];
    // The module's memory is its own to write: check every order it asked for before sending any.
    if (!(count >= 0 && count <= MAX_ORDERS)) throw new StrategyFault(`asked for ${count} orders in one call (0 to ${MAX_ORDERS})`);
    for (let k = 0; k < count; k++) {
      const slot = io + IO.orders + k * 16;
      const side = i32[(slot + 4) >> 2];
      const quantity = f64[(slot + 8) >> 3];
      const symbol = i32[slot >> 2];
      if ((side !== 1 && side !== -1) || !(quantity === 0 || (Number.isInteger(quantity) && quantity >= 1)) || symbol < 0 || symbol >= target.symbols.length) {
        throw new StrategyFault(`order ${k} of the call is malformed: side ${side}, quantity ${quantity}, symbol ${symbol}${symbol === -1 ? ' (an onBar order must name its symbol)' : ''}`);
      }
    }
    for (let k = 0; k < count; k++) {
      const slot = io + IO.orders + k * 16;
      const symbol = i32[slot >> 2];
      const quantity = f64[(slot + 8) >> 3];
      const size = quantity === 0 ? undefined : quantity;
      if (i32[(slot + 4) >> 2] > 0) target.buy(size, symbol);
      else target.sell(size, symbol);
    }
  };

  const notSetUp = (): never => {
    throw new StrategyFault(`${label} was called before its setup`);
  };
  return {
    ...declarations,
    setup(ctx) {
      const instance = new wasm.Instance(module, {}).exports as unknown as WasmExports;
      exports = instance;
      io = instance.nexusIo();
      watchdog = StrategyWatchdog.forThisThread();
      id = watchdog?.register(label) ?? 0;
      views(instance);
      i32[(io + IO.symbolCount) >> 2] = ctx.symbols.length;
      i32[(io + IO.stateSize) >> 2] = declarations.state ?? 0;
      i32[(io + IO.sharedSize) >> 2] = declarations.shared ?? 0;
      params.forEach((name, p) => {
        const value = ctx.params[name] as number | boolean;
        f64[((io + IO.params) >> 3) + p] = typeof value === 'boolean' ? (value ? 1 : 0) : value;
      });
      instance.nexusSetup();
    },
    onTrade: (ctx) => (exports === undefined ? notSetUp() : call(exports, watchdog, exports.onTrade, ctx)),
    ...(wasm.Module.exports(module).some((entry) => entry.name === 'onQuote')
      ? { onQuote: (ctx: StrategyContext) => (exports?.onQuote === undefined ? notSetUp() : call(exports, watchdog, exports.onQuote, ctx)) }
      : {}),
    ...(wasm.Module.exports(module).some((entry) => entry.name === 'onBar')
      ? { onBar: (ctx: BarContext) => (exports?.onBar === undefined ? notSetUp() : callBar(exports, watchdog, exports.onBar, ctx)) }
      : {}),
  };
}

/** An AssemblyScript string: UTF-16LE, its byte length in the object header's 4 bytes before it. */
function readString(memory: { readonly buffer: ArrayBuffer }, pointer: number): string {
  const length = new DataView(memory.buffer).getUint32(pointer - 4, true);
  return Buffer.from(memory.buffer, pointer, length).toString('utf16le');
}

/**
 * The maximum of the memory a module defines (section 5), in pages; undefined when it has none (or defines no
 * memory). WebAssembly's JS API does not expose it, so the section is read from the binary.
 */
export function maximumPages(bytes: Uint8Array): number | undefined {
  let at = 8; // magic and version
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++];
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 5) {
      if (leb() < 1) return undefined;
      const flags = leb();
      leb(); // initial
      return (flags & 1) === 1 ? leb() : undefined;
    }
    at = end;
  }
  return undefined;
}
