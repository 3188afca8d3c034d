// Ring throughput: producer on the main thread -> consumer in a worker, per wait strategy, raced against the
// baseline a ring replaces (MessagePort.postMessage of one small object per message). Prints one JSON line.
//
//   npx tsx bench/ring.ts [messages]
//
// Each run sends `messages` 16-byte messages (id, payload) through a 4096-slot 'block' ring, publishing once per
// batch of up to 64 slots ("batch64") and once per message ("single"); the consumer releases whatever is ready.
// Both sides use the same strategy. After a warm-up pass, 3 rounds; prints the median and range per case.
// On a 2-core host two spinning threads own both cores: spin figures swing with any other load.
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { spawnWorker, workerExit } from '../engine/threads/spawn-worker.ts';
import { SpscRing } from '../engine/ring/spsc-ring.ts';
import { WAIT_STRATEGY_NAMES, createWaitStrategy, type WaitStrategyName } from '../engine/ring/wait-strategy.ts';

type Mode = 'ring' | 'post';
interface BenchRequest {
  readonly mode: Mode;
  readonly sab: SharedArrayBuffer | null;
  readonly strategy: WaitStrategyName;
  readonly messages: number;
}
interface ConsumerDone {
  readonly consumed: number;
  readonly checksum: number;
}

const STRATEGIES: readonly WaitStrategyName[] = WAIT_STRATEGY_NAMES;

if (isMainThread) await main();
else consume(workerData as BenchRequest);

async function main(): Promise<void> {
  const messages = Number(process.argv[2] ?? 5_000_000);
  // Warm-up: JIT both sides of every path once, so the first strategy measured is not the cold one.
  for (const strategy of STRATEGIES) for (const batch of [64, 1]) await runRing(strategy, 200_000, batch);
  await runPost(50_000);

  const rounds = 3;
  const samples: Record<string, number[]> = {};
  const add = (key: string, rate: number): void => void (samples[key] ??= []).push(rate);
  for (let round = 0; round < rounds; round++) {
    add('postMessage', await runPost(Math.min(messages, 500_000)));
    for (const strategy of STRATEGIES) {
      add(`${strategy}/batch64`, await runRing(strategy, messages, 64));
      add(`${strategy}/single`, await runRing(strategy, messages, 1));
    }
  }
  const baseline = median(samples.postMessage);
  const msgsPerS: Record<string, { median: number; min: number; max: number; vs_postMessage: number }> = {};
  for (const [key, rates] of Object.entries(samples)) {
    msgsPerS[key] = { median: median(rates), min: Math.min(...rates), max: Math.max(...rates), vs_postMessage: round(median(rates) / baseline, 1) };
  }
  console.log(JSON.stringify({ bench: 'spsc-ring', node: process.version, messages, rounds, msgs_per_s: msgsPerS }));
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function runRing(strategy: WaitStrategyName, messages: number, batch: number): Promise<number> {
  const ring = SpscRing.create({ capacity: 4096, slotBytes: 16, overflow: 'block', waitStrategy: createWaitStrategy(strategy) });
  const { worker, done } = await start({ mode: 'ring', sab: ring.sab, strategy, messages });
  const started = performance.now();
  for (let id = 0; id < messages; ) {
    let free = ring.claimable();
    if (free === 0) free = ring.waitForSpace();
    const n = Math.min(free, batch, messages - id);
    for (let k = 0; k < n; k++) {
      const base = ring.claimSlotAt(k) * ring.slotF64;
      ring.f64[base] = id + k;
      ring.f64[base + 1] = (id + k) * 0.5;
    }
    ring.publishN(n);
    id += n;
  }
  ring.close();
  const result = await done;
  const elapsedS = (performance.now() - started) / 1000;
  await workerExit(worker);
  check(result, messages);
  return Math.round(messages / elapsedS);
}

async function runPost(messages: number): Promise<number> {
  const { worker, done } = await start({ mode: 'post', sab: null, strategy: 'block', messages });
  const started = performance.now();
  for (let id = 0; id < messages; id++) worker.postMessage({ id, payload: id * 0.5 });
  const result = await done;
  const elapsedS = (performance.now() - started) / 1000;
  await workerExit(worker);
  check(result, messages);
  return Math.round(messages / elapsedS);
}

async function start(request: BenchRequest): Promise<{ worker: Worker; done: Promise<ConsumerDone> }> {
  const worker = spawnWorker(new URL(import.meta.url), request);
  const messages: unknown[] = [];
  const waiters: Array<(message: unknown) => void> = [];
  worker.on('message', (message: unknown) => {
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  const next = (): Promise<unknown> =>
    messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiters.push(resolve));
  await next(); // 'ready'
  return { worker, done: next() as Promise<ConsumerDone> };
}

function consume(request: BenchRequest): void {
  const port = parentPort;
  if (!port) throw new Error('Bench consumer started outside a worker');
  if (request.mode === 'post') {
    let consumed = 0;
    let checksum = 0;
    port.on('message', (message: { id: number; payload: number }) => {
      checksum += message.id;
      if (++consumed === request.messages) {
        port.postMessage({ consumed, checksum } satisfies ConsumerDone);
        port.close();
      }
    });
    port.postMessage('ready');
    return;
  }
  if (!request.sab) throw new Error('Ring bench consumer needs a SharedArrayBuffer');
  const ring = SpscRing.attach(request.sab, { waitStrategy: createWaitStrategy(request.strategy) });
  port.postMessage('ready');
  let consumed = 0;
  let checksum = 0;
  for (;;) {
    const ready = ring.waitForAvailable();
    if (ready === 0) break;
    for (let k = 0; k < ready; k++) checksum += ring.f64[ring.slotIndexAt(k) * ring.slotF64];
    consumed += ready;
    ring.release(ready);
  }
  port.postMessage({ consumed, checksum } satisfies ConsumerDone);
}

function check(result: ConsumerDone, messages: number): void {
  const expected = (messages * (messages - 1)) / 2;
  if (result.consumed !== messages || result.checksum !== expected) {
    throw new Error(`Bench consumer saw ${result.consumed} messages with checksum ${result.checksum}, expected ${messages} and ${expected}`);
  }
}

function round(x: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(x * scale) / scale;
}
