/**
 * The rolling panel of the last `capacity` bars of every symbol, resident in shared memory and appended in place:
 * five bar-major rings (open, high, low, close, volume), element (bar slot t, symbol s) at t * symbols + s, the
 * layout of the batch panels (engine/batch/panel.ts). Bar number b (0 = the first bar closed) lives in slot
 * b % capacity; `closed` counts the bars closed so far, so the window is bars max(0, closed - capacity) .. closed - 1.
 *
 * The arrays are on SharedArrayBuffers: the tick thread appends a row, the scan thread reads the window in
 * place, nothing is copied. A row is complete before `closed` moves past it (the writer increments it last).
 */
export interface BarPanel {
  readonly symbols: number;
  readonly capacity: number;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  /** Per bar slot: the bar's interval number (its start is interval x the bar interval; exact, unlike ns in a double). */
  readonly interval: Float64Array;
  /** [0]: bars closed so far (an Int32Array on shared memory, read with Atomics across threads). */
  readonly closed: Int32Array;
}

/** Extra panel rows beyond the scans' window, so a scan that runs a little late is not overwritten under it. */
export const PANEL_SLACK_BARS = 64;

/** Bytes of a panel of `symbols` x `capacity` bars (five fields, 8 bytes each). */
export function barPanelBytes(symbols: number, capacity: number): number {
  return symbols * capacity * 5 * 8;
}

export function createBarPanel(symbols: number, capacity: number): BarPanel {
  if (!Number.isInteger(symbols) || symbols < 1) throw new RangeError(`symbols must be an integer >= 1, got ${symbols}`);
  if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`capacity must be an integer >= 2, got ${capacity}`);
  const field = (): Float64Array => new Float64Array(new SharedArrayBuffer(symbols * capacity * 8)).fill(Number.NaN);
  return {
    symbols,
    capacity,
    open: field(),
    high: field(),
    low: field(),
    close: field(),
    volume: field(),
    interval: new Float64Array(new SharedArrayBuffer(capacity * 8)).fill(Number.NaN),
    closed: new Int32Array(new SharedArrayBuffer(4)),
  };
}

/** The first element of bar number `bar`'s row (its slot times the symbol count). */
export function rowOffset(panel: BarPanel, bar: number): number {
  return (bar % panel.capacity) * panel.symbols;
}
