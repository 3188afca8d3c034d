import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { bbandsBatch } from '../../engine/indicators/bbands.ts';
import { macdBatch } from '../../engine/indicators/macd.ts';
import { randomWalkBars } from '../../engine/batch/series.ts';
import { smaBatch } from '../../engine/indicators/sma.ts';
import { stochBatch } from '../../engine/indicators/stoch.ts';
import { CALIBRATION_VERSION, machineKey, type Calibration } from '../../engine/batch/calibration.ts';
import { csvChunks, indicatorsCommand, indicatorsHelp } from './indicators.ts';

const dir = mkdtempSync(join(tmpdir(), 'nexus-indicators-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// `auto` decides from the calibration cache: give this file its own, in which js is the fastest on series (the
// measuring itself is tested in create-backend.test.ts), so that the tests neither measure nor touch ~/.cache.
const calibrationFile = join(dir, 'calibration.json');
const savedCalibrationFile = process.env.NEXUS_CALIBRATION_FILE;
process.env.NEXUS_CALIBRATION_FILE = calibrationFile;
afterAll(() => {
  if (savedCalibrationFile === undefined) delete process.env.NEXUS_CALIBRATION_FILE;
  else process.env.NEXUS_CALIBRATION_FILE = savedCalibrationFile;
});
const calibration: Calibration = {
  version: CALIBRATION_VERSION,
  machine: machineKey(),
  measuredAt: '2026-11-24T00:00:00.000Z',
  points: [
    { backend: 'js', shape: 'series', symbols: 1, bars: 20_000, nsPerPoint: 2 },
    { backend: 'wasm', shape: 'series', symbols: 1, bars: 20_000, nsPerPoint: 3 },
    { backend: 'gpu', shape: 'series', symbols: 1, bars: 20_000, nsPerPoint: 40 },
  ],
  unavailable: { workers: 'example reason' },
};
writeFileSync(calibrationFile, JSON.stringify(calibration));

const bars = randomWalkBars(60, 11);
const time = Array.from({ length: 60 }, (_, i) => `2024-01-01T00:${String(i).padStart(2, '0')}:00Z`);

/** The bars as a CSV with the columns shuffled and an extra `symbol` column, written to `name` in the temp dir. */
function writeBars(name: string, count = 60): string {
  const lines = ['symbol,close,time,volume,low,open,high'];
  for (let i = 0; i < count; i++) {
    lines.push(`X,${bars.close[i]},${time[i]},${bars.volume[i]},${bars.low[i]},${bars.close[i]},${bars.high[i]}`);
  }
  const path = join(dir, name);
  writeFileSync(path, lines.join('\r\n') + '\r\n');
  return path;
}

function capture(): { stream: Writable; chunks: string[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { stream, chunks, text: () => chunks.join('') };
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; writes: number }> {
  const stdout = capture();
  const stderr = capture();
  const code = await indicatorsCommand(argv, { stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text(), writes: stdout.chunks.length };
}

const spec = 'sma:20,macd:5:10:4,bbands:20,stoch';
const keys = [
  'sma:20',
  'macd:5:10:4.macd', 'macd:5:10:4.signal', 'macd:5:10:4.histogram',
  'bbands:20:2.upper', 'bbands:20:2.middle', 'bbands:20:2.lower',
  'stoch:14:3:3.slowK', 'stoch:14:3:3.slowD',
];

function expectedSeries(): Float64Array[] {
  const { high, low, close } = bars;
  const macd = macdBatch(close, 5, 10, 4);
  const bb = bbandsBatch(close, 20, 2);
  const stoch = stochBatch(high, low, close, 14, 3, 3);
  return [smaBatch(close, 20), macd.macd, macd.signal, macd.histogram, bb.upper, bb.middle, bb.lower, stoch.slowK, stoch.slowD];
}

describe('nexus indicators', () => {
  it('writes JSON to stdout: rows, backend, time and one exact array per output key, null during warm-up', async () => {
    const input = writeBars('json.csv');
    const result = await run(['--input', input, '--indicators', spec, '--format', 'json', '--backend', 'js']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['rows', 'backend', 'time', ...keys]);
    expect(parsed.rows).toBe(60);
    expect(parsed.backend).toBe('js');
    expect(parsed.time).toEqual(time);
    const expected = expectedSeries();
    keys.forEach((key, k) => {
      expect(parsed[key], key).toEqual([...expected[k]].map((v) => (Number.isNaN(v) ? null : v)));
    });
    expect((parsed['sma:20'] as unknown[]).slice(0, 20).map((v) => v === null)).toEqual([...Array(19).fill(true), false]);
    expect(result.stdout.split('\n')[0]).toBe('{"rows":60,"backend":"js",');
  });

  it('writes CSV to --output: the time column, one column per key, empty cells during warm-up', async () => {
    const input = writeBars('csv.csv');
    const output = join(dir, 'out.csv');
    const result = await run(['--input', input, '--indicators', spec, '--output', output]);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '', writes: 0 });
    const lines = readFileSync(output, 'utf8').split('\n');
    expect(lines).toHaveLength(62);
    expect(lines[61]).toBe('');
    expect(lines[0]).toBe(['time', ...keys].join(','));
    expect(lines[1]).toBe(`${time[0]},,,,,,,,,`);
    const expected = expectedSeries();
    for (let row = 0; row < 60; row++) {
      const cells = lines[row + 1].split(',');
      expect(cells[0]).toBe(time[row]);
      keys.forEach((key, k) => {
        const v = expected[k][row];
        expect(cells[k + 1], `${key} row ${row}`).toBe(Number.isNaN(v) ? '' : String(v));
        if (!Number.isNaN(v)) expect(Number(cells[k + 1])).toBe(v);
      });
    }
  });

  it('runs the auto backend as the calibration decides and says so in the JSON', async () => {
    const input = writeBars('auto.csv');
    const result = await run(['--input', input, '--indicators', 'sma:3', '--format', 'json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: 60, backend: 'js' });
  });

  it('prints the calibration and the decision to stderr with --explain, the data unchanged on stdout', async () => {
    const input = writeBars('explain.csv');
    const plain = await run(['--input', input, '--indicators', 'sma:3']);
    const explained = await run(['--input', input, '--indicators', 'sma:3', '--explain']);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toBe(plain.stdout);
    expect(explained.stderr).toBe(
      `indicator backend calibration, cached in ${calibrationFile}\n` +
        `measured 2026-11-24T00:00:00.000Z on ${machineKey()}\n` +
        'workload             js ns/pt  wasm ns/pt  gpu ns/pt\n' +
        'series 20000 bars        2.00        3.00       40.0\n' +
        'series 400000 bars          -           -          -\n' +
        'panel 64x2000               -           -          -\n' +
        'panel 256x4000              -           -          -\n' +
        'correlation 128x64          -           -          -\n' +
        'correlation 512x256         -           -          -\n' +
        'workers: unavailable (example reason)\n' +
        'for series 60 bars: js: 2.00 ns/point on series 20000 bars (wasm 3.00, gpu 40.0)\n',
    );
    const only = await run(['--explain']);
    expect(only.code).toBe(0);
    expect(only.stdout).toBe('');
    expect(only.stderr).toContain('workers: unavailable (example reason)');
  });

  it('writes just the header (CSV) or empty arrays (JSON) for a header with no rows', async () => {
    const input = join(dir, 'empty.csv');
    writeFileSync(input, 'time,open,high,low,close,volume\n');
    expect((await run(['--input', input, '--indicators', 'sma:20,bbands:5'])).stdout).toBe(
      'time,sma:20,bbands:5:2.upper,bbands:5:2.middle,bbands:5:2.lower\n',
    );
    const json = await run(['--input', input, '--indicators', 'sma:20', '--format', 'json']);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe('{"rows":0,"backend":"js",\n"time":[],\n"sma:20":[]\n}\n');
  });

  it('streams large outputs in chunks rather than one string', async () => {
    const big = randomWalkBars(20_000, 5);
    const names = Array.from({ length: 20_000 }, (_, i) => String(i));
    const series = [{ key: 'sma:20', indicator: 'sma:20', values: smaBatch(big.close, 20) }];
    const chunks = [...csvChunks(names, series)];
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) expect(chunk.length).toBeLessThan((1 << 16) + 100);
    expect(chunks.join('').split('\n')).toHaveLength(20_002);
  });

  it('exits 1 with the row and column for bad bars, writing nothing', async () => {
    const input = join(dir, 'bad.csv');
    writeFileSync(input, 'time,open,high,low,close,volume\nt1,1,2,1,2,3\nt2,1,2,1,oops,3\n');
    const result = await run(['--input', input, '--indicators', 'sma:1']);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `nexus indicators: ${input}: data row 2 (line 3), column close: must be a number, got "oops"\n`,
      writes: 0,
    });
  });

  it('exits 1 naming the indicator when a period is longer than the input, and for a missing file', async () => {
    const input = writeBars('short.csv', 10);
    const result = await run(['--input', input, '--indicators', 'sma:5,sma:20']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('nexus indicators: sma:20: period (20) is larger than the input length (10); backend js\n');
    const missing = await run(['--input', join(dir, 'nope.csv'), '--indicators', 'sma:5']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`nexus indicators: cannot read ${join(dir, 'nope.csv')}: ENOENT`);
  });

  it('exits 1 when --output cannot be written', async () => {
    const input = writeBars('out-fail.csv', 10);
    const result = await run(['--input', input, '--indicators', 'sma:5', '--output', join(dir, 'no-such-dir', 'x.csv')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`nexus indicators: cannot write ${join(dir, 'no-such-dir', 'x.csv')}: ENOENT`);
  });

  it.each([
    ['no --input', ['--indicators', 'sma:5'], '--input is required (a CSV of bars)'],
    ['no --indicators', ['--input', 'x.csv'], '--indicators is required (e.g. sma:20,macd:12:26:9)'],
    ['a bad shorthand', ['--input', 'x.csv', '--indicators', 'sma:5,rsi:0'], '--indicators: "rsi:0": period must be an integer >= 1, got 0'],
    ['an unknown format', ['--input', 'x.csv', '--indicators', 'sma:5', '--format', 'xml'], '--format must be csv or json, got "xml"'],
    ['an unknown backend', ['--input', 'x.csv', '--indicators', 'sma:5', '--backend', 'cuda'], '--backend must be one of js, wasm, gpu, workers, auto, got "cuda"'],
    ['an unknown option', ['--input', 'x.csv', '--indicators', 'sma:5', '--precision', '3'], 'unknown option --precision (see --help)'],
  ])('exits 2 for %s', async (_what, argv, message) => {
    const result = await run(argv);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `nexus indicators: ${message}\n`, writes: 0 });
  });

  it('computes on the GPU backend (software adapter in CI) within its f32 tolerance of js', async () => {
    const input = writeBars('gpu.csv');
    const gpu = await run(['--input', input, '--indicators', 'sma:20,rsi:14', '--format', 'json', '--backend', 'gpu', '--explain']);
    expect(gpu.code).toBe(0);
    expect(gpu.stderr).toMatch(/^backend gpu as asked, adapter .* via (vulkan|opengles), (hardware|software)\n$/);
    const js = await run(['--input', input, '--indicators', 'sma:20,rsi:14', '--format', 'json', '--backend', 'js']);
    const a = JSON.parse(gpu.stdout) as Record<string, (number | null)[]>;
    const b = JSON.parse(js.stdout) as Record<string, (number | null)[]>;
    expect(a.backend).toBe('gpu');
    for (const key of ['sma:20', 'rsi:14']) {
      a[key].forEach((v, i) => {
        const expected = b[key][i];
        if (expected === null) expect(v).toBeNull();
        else expect(Math.abs((v as number) - expected)).toBeLessThan(key === 'rsi:14' ? 1e-2 : 2e-6 * 200);
      });
    }
  });

  it('exits 2 naming the reason when the gpu backend cannot be had', async () => {
    const input = writeBars('gpu-pinned.csv', 10);
    const saved = process.env.NEXUS_GPU_BACKEND;
    process.env.NEXUS_GPU_BACKEND = 'cuda';
    try {
      const result = await run(['--input', input, '--indicators', 'sma:5', '--backend', 'gpu']);
      expect(result).toEqual({
        code: 2, stdout: '', writes: 0,
        stderr: 'nexus indicators: backend gpu is not available: no usable WebGPU adapter: NEXUS_GPU_BACKEND must be one of vulkan, opengles, got "cuda"\n',
      });
    } finally {
      if (saved === undefined) delete process.env.NEXUS_GPU_BACKEND;
      else process.env.NEXUS_GPU_BACKEND = saved;
    }
  });

  it('writes the same CSV with --backend workers as with js', async () => {
    const input = writeBars('workers.csv');
    const workers = await run(['--input', input, '--indicators', spec, '--backend', 'workers']);
    const js = await run(['--input', input, '--indicators', spec, '--backend', 'js']);
    expect(workers.code).toBe(0);
    expect(workers.stdout).toBe(js.stdout);
  });

  it('exits 0 quietly when the reader of stdout goes away', async () => {
    const input = writeBars('epipe.csv');
    const closed = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const stderr = capture();
    expect(await indicatorsCommand(['--input', input, '--indicators', 'sma:5'], { stdout: closed, stderr: stderr.stream })).toBe(0);
    expect(stderr.text()).toBe('');
  });

  it('prints help that says which columns it reads and that others are ignored', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(indicatorsHelp + '\n');
    expect(indicatorsHelp).toContain('other columns are ignored');
    expect(indicatorsHelp).toContain('--backend <value>');
  });
});
