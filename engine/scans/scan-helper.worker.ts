// A scan helper thread's entry (scan-helpers.ts): scan.wasm instantiated on the scan thread's memory, then a loop
// that waits for a job in the control block and claims its units (chunks of the symbols for the columns, single
// cross-sections) until none is left, running each. Plans (what a job means) arrive by the port before the job
// that needs them. Protocol: scan-helper-protocol.ts, scan-claims.ts.
import { isMainThread, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { instantiateKernels } from '../batch/wasm-memory.ts';
import { claimUnit, completeUnits } from './scan-claims.ts';
import type { ColumnExport, ScanModule } from './scan-exports.ts';
import { helperBase, HelperJob, HelperSlot, type CrossSectionPlan, type HelperMessage, type HelperPlanMessage, type HelperWorkerData } from './scan-helper-protocol.ts';
import { runColumnChunk, runCrossSection, type ColumnCall } from './scan-units.ts';

if (isMainThread) throw new Error('scan-helper.worker.ts runs only as a worker thread');
const data = workerData as HelperWorkerData;
// Everything to and from the scan thread goes by this port, which the scan thread reads with receiveMessageOnPort.
const port = data.port;
const kernels = instantiateKernels<ScanModule>(data.module, data.memory);
const control = data.control;
const base = helperBase(data.index);
const row = new Uint32Array(control.buffer, control.byteOffset + (base + HelperSlot.ROW) * 4, 4);
const columns: ColumnCall[] = [];
/** The columns' chunk cuts, as the scan thread made them (the same for every column: one scanner's set). */
let columnCuts: readonly number[] = [];
const lists = new Map<number, readonly CrossSectionPlan[]>();
let plans = 0;

function takePlan(message: HelperPlanMessage): void {
  if (message.type === 'column') {
    columns.push({ plan: message.column, call: kernels[message.column.fn] as ColumnExport });
    columnCuts = message.cuts;
  } else {
    lists.set(message.id, message.jobs);
  }
  plans++;
}

/** Takes in plan messages until `needed` have arrived (they were posted before the job that needs them). */
function takePlans(needed: number): void {
  while (plans < needed) {
    // Stopped (the port may be closed, and the plans never come): the loop below sees STOP and exits.
    if (Atomics.load(control, base + HelperSlot.KIND) === HelperJob.STOP) return;
    const received = receiveMessageOnPort(data.port);
    if (received === undefined) {
      // Posted, not yet delivered: a short sleep, not a spin.
      Atomics.wait(control, base + HelperSlot.SEQ, Atomics.load(control, base + HelperSlot.SEQ), 1);
      continue;
    }
    takePlan(received.message as HelperPlanMessage);
  }
}

/** Runs unit `unit` of a job of `kind`. */
function runUnit(kind: number, unit: number): void {
  if (kind === HelperJob.COLUMNS) {
    runColumnChunk(columns, columnCuts, unit, row);
    return;
  }
  const list = Atomics.load(control, base + HelperSlot.ARG);
  const job = lists.get(list)?.[unit];
  if (job === undefined) throw new Error(`cross-section ${unit} of list ${list} was never registered`);
  runCrossSection(kernels, job, data.rankWork, data.capacity);
}

port.postMessage({ type: 'ready' } satisfies HelperMessage);
// From 0: a job posted before this thread got here is seen at once.
let seen = 0;
for (;;) {
  Atomics.wait(control, base + HelperSlot.SEQ, seen);
  seen = Atomics.load(control, base + HelperSlot.SEQ);
  const kind = Atomics.load(control, base + HelperSlot.KIND);
  if (kind === HelperJob.STOP) break;
  // A unit claimed and not yet counted done: counted when it throws, so the job never waits for it.
  let underWay = false;
  try {
    takePlans(Atomics.load(control, base + HelperSlot.PLAN));
    if (Atomics.load(control, base + HelperSlot.KIND) === HelperJob.STOP) break;
    // Read after SEQ: if the scan thread has moved on to a later job meanwhile, no unit of `seen` is left to claim.
    const units = Atomics.load(control, base + HelperSlot.UNITS);
    for (let unit = claimUnit(control, seen, units); unit >= 0; unit = claimUnit(control, seen, units)) {
      underWay = true;
      runUnit(kind, unit);
      underWay = false;
      completeUnits(control);
    }
  } catch (error) {
    // The message, then FAILED, then the unit counted: the scan thread reads the port only once it sees FAILED, and
    // a message is in the port's queue once postMessage returns, so it finds the message whether it was woken by
    // the count or finished the job without this thread. One that cannot be posted is reported as `no message`.
    try {
      port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies HelperMessage);
    } catch {
      // Reported as `no message`.
    }
    Atomics.store(control, base + HelperSlot.FAILED, 1);
    if (underWay) completeUnits(control);
  }
}
