import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Worker options that `spawnWorker` passes through; `workerData` is its own argument and `eval` is its own business. */
export type SpawnWorkerOptions = Omit<WorkerOptions, 'workerData' | 'eval'>;

/**
 * Starts a `node:worker_threads` Worker on `moduleUrl`, which may be a TypeScript module.
 *
 * A `.js`/`.mjs` URL (the built `dist/` tree) is handed to `new Worker` unchanged. A `.ts` URL (tests, `tsx`
 * runs) needs TypeScript support inside the worker, and on Node 20 the obvious route does not work: a Worker's
 * `execArgv: ['--import', 'tsx']` runs tsx's preload, but module hooks registered that way never apply to the
 * worker's entry module, which fails with ERR_UNKNOWN_FILE_EXTENSION (nodejs/node#47747, privatenumber/tsx#354;
 * checked on Node 20.20 under both vitest and `npx tsx`). So the worker's entry is a two-line ESM bootstrap (a
 * `data:` URL) that calls tsx's `register()` inside the worker and then imports the real module. `workerData`,
 * `parentPort` and `import.meta.url` in that module are exactly what they would be had it been the entry.
 *
 * execArgv: the parent's (or `options.execArgv`) minus tsx's own preload flags, which the bootstrap replaces;
 * flags such as vitest's `--conditions` are kept.
 *
 * Errors: anything the module throws while loading or running (a syntax error, a failed import, an uncaught
 * exception) arrives as the Worker's 'error' event with the original message and stack; `workerExit` turns
 * 'error' and a non-zero exit code into one rejected promise that names the module. Startup costs ~165 ms
 * for a `.ts` module (tsx transpiles the worker's module graph afresh).
 */
export function spawnWorker(moduleUrl: URL, workerData: unknown, options: SpawnWorkerOptions = {}): Worker {
  const execArgv = withoutTsxPreload(options.execArgv ?? process.execArgv);
  const worker = isTypeScript(moduleUrl)
    ? new Worker(tsBootstrapUrl(moduleUrl), { ...options, workerData, execArgv })
    : new Worker(moduleUrl, { ...options, workerData, execArgv });
  moduleNames.set(worker, moduleUrl.href);
  return worker;
}

/**
 * Resolves when `worker` exits with code 0; rejects when it emits 'error' (the rejection's `cause` is the
 * worker's own error) or exits with any other code. Call it right after `spawnWorker`, before the worker can
 * fail, so that an early error is never an unhandled 'error' event.
 */
export function workerExit(worker: Worker): Promise<void> {
  const name = moduleNames.get(worker) ?? `thread ${worker.threadId}`;
  return new Promise<void>((resolve, reject) => {
    let failure: Error | undefined;
    worker.on('error', (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      failure ??= new Error(`Worker ${name} failed: ${message}`, { cause: error });
    });
    worker.once('exit', (code: number) => {
      if (failure) reject(failure);
      else if (code !== 0) reject(new Error(`Worker ${name} exited with code ${code}`));
      else resolve();
    });
  });
}

const moduleNames = new WeakMap<Worker, string>();

function isTypeScript(url: URL): boolean {
  return url.protocol === 'file:' && /\.(?:c|m)?ts$/.test(url.pathname);
}

/** An ESM entry that installs tsx's hooks in this worker, then loads the real module. */
function tsBootstrapUrl(moduleUrl: URL): URL {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const source =
    `const { register } = await import(${JSON.stringify(tsxApi)});\n` +
    `register();\n` +
    `await import(${JSON.stringify(moduleUrl.href)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/**
 * Drops the flags with which tsx preloads itself (`--require …/tsx/dist/preflight.cjs`,
 * `--import …/tsx/dist/loader.mjs`, `--import tsx`, and their `--flag=value` forms).
 *
 * Examples: `['--require', '/n/tsx/dist/preflight.cjs', '--import', 'file:///n/tsx/dist/loader.mjs']` -> `[]`;
 * `['--conditions', 'node', '--import=tsx']` -> `['--conditions', 'node']`;
 * `['--import', './my-setup.mjs']` -> unchanged.
 */
export function withoutTsxPreload(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    if (PRELOAD_FLAGS.has(flag)) {
      const value = eq < 0 ? execArgv[i + 1] : arg.slice(eq + 1);
      if (value !== undefined && isTsxSpecifier(value)) {
        if (eq < 0) i++;
        continue;
      }
    }
    kept.push(arg);
  }
  return kept;
}

const PRELOAD_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

function isTsxSpecifier(value: string): boolean {
  return value === 'tsx' || value.startsWith('tsx/') || /[\\/]node_modules[\\/]tsx[\\/]/.test(value);
}
