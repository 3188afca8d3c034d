// A scan helper thread's entry (scan-helpers.ts): scan.wasm instantiated on the scan thread's memory, then a loop
// that waits for a job in the control block, runs its share on its own symbols or cross-sections, and marks it
// done. Plans (what a job means) arrive by the port before the job that needs them. Protocol:
// scan-helper-protocol.ts.
import { isMainThread, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { instantiateKernels } from '../batch/wasm-memory.ts';
import type { ColumnExport, ScanModule } from './scan-exports.ts';
import { HELPER_SLOTS, HelperJob, HelperSlot, type ColumnPlan, type CrossSectionPlan, type HelperMessage, type HelperPlanMessage, type HelperWorkerData } from './scan-helper-protocol.ts';


if (isMainThread) throw new Error('scan-helper.worker.ts runs only as a worker thread');
const data = workerData as HelperWorkerData;
// Everything to and from the scan thread goes by this port, which the scan thread reads with receiveMessageOnPort.
const port = data.port;
const kernels = instantiateKernels<ScanModule>(data.module, data.memory);
const control = data.control;
const base = data.index * HELPER_SLOTS;
const row = new Uint32Array(control.buffer, control.byteOffset + (base + HelperSlot.ROW) * 4, 4);
const columns: Array<{ symbols: number; from: number; to: number; column: ColumnPlan; run: ColumnExport }> = [];
const lists = new Map<number, readonly CrossSectionPlan[]>();
let plans = 0;

function takePlan(message: HelperPlanMessage): void {
  if (message.type === 'column') columns.push({ ...message, run: kernels[message.column.fn] as ColumnExport });
  else lists.set(message.id, message.jobs);
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

function run(kind: number): void {
  if (kind === HelperJob.COLUMNS) {
    const [close, high, low, volume] = row;
    for (const { symbols, from, to, column, run: call } of columns) call(symbols, from, to, close, high, low, volume, column.value, ...column.state);
    return;
  }
  const jobs = lists.get(Atomics.load(control, base + HelperSlot.ARG));
  if (jobs === undefined) throw new Error(`cross-section list ${Atomics.load(control, base + HelperSlot.ARG)} was never registered`);
  for (const job of jobs) {
    kernels.rank(job.input, job.n, job.rank, data.rankWork, data.capacity, -1);
    kernels.zscore(job.input, job.n, job.z);
  }
}

port.postMessage({ type: 'ready' } satisfies HelperMessage);
// From 0: a job posted before this thread got here is seen at once.
let seen = 0;
for (;;) {
  Atomics.wait(control, base + HelperSlot.SEQ, seen);
  seen = Atomics.load(control, base + HelperSlot.SEQ);
  const kind = Atomics.load(control, base + HelperSlot.KIND);
  if (kind === HelperJob.STOP) break;
  try {
    takePlans(Atomics.load(control, base + HelperSlot.PLAN));
    if (Atomics.load(control, base + HelperSlot.KIND) === HelperJob.STOP) break;
    run(kind);
  } catch (error) {
    Atomics.store(control, base + HelperSlot.FAILED, 1);
    port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies HelperMessage);
  }
  Atomics.store(control, base + HelperSlot.DONE, seen);
  Atomics.notify(control, base + HelperSlot.DONE);
}
