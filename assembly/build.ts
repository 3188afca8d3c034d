/**
 * `npm run build:wasm` (and `npm ci`'s postinstall, assembly/postinstall.mjs): compiles the AssemblyScript indicator kernels (assembly/kernels/) into build/wasm/
 * (git-ignored build outputs, never committed) with the asc compiler API, in-process:
 *
 *     assembly/kernels/indicators.ts       -> build/wasm/indicators.wasm        single-series kernels
 *     assembly/kernels/indicators-simd.ts  -> build/wasm/indicators-simd.wasm   multi-symbol f64x2 kernels
 *     assembly/kernels/scan.ts             -> build/wasm/scan.wasm              a universe scan's per-bar part
 *     examples/strategies/assemblyscript/*.ts, engine/strategy/fixtures/assemblyscript/*.ts
 *                                          -> build/wasm/strategies/[fixtures/]NAME.wasm   strategy modules
 *
 * Strategy modules (docs/strategy-sdk.md) are built on the AssemblyScript strategy SDK (assembly/strategy/sdk.ts)
 * with `strategyFlags`: no imports at all, their own memory bounded to 256 pages (16 MiB), no shared memory.
 *
 * Flags: `-O3 --runtime stub` (no garbage collector: the kernels only touch raw linear memory that the JS side
 * lays out), `--noAssert`, `--use abort=` (no `env.abort` import, so the modules instantiate with no imports at
 * all but their memory), `--enable simd` (the SIMD module's kernels and both modules' value checks), and
 * `--importMemory --sharedMemory --maximumMemory 65536 --enable threads`: both modules run in one shared memory
 * that the backend creates (engine/batch/wasm-memory.ts), the SIMD module's static data placed at
 * SIMD_MEMORY_BASE. A module is rebuilt only when it is missing or older than one of
 * its inputs (every kernel source, this script, the compiler's package.json), so a repeated run costs a few
 * stat calls; asc itself takes 3.5-7.5 s per module. Outputs are written to a temporary name and renamed, so a
 * concurrent reader never sees half a file. `--force` rebuilds regardless.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WASM_MAXIMUM_PAGES } from '../engine/batch/wasm-memory.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const kernelDir = join(root, 'assembly', 'kernels');

/** Where the backend looks for the modules. */
export const wasmDir = join(root, 'build', 'wasm');

interface WasmModuleSpec {
  /** The source, absolute. */
  readonly entry: string;
  /** The output, relative to `wasmDir`. */
  readonly output: string;
  readonly flags: readonly string[];
  /** Every source it is built from (rebuilt when one is newer than the output). */
  readonly inputs: readonly string[];
}

/**
 * Both modules import one shared memory (`env.memory`); the SIMD module's static data starts here so that it never
 * overlaps the scalar module's (which starts at 0 and stays far below), and the JS heap starts above both
 * modules' `heapBase()`.
 */
export const SIMD_MEMORY_BASE = 32768;


const common = [
  '-O3', '--runtime', 'stub', '--noAssert', '--use', 'abort=', '--noColors', '--enable', 'simd',
  '--enable', 'threads', '--importMemory', '--sharedMemory', '--maximumMemory', String(WASM_MAXIMUM_PAGES),
];

/** How a strategy module is compiled: no imports (`abort=`), no GC, its own memory of at most 256 pages. */
export const strategyFlags: readonly string[] = ['-O3', '--runtime', 'stub', '--noAssert', '--use', 'abort=', '--noColors', '--maximumMemory', '256'];

const sourcesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.ts')).map((name) => join(dir, name)) : []);
const kernelSources = sourcesIn(kernelDir);
const strategySdk = join(root, 'assembly', 'strategy', 'sdk.ts');

/** The strategy modules in `dir`, built into build/wasm/`outDir`. */
function strategyModules(dir: string, outDir: string): WasmModuleSpec[] {
  return sourcesIn(dir).map((entry) => ({ entry, output: join(outDir, `${basename(entry, '.ts')}.wasm`), flags: strategyFlags, inputs: [entry, strategySdk] }));
}

