import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * docs/architecture.md is the map of the tree: every path it names exists, and every folder of the product
 * (engine/, operator/, cli/, devcluster/, dashboard/) appears in it, so the map and the tree cannot drift apart unnoticed.
 */
const root = fileURLToPath(new URL('../', import.meta.url));
const text = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
const topLevel = ['engine', 'operator', 'cli', 'devcluster', 'dashboard', 'test', 'bench', 'docs', 'charts', 'crds', 'assembly'];
const pathPattern = new RegExp(`(?<![\\w./-])((?:${topLevel.join('|')})/[\\w./-]*)`, 'g');

/** Every path the document names, without sentence punctuation. */
function namedPaths(): string[] {
  const paths = new Set<string>();
  for (const match of text.matchAll(pathPattern)) paths.add(match[1].replace(/[.,]+$/, '').replace(/\/$/, ''));
  return [...paths].sort();
}

/** Folders under `dir` that hold code, fixtures left out. */
function codeFolders(dir: string): string[] {
  const out: string[] = [dir];
  for (const entry of readdirSync(join(root, dir))) {
    const path = `${dir}/${entry}`;
    if (entry === 'fixtures' || entry === 'node_modules' || !statSync(join(root, path)).isDirectory()) continue;
    out.push(...codeFolders(path));
  }
  return out;
}

describe('docs/architecture.md', () => {
  it('names only paths that exist', () => {
    const paths = namedPaths();
    expect(paths.length).toBeGreaterThan(40);
    expect(paths.filter((path) => !existsSync(join(root, path)))).toEqual([]);
  });

  it('names every folder of the product', () => {
    const named = namedPaths();
    const folders = ['engine', 'operator', 'cli', 'devcluster', 'dashboard'].flatMap(codeFolders).filter((folder) => folder.includes('/'));
    expect(folders.filter((folder) => !named.some((path) => path === folder || path.startsWith(`${folder}/`)))).toEqual([]);
  });
});
