// The AssemblyScript strategy SDK (docs/strategy-sdk.md, "WebAssembly modules"). A strategy module imports these
// functions, re-exports `nexusIo` and `nexusSetup`, and exports `nexusManifest` (its declarations as JSON) and
// `onTrade`. It is compiled with no imports at all (`--runtime stub --use abort=`) and a bounded memory, so the
// only way in or out is the I/O block below, which the engine fills before each call and reads after it.
//
// I/O block layout (little-endian, bytes from nexusIo()):
//    0 i32 symbol          4 i32 symbolCount     8 f64 price          16 f64 size        24 f64 timeNs
//   32 f64 position       40 i32 orderCount     44 i32 stateSize     48 i32 sharedSize
//   56 orders: 16 x { i32 symbol, i32 side (+1 buy, -1 sell), f64 quantity (0: the default orderQuantity) }
//  312 indicators: 8 roles x { f64 stable (1 or 0), f64 output0, f64 output1, f64 output2 }
//  568 params: 32 x f64, in the manifest's declaration order
//  824 f64 barStartNs     832 i32 bar          836 i32 scanIndicators 840 i32 correlationSymbols
//
// onBar (optional; export `onBar` and re-export `nexusScan`): before the first bar the engine calls nexusScan(), which
// allocates the scan region; before each onBar call it copies the bar's scan there (n = symbolCount, k =
// scanIndicators, c = correlationSymbols; f64 each): returns[n], returnRank[n], returnZ[n], positions[n], then per
// scanned indicator (scans.indicators order) values[n], ranks[n], zscores[n], then correlation[c * c]. During onBar
// `symbol()` is -1: orders, state and positions name their symbol (`buy(quantity, target)`, `stateOf`, `positionOf`).

const IO: usize = memory.data(1024, 16);
const ORDERS: usize = 56;
const MAX_ORDERS: i32 = 16;
const INDICATORS: usize = 312;
const PARAMS: usize = 568;
const BAR: usize = 824;

let stateBase: usize = 0;
let sharedBase: usize = 0;
let scanBase: usize = 0;

/** The engine's entry: where the I/O block is. */
export function nexusIo(): usize {
  return IO;
}

/** The engine's entry, once before the first tick: allocates zero-filled memory per symbol and shared. */
export function nexusSetup(): void {
  const stateBytes = <usize>load<i32>(IO + 4) * <usize>load<i32>(IO + 44) * 8;
  const sharedBytes = <usize>load<i32>(IO + 48) * 8;
  stateBase = heap.alloc(stateBytes + sharedBytes + 8);
  memory.fill(stateBase, 0, stateBytes + sharedBytes + 8);
  sharedBase = stateBase + stateBytes;
}

/**
 * The engine's entry, once before the first bar (modules that export onBar): allocates the scan region for the
 * symbol, indicator and correlation counts the engine wrote into the I/O block; returns its address.
 */
export function nexusScan(): usize {
  const n = <usize>load<i32>(IO + 4);
  const k = <usize>load<i32>(IO + BAR + 12);
  const c = <usize>load<i32>(IO + BAR + 16);
  const bytes = ((4 + 3 * k) * n + c * c) * 8;
  scanBase = heap.alloc(bytes + 8);
  memory.fill(scanBase, 0, bytes + 8);
  return scanBase;
}

/** The tick's symbol (its index in the engine's symbols; -1 during onBar) and how many symbols there are. */
export function symbol(): i32 {
  return load<i32>(IO);
}
export function symbolCount(): i32 {
  return load<i32>(IO + 4);
}
/**
 * The trade's price and size; the tick's publish time in ns (the CSV's time in a backtest); this symbol's position
 * (in onBar: 0, 0, the time of the trade that closed the bar, 0; positions there are `positionOf`).
 */
export function price(): f64 {
  return load<f64>(IO + 8);
}
export function size(): f64 {
  return load<f64>(IO + 16);
}
export function timeNs(): f64 {
  return load<f64>(IO + 24);
}
export function position(): f64 {
  return load<f64>(IO + 32);
}

/** Whether the indicator of role `role` (declaration order) has its outputs, and its output `output`. */
export function isStable(role: i32): bool {
  return load<f64>(IO + INDICATORS + <usize>role * 32) != 0;
}
export function indicator(role: i32, output: i32 = 0): f64 {
  return load<f64>(IO + INDICATORS + <usize>role * 32 + 8 + <usize>output * 8);
}

/** onBar: the bar's number (0: the first the engine closed) and when it began (exchange time, ns). */
export function bar(): i32 {
  return load<i32>(IO + BAR + 8);
}
export function barStartNs(): f64 {
  return load<f64>(IO + BAR);
}
/** onBar: symbol `s`'s return over the bar, its rank across the symbols (0 lowest, 1 highest) and its z-score. */
export function barReturn(s: i32): f64 {
  return scanAt(0, s);
}
export function barReturnRank(s: i32): f64 {
  return scanAt(1, s);
}
export function barReturnZ(s: i32): f64 {
  return scanAt(2, s);
}
/**
 * onBar only: symbol `s`'s position as the bar closed (this call's orders do not move it); NaN for a symbol this
 * instance does not decide for (see `handles`).
 */
