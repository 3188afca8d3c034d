import { createScanPool, type ScanPool, type ScanPoolOptions } from '../../workers/scan-pool.ts';
import type { CheckResult, ScanKernel } from '../../workers/scan-tasks.ts';
import { checkFitsInput, checkPeriod, outputArray } from '../batch-checks.ts';
import { checkMacdPeriods, type MacdBatchOutput } from '../macd.ts';
import type { BatchBackend } from './batch-backend.ts';
import { createJsBackend } from './js-backend.ts';
import { checkFinitePanel, checkHighLowPanel, checkPanelShape, type AsyncPanelBatch } from './panel.ts';

/**
 * The `workers` backend: multi-symbol panel scans (smaMany, emaMany, rsiMany, atrMany, macdMany) sharded by
 * symbol over a pool of worker threads (engine/workers/scan-pool.ts), each symbol computed by the JS batch
 * function, so results equal panel.ts's reference bit for bit. They return Promises (AsyncPanelBatch).
 *
 * Checks are those of panel.ts in the same order with the same RangeErrors (as rejections), all before any output
 * is written: shape, period and `out` checks on the caller's thread, then the O(n) scans for non-finite values and
 * high < low in the workers; when one finds something the reference check runs here to name the first bad index.
 *
 * Outputs: given `out` arrays are written (in place when SharedArrayBuffer-backed, else through one staged copy);
 * new outputs are SharedArrayBuffer-backed Float64Arrays. Inputs that are not SharedArrayBuffer-backed are copied
 * once per call (see scan-pool.ts): keep big panels in SharedArrayBuffers.
 *
 * The single-series BatchBackend methods are the JS functions on the caller's thread: one series is one
 * recursion, which cannot be split across threads, and a round trip would only add latency.
 */
export interface WorkersBackend extends BatchBackend, AsyncPanelBatch {
  readonly name: 'workers';
  readonly pool: ScanPool;
}

/** Starts the pool (resolves when every worker has loaded); `close()` shuts it down. */
export async function createWorkersBackend(options: ScanPoolOptions = {}): Promise<WorkersBackend> {
  const pool = await createScanPool(options);
  const js = createJsBackend();

  const closePanel = async (
    kernel: ScanKernel, close: Float64Array, symbols: number, bars: number, period: number, out: Float64Array | undefined,
  ): Promise<Float64Array> => {
    checkPeriod('period', period);
    const length = checkPanelShape(symbols, bars, { close });
    const result = out === undefined ? sharedArray(length) : outputArray('out', out, length, [close]);
    if (length === 0) return result;
    checkFitsInput('period', period, bars);
    await pool.scan({
      kernel, params: [period], symbols, bars, inputs: [close], outputs: [result],
      check: { highLow: false, verdict: finiteVerdict({ close }, symbols) },
    });
    return result;
  };

  return {
    ...js,
    name: 'workers',
    pool,
    smaMany: (close, symbols, bars, period, out) => closePanel('sma', close, symbols, bars, period, out),
    emaMany: (close, symbols, bars, period, out) => closePanel('ema', close, symbols, bars, period, out),
    rsiMany: (close, symbols, bars, period, out) => closePanel('rsi', close, symbols, bars, period, out),

    async atrMany(high, low, close, symbols, bars, period, out) {
      checkPeriod('period', period);
      const length = checkPanelShape(symbols, bars, { high, low, close });
      const result = out === undefined ? sharedArray(length) : outputArray('out', out, length, [high, low, close]);
      if (length === 0) return result;
      checkFitsInput('period', period, bars);
      const finite = finiteVerdict({ high, low, close }, symbols);
      await pool.scan({
        kernel: 'atr', params: [period], symbols, bars, inputs: [high, low, close], outputs: [result],
        check: {
          highLow: true,
          verdict(checked) {
            finite(checked);
            if (checked.highBelowLow) checkHighLowPanel(high, low, symbols);
          },
        },
      });
      return result;
    },

    async macdMany(close, symbols, bars, fastPeriod, slowPeriod, signalPeriod, out) {
      checkPeriod('fastPeriod', fastPeriod);
      checkPeriod('slowPeriod', slowPeriod);
      checkPeriod('signalPeriod', signalPeriod);
      checkMacdPeriods(fastPeriod, slowPeriod);
      const length = checkPanelShape(symbols, bars, { close });
      let result: MacdBatchOutput;
      if (out === undefined) {
        result = { macd: sharedArray(length), signal: sharedArray(length), histogram: sharedArray(length) };
      } else {
        const macd = outputArray('out.macd', out.macd, length, [close]);
        const signal = outputArray('out.signal', out.signal, length, [close, macd]);
        outputArray('out.histogram', out.histogram, length, [close, macd, signal]);
        result = out;
      }
      if (length === 0) return result;
      checkFitsInput('slowPeriod', slowPeriod, bars);
      checkFitsInput('signalPeriod', signalPeriod, bars);
      await pool.scan({
        kernel: 'macd', params: [fastPeriod, slowPeriod, signalPeriod], symbols, bars, inputs: [close],
        outputs: [result.macd, result.signal, result.histogram],
        check: { highLow: false, verdict: finiteVerdict({ close }, symbols) },
      });
      return result;
    },

    close: () => pool.close(),
  };
}

function sharedArray(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

/** Turns the workers' "input k has a non-finite value" into the reference RangeError, inputs in argument order. */
function finiteVerdict(named: Readonly<Record<string, Float64Array>>, symbols: number): (checked: CheckResult) => void {
  const names = Object.keys(named);
  return (checked) => {
    names.forEach((name, k) => {
      if (checked.nonFinite[k]) checkFinitePanel(name, named[name], symbols);
    });
  };
}
