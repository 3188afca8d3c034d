// npm's postinstall for this repository: `npm ci` in a clone builds the WebAssembly modules (npm run build:wasm), so
// `nexus indicators --backend wasm` and WebAssembly strategies work straight after install, then the dashboard's
// page (npm run build:dashboard). A no-op where that
// cannot or should not happen: Nexus installed as another project's dependency (npm sets INIT_CWD to that project),
// a production install without the AssemblyScript compiler, or a tree without the sources (a Docker layer that
// installs before copying them). Plain Node on purpose: it runs before anything else can be assumed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const initCwd = process.env.INIT_CWD;
const skip = (why) => {
  console.log(`build:wasm skipped at install: ${why}; run npm run build:wasm where the compiler and sources are`);
  process.exit(0);
};
if (initCwd !== undefined && resolve(initCwd) !== root) process.exit(0); // a dependency of another project: silent
if (!existsSync(join(root, 'assembly', 'build.ts')) || !existsSync(join(root, 'assembly', 'kernels'))) skip('the AssemblyScript sources are not here');
if (!existsSync(join(root, 'node_modules', 'assemblyscript', 'package.json'))) skip('the AssemblyScript compiler is not installed (a production install)');
const build = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'assembly', 'build.ts')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
// The dashboard's page (nexus dashboard), bundled by esbuild into build/dashboard; it rebuilds itself when stale.
if (existsSync(join(root, 'dashboard', 'build.ts'))) {
  const page = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'dashboard', 'build.ts')], { cwd: root, stdio: 'inherit' });
  process.exit(page.status ?? 1);
}