export const wasmModules: readonly WasmModuleSpec[] = Object.freeze([
  { entry: join(kernelDir, 'indicators.ts'), output: 'indicators.wasm', flags: common, inputs: kernelSources },
  { entry: join(kernelDir, 'indicators-simd.ts'), output: 'indicators-simd.wasm', flags: [...common, '--memoryBase', String(SIMD_MEMORY_BASE)], inputs: kernelSources },
  // On a memory of its own (engine/scans/wasm-scan-kernels.ts): static data from 0, like indicators.wasm.
  { entry: join(kernelDir, 'scan.ts'), output: 'scan.wasm', flags: common, inputs: kernelSources },
  ...strategyModules(join(root, 'examples', 'strategies', 'assemblyscript'), 'strategies'),
  ...strategyModules(join(root, 'engine', 'strategy', 'fixtures', 'assemblyscript'), join('strategies', 'fixtures')),
]);

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** The newest modification time among a module's inputs, this script and the compiler. */
function newestInput(spec: WasmModuleSpec): number {
  const inputs = [...spec.inputs, fileURLToPath(import.meta.url), join(root, 'node_modules', 'assemblyscript', 'package.json')];
  return Math.max(...inputs.map(mtimeMs));
}

export interface BuildResult {
  /** Output paths compiled in this run (empty when everything was up to date). */
  readonly built: string[];
  /** Output paths that were already newer than their inputs. */
  readonly upToDate: string[];
}

/**
 * Compiles every module that is missing or older than its inputs (all of them with `force`). Throws with the
 * compiler's diagnostics when asc fails.
 */
export async function buildWasm(options: { force?: boolean; log?: (line: string) => void } = {}): Promise<BuildResult> {
  const log = options.log ?? (() => undefined);
  const result: BuildResult = { built: [], upToDate: [] };
  for (const spec of wasmModules) {
    const output = join(wasmDir, spec.output);
    mkdirSync(dirname(output), { recursive: true });
    if (!options.force && mtimeMs(output) > newestInput(spec)) {
      result.upToDate.push(output);
      continue;
    }
    const started = performance.now();
    // A per-process temporary name: two builds racing (two test workers) each rename a complete file.
    const temporary = `${output}.${process.pid}.tmp`;
    await compile(spec.entry, temporary, spec.flags);
    renameSync(temporary, output);
    result.built.push(output);
    log(`Built ${relative(root, output)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return result;
}

/** The part of the AssemblyScript compiler's API (`assemblyscript/asc`) that this build uses. */
interface AscCompiler {
  main(
    args: readonly string[],
    options: { stdout: { write(chunk: string | Uint8Array): void }; stderr: { write(chunk: string | Uint8Array): void } },
  ): Promise<{ error: Error | null }>;
}
const ascModule = 'assemblyscript/asc';

async function compile(entry: string, output: string, flags: readonly string[]): Promise<void> {
  // Loaded lazily: importing the compiler costs ~0.5 s, which an up-to-date build does not need to pay. Through a
  // variable specifier, so TypeScript does not load the compiler's typings: they declare a global `console` of
  // their own, and which of the two wins then depends on the order the program lists its files in.
  const { default: asc } = (await import(ascModule)) as { default: AscCompiler };
  let diagnostics = '';
  const sink = { write: (chunk: string | Uint8Array): void => void (diagnostics += String(chunk)) };
  const { error } = await asc.main([entry, '--outFile', output, ...flags], { stdout: sink, stderr: sink });
  if (error) {
    throw new Error(`asc failed on ${relative(root, entry)}: ${error.message}\n${diagnostics}`.trimEnd());
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const force = process.argv.includes('--force');
  buildWasm({ force, log: (line) => console.log(line) }).then(
    ({ upToDate }) => {
      if (upToDate.length > 0) console.log(`Up to date: ${upToDate.map((p) => relative(root, p)).join(', ')}`);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
