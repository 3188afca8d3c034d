import { readFileSync } from 'node:fs';

/**
 * Acquiring a WebGPU adapter in Node for gpu.js's `webgpu` mode, and saying exactly which one was had.
 *
 * gpu.js never loads a WebGPU implementation itself: it calls `navigator.gpu.requestAdapter()`. In Node that is
 * Dawn's binding, npm `webgpu` (pinned 0.6.2: gpu.js itself pins 0.2.9, which needs glibc 2.38, and 0.5.0-0.6.1 do not load on Debian 12). Dawn backends are tried in order:
 * `vulkan` (NVIDIA and other real GPUs), then `opengles` with `featureLevel: 'compatibility'` over EGL with
 * `EGL_PLATFORM=surfaceless`, which on a machine without a GPU is Mesa's llvmpipe (software, the same code path,
 * what CI runs). `NEXUS_GPU_BACKEND=vulkan|opengles` pins one. The first backend that yields an adapter wins (a
 * software Vulkan adapter only when OpenGL ES yields none) and is installed as `navigator.gpu` for gpu.js, with
 * the request options gpu.js does not pass (feature level).
 *
 * Speed never proves that a GPU ran (llvmpipe beat plain JS on one kernel): the report names the adapter, says
 * `software` for llvmpipe, lavapipe, softpipe, SwiftShader or a fallback adapter, and lists the GPU driver
 * libraries mapped into this process (libnvidia-*, libcuda) as evidence that hardware was reached.
 */
export type DawnBackend = 'vulkan' | 'opengles';
export const dawnBackends: readonly DawnBackend[] = Object.freeze(['vulkan', 'opengles']);

export interface GpuAdapterReport {
  readonly backend: DawnBackend;
  readonly featureLevel: 'core' | 'compatibility';
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
  /** `software` when a CPU rasterizer answered (llvmpipe, lavapipe, softpipe, SwiftShader) or Dawn says fallback. */
  readonly kind: 'hardware' | 'software';
  /** GPU driver libraries mapped into this process: the proof that a hardware driver was loaded. */
  readonly driverLibraries: readonly string[];
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
}

/** No usable adapter: every backend tried, each with its reason. */
export class GpuUnavailableError extends Error {
  constructor(readonly attempts: readonly string[]) {
    super(`no usable WebGPU adapter: ${attempts.join('; ')}`);
    this.name = 'GpuUnavailableError';
  }
}

/** The adapter a backend got, with the report; `adapter` is Dawn's object, opaque here. */
export interface AcquiredAdapter {
  readonly report: GpuAdapterReport;
}

interface DawnAdapterInfo {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}
interface DawnAdapter {
  readonly info: DawnAdapterInfo;
  readonly isFallbackAdapter?: boolean;
  readonly limits: { readonly maxStorageBufferBindingSize: number; readonly maxBufferSize: number; readonly maxComputeWorkgroupsPerDimension: number };
}
interface DawnGpu {
  requestAdapter(options?: Record<string, unknown>): Promise<DawnAdapter | null>;
  readonly wgslLanguageFeatures?: unknown;
}
interface DawnModule {
  create(flags: string[]): DawnGpu;
  readonly globals: object;
}

const SOFTWARE_RENDERERS = /llvmpipe|lavapipe|softpipe|swiftshader/i;
const DRIVER_LIBRARIES = /lib(nvidia-[a-z0-9-]+|cuda)\.so[.0-9]*/g;

let acquired: Promise<AcquiredAdapter> | undefined;

/**
 * Finds an adapter once per process (later calls share the result, whatever they pin: Dawn and gpu.js hold one
 * device per process; a failure is not cached, so a later call retries) and installs it as `navigator.gpu` for
 * gpu.js. Rejects with GpuUnavailableError naming each attempt, or a bad NEXUS_GPU_BACKEND, always checked.
 */
export function acquireAdapter(env: NodeJS.ProcessEnv = process.env): Promise<AcquiredAdapter> {
  const pinned = env.NEXUS_GPU_BACKEND;
  if (pinned !== undefined && pinned !== '' && !(dawnBackends as readonly string[]).includes(pinned)) {
    return Promise.reject(new GpuUnavailableError([`NEXUS_GPU_BACKEND must be one of ${dawnBackends.join(', ')}, got ${JSON.stringify(pinned)}`]));
  }
  if (acquired) return acquired;
  const attempt = findAdapter(pinned ? (pinned as DawnBackend) : undefined);
  acquired = attempt;
  attempt.catch(() => {
    if (acquired === attempt) acquired = undefined;
  });
  return attempt;
}

