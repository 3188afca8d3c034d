import { describe, expect, it } from 'vitest';
import { acquireAdapter, adapterSummary, GpuUnavailableError, mappedDriverLibraries, type GpuAdapterReport } from './gpu-adapter.ts';

describe('mappedDriverLibraries', () => {
  it('lists the NVIDIA and CUDA libraries of a maps file once each, sorted', () => {
    const maps = [
      '7f00-7f10 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libnvidia-glcore.so.550.54.15',
      '7f10-7f20 r--p 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libnvidia-glcore.so.550.54.15',
      '7f20-7f30 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libcuda.so.1',
      '7f30-7f40 r-xp 00000000 08:01 3 /usr/lib/x86_64-linux-gnu/libEGL_mesa.so.0.0.0',
    ].join('\n');
    expect(mappedDriverLibraries(maps)).toEqual(['libcuda.so.1', 'libnvidia-glcore.so.550.54.15']);
    expect(mappedDriverLibraries('7f30-7f40 r-xp 0 08:01 3 /usr/lib/libLLVM-15.so.1')).toEqual([]);
  });
});

describe('adapterSummary', () => {
  it('names the device, the maker and whether it is hardware', () => {
    const report = {
      backend: 'vulkan', featureLevel: 'core', vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3',
      description: '', isFallbackAdapter: false, kind: 'hardware', driverLibraries: ['libnvidia-glcore.so.550'],
      maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30, maxComputeWorkgroupsPerDimension: 65535,
    } satisfies GpuAdapterReport;
    expect(adapterSummary(report)).toBe('NVIDIA H100 80GB HBM3 (nvidia, hopper) via vulkan, hardware');
  });
});

describe('acquireAdapter', () => {
  it('refuses an unknown NEXUS_GPU_BACKEND, naming the choices', async () => {
    await expect(acquireAdapter({ NEXUS_GPU_BACKEND: 'd3d12' })).rejects.toThrow(GpuUnavailableError);
    await expect(acquireAdapter({ NEXUS_GPU_BACKEND: 'd3d12' })).rejects.toThrow(
      'no usable WebGPU adapter: NEXUS_GPU_BACKEND must be one of vulkan, opengles, got "d3d12"',
    );
  });

  it('finds an adapter on this machine (Mesa llvmpipe through OpenGL ES where there is no GPU) and says which', async () => {
    const { report } = await acquireAdapter({});
    expect(['vulkan', 'opengles']).toContain(report.backend);
    if (/llvmpipe|lavapipe|swiftshader/i.test(`${report.device} ${report.description}`)) expect(report.kind).toBe('software');
    expect(report.maxStorageBufferBindingSize).toBeGreaterThan(0);
  });
});
