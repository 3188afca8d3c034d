// The scan thread's entry: opens the batch backend (scan-backend.ts) and says which, then waits on the control
// block for a bar to scan, scans it (bar-scanner.ts), posts the report to the main thread and marks itself free.
// See scan-thread.ts; the protocol is scan-protocol.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { monoNowNs } from '../clock/monotonic.ts';
import { BarScanner } from './bar-scanner.ts';
import { unusedBackend } from './backend-report.ts';
import { openScanBackend } from './scan-backend.ts';
import { openScanKernels } from './scan-kernels-choice.ts';
import { ScanControl, ScanMode, type ScanWorkerData, type ScanWorkerMessage } from './scan-protocol.ts';
import { scanReport } from './scan-report.ts';

const data = workerData as ScanWorkerData;
if (parentPort === null) throw new Error('scan.worker.ts runs only as a worker thread');
const port = parentPort;
const { panel, control, settings } = data;
const names = settings.indicators.map((indicator) => indicator.name);
const encoder = new TextEncoder();
// Rows a scan reads reach this far back from its bar: the correlation window's closes, else the previous close.
const reach = settings.correlation === undefined ? 1 : settings.correlation.window;

async function serve(): Promise<void> {
  const correlation = settings.correlation;
  const opened = correlation === undefined
    ? undefined
    : await openScanBackend(data.backend, { shape: 'correlation', symbols: correlation.symbols, bars: correlation.window });
  const kernels = await openScanKernels(data.backend, panel.symbols, data.scanThreads);
  const report = { ...(opened?.report ?? unusedBackend(data.backend)), scanKernels: kernels.kernels.name, scanKernelsReason: kernels.reason };
  port.postMessage({ type: 'backend', report } satisfies ScanWorkerMessage);
  const scanner = new BarScanner(panel, settings, monoNowNs, opened?.backend, data.slots, kernels.kernels);
  // Scan reports posted: scan k writes result set k % slots (scan-protocol.ts, CONSUMED).
  let delivered = 0;
  // From 0, the block's first value: a request made before this thread got here is seen at once.
  let seen = 0;
  for (;;) {
    // Blocks this thread between scans (nothing else runs here); a scan's asynchronous backend work (the GPU's
    // readback, the workers' replies) runs while `scan` awaits it.
    Atomics.wait(control, ScanControl.WAKE, seen);
    seen = Atomics.load(control, ScanControl.WAKE);
    if (Atomics.load(control, ScanControl.STOP) === 1) break;
    const bar = Atomics.load(control, ScanControl.BAR);
    if (Atomics.load(control, ScanControl.MODE) === ScanMode.FEED) {
      let fed = -1;
      try {
        fed = scanner.feedThrough(bar);
      } catch (error) {
        port.postMessage({ type: 'failed', bar, message: error instanceof Error ? error.message : String(error), barsMissed: scanner.barsMissed } satisfies ScanWorkerMessage);
      }
      Atomics.store(control, ScanControl.FED, fed);
      Atomics.store(control, ScanControl.BUSY, 0);
      Atomics.notify(control, ScanControl.BUSY);
      continue;
    }
    let message: ScanWorkerMessage;
    if (Atomics.load(control, ScanControl.CONSUMED) < delivered - (data.slots.length - 1)) {
      // The main thread has not taken in the report that last used this set: leave it alone, skip this bar.
      Atomics.store(control, ScanControl.BUSY, 0);
      port.postMessage({ type: 'skipped', bar, barsMissed: scanner.barsMissed } satisfies ScanWorkerMessage);
      continue;
    }
    try {
      const slot = delivered % data.slots.length;
      const result = await scanner.scan(bar, slot);
      // Valid only if the tick thread did not start overwriting the oldest row read (bar - reach) before the scan
      // ended: it writes bar w into that row's slot once w = bar - reach + capacity, so closed must stay below that.
      // The indicators were fed from copies checked the same way (BarScanner.feed).
      const torn = Atomics.load(panel.closed, 0) >= bar - reach + panel.capacity;
      const start = BigInt(panel.interval[bar % panel.capacity]) * BigInt(data.intervalNs);
      if (torn) {
        message = { type: 'torn', bar, barsMissed: scanner.barsMissed };
      } else {
        // Serialised here, off the feed thread, and handed over without a copy.
        const json = encoder.encode(JSON.stringify(scanReport(result, data.symbols, names, data.topSymbols, start, settings.correlation)));
        const figures = { bar, indicatorsMs: result.indicatorsMs, crossSectionMs: result.crossSectionMs, correlationMs: result.correlationMs };
        message = {
          type: 'scan', figures, json, barsMissed: scanner.barsMissed, slot, barStartNs: Number(start),
          backendFallbacks: scanner.backendFallbacks, backendError: scanner.lastBackendError,
        };
        delivered++;
      }
    } catch (error) {
      message = { type: 'failed', bar, message: error instanceof Error ? error.message : String(error), barsMissed: scanner.barsMissed };
    }
    // Free first: a bar closing right after this scan is scanned, not skipped for a report still on its way.
    Atomics.store(control, ScanControl.BUSY, 0);
    port.postMessage(message, message.type === 'scan' ? [message.json.buffer as ArrayBuffer] : []);
  }
  kernels.kernels.close();
  await opened?.backend.close();
}

// An exception here ends the thread with an error: the main thread counts every later bar close as failed.
await serve();
