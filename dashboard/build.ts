import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { DashboardAssets } from './server/server.ts';

/**
 * The dashboard page's build: dashboard/web/ (TypeScript and CSS, with uPlot from node_modules) bundled by esbuild
 * into build/dashboard/ as index.html, app.js and app.css: three files, everything served from the local server,
 * nothing from a CDN. `npm ci` builds it (assembly/postinstall.mjs) and `nexus dashboard` rebuilds it when a
 * source is newer than the build (about 0.2 s), so a clone always serves its own sources.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
export const defaultAssetsDir = join(root, 'build', 'dashboard');
const webDir = join(root, 'dashboard', 'web');
const sources = (): string[] => [...readdirSync(webDir).map((file) => join(webDir, file)), join(root, 'dashboard', 'view-types.ts')];
const files = { '/index.html': 'text/html; charset=utf-8', '/app.js': 'text/javascript; charset=utf-8', '/app.css': 'text/css; charset=utf-8' } as const;

/** Builds the page into `outDir` (written beside it, then renamed into place: a reader never sees half a build). */
export async function buildDashboard(outDir = defaultAssetsDir): Promise<void> {
  const staging = `${outDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await build({
    entryPoints: { app: join(webDir, 'main.ts'), 'app-style': join(webDir, 'styles.css') },
    bundle: true, format: 'esm', target: 'es2022', minify: true, legalComments: 'none', outdir: staging, logLevel: 'silent',
    nodePaths: [join(root, 'node_modules')],
  });
  renameSync(join(staging, 'app-style.css'), join(staging, 'app.css'));
  writeFileSync(join(staging, 'index.html'), readFileSync(join(webDir, 'index.html')));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(dirname(outDir), { recursive: true });
  renameSync(staging, outDir);
}

/** True when `dir` holds a build at least as new as every source (no sources here: whatever is built stands). */
function upToDate(dir: string): boolean {
  if (!Object.keys(files).every((file) => existsSync(join(dir, file)))) return false;
  if (!existsSync(webDir)) return true;
  const built = statSync(join(dir, 'app.js')).mtimeMs;
  return sources().every((file) => statSync(file).mtimeMs <= built);
}

/** The page's files, built first when missing or older than the sources. */
export async function dashboardAssets(dir = defaultAssetsDir): Promise<DashboardAssets> {
  if (!upToDate(dir)) await buildDashboard(dir);
  return new Map(Object.entries(files).map(([path, type]) => [path, { type, body: readFileSync(join(dir, path)) }]));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  await buildDashboard();
  console.log(`Built the dashboard page into ${defaultAssetsDir} in ${Math.round(performance.now() - started)} ms`);
}
