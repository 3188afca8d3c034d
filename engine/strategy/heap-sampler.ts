import { Session } from 'node:inspector';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { HeapReadings, HeapSampler, LiveSamples, SampledNode } from './module-heap-guard.ts';

/** One sample per this many bytes allocated, on average, while a window runs: coarse enough to cost little. */
const SAMPLING_INTERVAL_BYTES = 64 * 1024;

/**
 * The heap guard's boundary (module-heap-guard.ts) on this thread's V8 isolate: heap figures from `node:v8`, the
 * sampling heap profiler through an in-process inspector session (no port is opened; a thread's own session
 * answers synchronously, which is what lets the guard run between frames). The session is connected only while
 * a window runs.
 */
export class InspectorHeapSampler implements HeapSampler {
  private session: Session | undefined;

  read(): HeapReadings {
    const heap = getHeapStatistics();
    const container = process.constrainedMemory?.() ?? 0;
    const limit = container > 0 && container < heap.heap_size_limit ? container : heap.heap_size_limit;
    return { usedBytes: heap.used_heap_size, limitBytes: limit };
  }

  start(): void {
    this.stop();
    const session = new Session();
    session.connect();
    this.session = session; // before sampling starts: a failure below leaves it for stop() to disconnect
    post(session, 'HeapProfiler.startSampling', { samplingInterval: SAMPLING_INTERVAL_BYTES });
  }

  liveSamples(): LiveSamples {
    const session = this.connected();
    fullCollection();
    const usedAfterCollection = getHeapStatistics().used_heap_size;
    const answer = post(session, 'HeapProfiler.getSamplingProfile', {}) as { profile: { head: SampledNode } };
    return { head: answer.profile.head, usedAfterCollection };
  }

  stop(): void {
    const session = this.session;
    if (session === undefined) return;
    this.session = undefined;
    try {
      post(session, 'HeapProfiler.stopSampling', {});
    } finally {
      session.disconnect();
    }
  }

  private connected(): Session {
    if (this.session === undefined) throw new Error('the heap sampler is not sampling');
    return this.session;
  }
}

let collect: (() => void) | undefined;

/**
 * A full, synchronous garbage collection, so that only what is really kept stays among the samples. The
 * inspector's HeapProfiler.collectGarbage answers only after the thread yields, which a replay never does; V8's
 * `gc` function does it at once. It is made available the documented way (`--expose-gc` set at run time, then
 * read from a fresh context), only the first time a window ends.
 */
function fullCollection(): void {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

/** A request on a same-thread session: its callback runs before `post` returns, so the answer is read at once. */
function post(session: Session, method: string, params: object): unknown {
  let answer: unknown;
  let failure: Error | null = null;
  let answered = false;
  session.post(method, params, (error: Error | null, result: unknown) => {
    failure = error;
    answer = result;
    answered = true;
  });
  if (!answered) throw new Error(`the inspector did not answer ${method} synchronously`);
  if (failure !== null) throw failure;
  return answer;
}
