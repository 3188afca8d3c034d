// The entry module of a scan worker thread (started by scan-pool.ts through threads/spawn-worker.ts): answers one
// task at a time, in order, with its result or its error's name and message. Says `ready` once loaded.
import { parentPort, workerData } from 'node:worker_threads';
import { attachWasm, runScanTask, type ScanTask, type WasmShare } from './scan-tasks.ts';

/** Parent -> worker. */
export interface TaskMessage {
  readonly id: number;
  readonly task: ScanTask;
}

/** Worker -> parent. */
export type WorkerReply =
  | { readonly ready: true }
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly name: string; readonly message: string };

const port = parentPort;
if (port === null) throw new Error('scan-worker.ts runs only as a worker thread');
const { wasm } = workerData as { wasm?: WasmShare };
if (wasm !== undefined) attachWasm(wasm);

port.on('message', ({ id, task }: TaskMessage) => {
  let reply: WorkerReply;
  try {
    reply = { id, ok: true, value: runScanTask(task) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    reply = { id, ok: false, name: e.name, message: e.message };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies WorkerReply);