async function findAdapter(pinned: DawnBackend | undefined): Promise<AcquiredAdapter> {
  // Mesa's EGL reads this when Dawn opens its display: no X server, no Wayland, just offscreen rendering. Native code
  // reads the process's real environment: a worker thread must be spawned with `env: SHARE_ENV` for this to reach it.
  process.env.EGL_PLATFORM ??= 'surfaceless';
  let dawn: DawnModule;
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (error) {
    throw new GpuUnavailableError([`cannot load Dawn (npm webgpu): ${messageOf(error)}`]);
  }
  const order = pinned ? [pinned] : dawnBackends;
  const attempts: string[] = [];
  // A software Vulkan adapter (lavapipe, SwiftShader) is kept only if nothing else answers: Debian's lavapipe is
  // too old for Dawn, and Mesa's OpenGL ES path is the tested software path.
  let software: { gpu: DawnGpu; featureLevel: 'core' | 'compatibility'; report: GpuAdapterReport } | undefined;
  for (const backend of order) {
    const featureLevel = backend === 'opengles' ? 'compatibility' : 'core';
    try {
      const gpu = dawn.create([`backend=${backend}`]);
      const adapter = await gpu.requestAdapter({ featureLevel });
      if (!adapter) {
        attempts.push(`${backend}: no adapter`);
        continue;
      }
      const report = describe(adapter, backend, featureLevel);
      if (report.kind === 'software' && backend === 'vulkan' && !pinned) {
        attempts.push(`${backend}: software adapter ${report.device || report.description}, trying the next backend`);
        software ??= { gpu, featureLevel, report };
        continue;
      }
      installNavigatorGpu(dawn, gpu, featureLevel);
      return { report };
    } catch (error) {
      attempts.push(`${backend}: ${messageOf(error)}`);
    }
  }
  if (software) {
    installNavigatorGpu(dawn, software.gpu, software.featureLevel);
    return { report: software.report };
  }
  throw new GpuUnavailableError(attempts);
}

/** gpu.js asks `navigator.gpu.requestAdapter()` with no options; this one adds the feature level that worked. */
function installNavigatorGpu(dawn: DawnModule, gpu: DawnGpu, featureLevel: string): void {
  for (const [name, value] of Object.entries(Object.getOwnPropertyDescriptors(dawn.globals))) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, value);
  }
  const shim = {
    requestAdapter: (options?: Record<string, unknown>) => gpu.requestAdapter({ featureLevel, ...options }),
    getPreferredCanvasFormat: () => 'rgba8unorm',
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  };
  const current = (globalThis as { navigator?: object }).navigator;
  if (current === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: shim }, configurable: true, writable: true });
  } else {
    // Node 21+ has a navigator without `gpu`.
    Object.defineProperty(current, 'gpu', { value: shim, configurable: true, writable: true });
  }
}

function describe(adapter: DawnAdapter, backend: DawnBackend, featureLevel: 'core' | 'compatibility'): GpuAdapterReport {
  const info = adapter.info;
  const isFallbackAdapter = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const vendor = info.vendor ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const software = isFallbackAdapter || SOFTWARE_RENDERERS.test(`${vendor} ${device} ${description}`);
  return {
    backend,
    featureLevel,
    vendor,
    architecture: info.architecture ?? '',
    device,
    description,
    isFallbackAdapter,
    kind: software ? 'software' : 'hardware',
    driverLibraries: mappedDriverLibraries(),
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension,
  };
}

/** GPU driver libraries in /proc/self/maps (Linux); empty where that file cannot be read. */
export function mappedDriverLibraries(maps?: string): string[] {
  let text = maps;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/maps', 'utf8');
    } catch {
      return [];
    }
  }
  return [...new Set(text.match(DRIVER_LIBRARIES) ?? [])].sort();
}

/** One line for logs and `--explain`: `NVIDIA H100 80GB HBM3 (nvidia, hopper) via vulkan, hardware`. */
export function adapterSummary(report: GpuAdapterReport): string {
  const name = report.device || report.description || 'unnamed adapter';
  const maker = [report.vendor, report.architecture].filter((part) => part !== '').join(', ');
  return `${name}${maker ? ` (${maker})` : ''} via ${report.backend}, ${report.kind}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
