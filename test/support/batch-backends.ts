import { afterAll, beforeAll } from 'vitest';
import type { AnyBatchBackend } from '../../engine/batch/batch-backend.ts';
import { createGpuBackend } from '../../engine/batch/gpu-backend.ts';
import { GRAM_GPU_TOLERANCE } from '../../engine/batch/gram.ts';
import { createJsBackend } from '../../engine/batch/js-backend.ts';
import { createWasmBackend } from '../../engine/batch/wasm-backend.ts';
import { createWorkersBackend } from '../../engine/batch/workers-backend.ts';

/** A batch backend a contract test runs, and how far its Gram matrix may be from the reference (none: the same bits). */
export interface GramBackendUnderTest {
  readonly name: string;
  readonly create: () => Promise<AnyBatchBackend>;
  readonly tolerance?: number;
}

/**
 * Every batch backend, for the Gram matrix's and the correlation's contract tests: js, wasm and workers give the
 * reference's bits, gpu (whatever adapter answers: Mesa llvmpipe in CI) is within GRAM_GPU_TOLERANCE. The wasm
 * modules must be built (`buildWasm()` in the test's beforeAll).
 */
export const gramBackends: readonly GramBackendUnderTest[] = [
  { name: 'js', create: async () => createJsBackend() },
  { name: 'wasm', create: () => createWasmBackend() },
  { name: 'workers (2 threads)', create: () => createWorkersBackend({ workers: 2 }) },
  { name: 'gpu', create: () => createGpuBackend(), tolerance: GRAM_GPU_TOLERANCE },
];

/**
 * Opens `create()`'s backend before the enclosing suite's tests and closes it after them; the returned function
 * gives it to a test.
 */
export function openedForSuite(create: () => Promise<AnyBatchBackend>): () => AnyBatchBackend {
  let backend: AnyBatchBackend | undefined;
  beforeAll(async () => {
    backend = await create();
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });
  return () => {
    if (backend === undefined) throw new Error('the backend did not open');
    return backend;
  };
}