export function positionOf(s: i32): f64 {
  return scanAt(3, s);
}
/**
 * onBar only: whether this instance of the strategy decides for symbol `s`: every symbol inline and in a backtest;
 * in the workers layout its shard's (each shard runs its own instance, all seeing the whole scan). Orders for
 * another symbol are not sent (docs/strategy-sdk.md).
 */
export function handles(s: i32): bool {
  const position = positionOf(s);
  return position == position;
}
/**
 * onBar: scanned indicator `k`'s first output for symbol `s` (NaN: none yet), its rank and its z-score. `k` is the
 * indicator's place in the scan (scans.indicators order; as in any JavaScript object, names that are integers first).
 */
export function scanValue(k: i32, s: i32): f64 {
  return scanAt(4 + 3 * scannedIndicator(k), s);
}
export function scanRank(k: i32, s: i32): f64 {
  return scanAt(5 + 3 * scannedIndicator(k), s);
}
export function scanZ(k: i32, s: i32): f64 {
  return scanAt(6 + 3 * scannedIndicator(k), s);
}
function scannedIndicator(k: i32): i32 {
  if (k < 0 || k >= load<i32>(IO + BAR + 12)) unreachable();
  return k;
}
/**
 * Symbol `s` of the scan region's array number `array`. Traps outside onBar (the engine writes symbol -1 only
 * there) and for a symbol out of range, rather than reading a neighbour's numbers.
 */
function scanAt(array: i32, s: i32): f64 {
  const n = load<i32>(IO + 4);
  if (scanBase == 0 || load<i32>(IO) >= 0 || s < 0 || s >= n) unreachable();
  return load<f64>(scanBase + (<usize>array * <usize>n + <usize>s) * 8);
}
/** onBar: how many symbols the correlation matrix covers, and the correlation of symbols `i` and `j` among them. */
export function correlationSymbols(): i32 {
  return load<i32>(IO + BAR + 16);
}
export function correlation(i: i32, j: i32): f64 {
  const n = <usize>load<i32>(IO + 4);
  const k = <usize>load<i32>(IO + BAR + 12);
  const c = load<i32>(IO + BAR + 16);
  if (scanBase == 0 || load<i32>(IO) >= 0 || i < 0 || j < 0 || i >= c || j >= c) unreachable();
  return load<f64>(scanBase + ((4 + 3 * k) * n + <usize>i * <usize>c + <usize>j) * 8);
}

/** Parameter `index`, in the manifest's declaration order (booleans as 1 or 0). */
export function param(index: i32): f64 {
  return load<f64>(IO + PARAMS + <usize>index * 8);
}

/** This symbol's memory slot `slot` (the manifest's `state` slots per symbol, zero at start). */
export function state(slot: i32): f64 {
  return stateOf(tickSymbol(), slot);
}
export function setState(slot: i32, value: f64): void {
  setStateOf(tickSymbol(), slot, value);
}
/** The tick's symbol; traps in onBar, which has none (use stateOf and positionOf there). */
function tickSymbol(): i32 {
  const s = symbol();
  if (s < 0) unreachable();
  return s;
}
/** Symbol `s`'s memory slot `slot` (onBar, or another symbol's from onTrade). */
export function stateOf(s: i32, slot: i32): f64 {
  return load<f64>(stateBase + (<usize>s * <usize>load<i32>(IO + 44) + <usize>slot) * 8);
}
export function setStateOf(s: i32, slot: i32, value: f64): void {
  store<f64>(stateBase + (<usize>s * <usize>load<i32>(IO + 44) + <usize>slot) * 8, value);
}
/** Memory shared by every symbol (the manifest's `shared` slots). */
export function shared(slot: i32): f64 {
  return load<f64>(sharedBase + <usize>slot * 8);
}
export function setShared(slot: i32, value: f64): void {
  store<f64>(sharedBase + <usize>slot * 8, value);
}

/** An order through risk: buy or sell `quantity` (0: the strategy's orderQuantity) of this symbol or of `target`. */
export function buy(quantity: f64 = 0, target: i32 = -1): void {
  order(1, quantity, target);
}
export function sell(quantity: f64 = 0, target: i32 = -1): void {
  order(-1, quantity, target);
}

function order(side: i32, quantity: f64, target: i32): void {
  const count = load<i32>(IO + 40);
  // More than 16 orders in one call is a fault: the 17th traps, and the engine disables the strategy.
  if (count >= MAX_ORDERS) unreachable();
  const slot = IO + ORDERS + <usize>count * 16;
  store<i32>(slot, target < 0 ? symbol() : target);
  store<i32>(slot + 4, side);
  store<f64>(slot + 8, quantity);
  store<i32>(IO + 40, count + 1);
}
