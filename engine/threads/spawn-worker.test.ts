import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { spawnWorker, withoutTsxPreload, workerExit } from './spawn-worker.ts';

function firstMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve) => worker.once('message', resolve));
}

describe('spawnWorker', () => {
  it('runs a TypeScript worker module and passes workerData through', async () => {
    const worker = spawnWorker(new URL('./fixtures/echo.worker.ts', import.meta.url), { numbers: [1, 2, 39] });
    const exit = workerExit(worker);
    await expect(firstMessage(worker)).resolves.toEqual({ workerData: { numbers: [1, 2, 39] }, sum: 42 });
    await expect(exit).resolves.toBeUndefined();
  });

  it('runs a JavaScript worker module unchanged', async () => {
    const source = `import { parentPort, workerData } from 'node:worker_threads'; parentPort.postMessage(workerData * 2);`;
    const worker = spawnWorker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), 21);
    const exit = workerExit(worker);
    await expect(firstMessage(worker)).resolves.toBe(42);
    await exit;
  });

  it('delivers an error thrown by the module as an error event with its original message', async () => {
    const worker = spawnWorker(new URL('./fixtures/throws.worker.ts', import.meta.url), null);
    const error = await new Promise<unknown>((resolve) => worker.once('error', resolve));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('Fixture worker refused to start');
  });

  it('rejects workerExit with the module name and the worker error as cause', async () => {
    const url = new URL('./fixtures/throws.worker.ts', import.meta.url);
    const failure = await workerExit(spawnWorker(url, null)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe(`Worker ${url.href} failed: Fixture worker refused to start`);
    expect((failure as Error).cause).toBeInstanceOf(RangeError);
  });

  it('rejects workerExit when a worker exits with a non-zero code', async () => {
    const source = `process.exit(3);`;
    const url = new URL(`data:text/javascript,${encodeURIComponent(source)}`);
    await expect(workerExit(spawnWorker(url, null))).rejects.toThrow(/exited with code 3$/);
  });
});

describe('withoutTsxPreload', () => {
  it.each([
    {
      given: ['--require', '/n/node_modules/tsx/dist/preflight.cjs', '--import', 'file:///n/node_modules/tsx/dist/loader.mjs'],
      kept: [],
    },
    { given: ['--conditions', 'node', '--import=tsx'], kept: ['--conditions', 'node'] },
    { given: ['--import', 'tsx/esm', '--enable-source-maps'], kept: ['--enable-source-maps'] },
    { given: ['--import', './my-setup.mjs'], kept: ['--import', './my-setup.mjs'] },
    { given: ['--require', '/n/node_modules/vitest/suppress-warnings.cjs'], kept: ['--require', '/n/node_modules/vitest/suppress-warnings.cjs'] },
  ])('keeps $kept of $given', ({ given, kept }) => {
    expect(withoutTsxPreload(given)).toEqual(kept);
  });
});
