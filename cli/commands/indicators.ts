import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { ConfigError } from '../../engine/config-error.ts';
import { BarCsvError, parseBarCsv } from '../../engine/batch/bars-csv.ts';
import { calibrationTable, describeWorkload } from '../../engine/batch/calibration.ts';
import {
  BackendUnavailableError,
  backendChoices,
  calibrationFor,
  createBackend,
  type AutoExplanation,
  type BackendChoice,
} from '../../engine/batch/create-backend.ts';
import { adapterSummary, type GpuAdapterReport } from '../../engine/batch/gpu-adapter.ts';
import {
  IndicatorComputeError,
  computeIndicators,
  parseIndicatorList,
  type IndicatorRequest,
  type OutputSeries,
} from '../../engine/batch/compute.ts';
import { UsageError, flag, helpText, parseArgs, str, type OptionSpec } from '../lib/args.ts';

const formats = ['csv', 'json'] as const;
type OutputFormat = (typeof formats)[number];

const options = {
  input: { type: 'string', help: 'CSV of bars: header time,open,high,low,close,volume in any order; other columns are ignored (required)' },
  indicators: { type: 'string', help: 'comma-separated shorthands, e.g. sma:20,macd:12:26:9,bbands:20:2 (required)' },
  format: { type: 'string', help: 'csv or json', default: 'csv' },
  output: { type: 'string', help: 'write to this file instead of stdout' },
  backend: { type: 'string', help: `${backendChoices.join(' | ')}; auto picks by the measured calibration`, default: 'auto' },
  explain: { type: 'boolean', help: 'print the backend calibration (ns/point per backend and workload) and the choice to stderr; without --input, only that' },
  recalibrate: { type: 'boolean', help: 'measure the backends again instead of using the cached calibration' },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const indicatorsHelp = helpText(
  'nexus indicators --input bars.csv --indicators sma:20,rsi:14 [options]',
  'Computes indicators over a CSV of bars with a batch backend and writes one series per output, aligned with\n' +
    'the input rows (TA-Lib warm-up: empty cells in CSV, null in JSON).\n' +
    '\n' +
    'Input: a header naming time,open,high,low,close,volume in any order (case-insensitive); other columns are\n' +
    'ignored. time is copied through as written. Numbers must be finite decimals, high >= low, volume >= 0; an\n' +
    'error names the data row, the file line and the column. A header with no rows gives an empty result.\n' +
    '\n' +
    'Shorthands: sma|ema|rsi|atr|vwap:period, macd:fast:slow:signal, bbands:period[:stdDev=2],\n' +
    'stoch[:fastK=14[:slowK=3[:slowD=3]]]. Output keys are the canonical shorthand with every parameter\n' +
    '(bbands:20 -> bbands:20:2), plus .macd/.signal/.histogram, .upper/.middle/.lower, .slowK/.slowD.\n' +
    '\n' +
    'CSV: time,<key>,... one line per bar. JSON: {"rows":N,"backend":"js","time":[...],"<key>":[...],...}.\n' +
    '\n' +
    'Backends: js (reference), wasm (AssemblyScript), workers (thread pool; single series run as js), gpu (gpu.js\n' +
    'on WebGPU: f32, within 2e-6 x price or 0.01 on RSI/stoch of js). auto picks the fastest for this many bars\n' +
    'from a calibration measured on first use and cached (~/.cache/nexus/indicator-calibration.json,\n' +
    'NEXUS_CALIBRATION_FILE); --explain shows it.\n' +
    'Exit codes: 0 written, 1 bad input data (or a period longer than the input), 2 usage error.',
  options,
);

export interface IndicatorsInvocation {
  readonly input: string;
  readonly requests: readonly IndicatorRequest[];
  readonly format: OutputFormat;
  readonly output: string | undefined;
  readonly backend: BackendChoice;
  readonly explain: boolean;
  readonly recalibrate: boolean;
}

/** Reads the command line; throws UsageError (or ConfigError from a bad shorthand) naming the option. */
export function parseIndicatorsArgs(
  argv: readonly string[],
): { kind: 'help' } | { kind: 'explain'; recalibrate: boolean } | { kind: 'run'; invocation: IndicatorsInvocation } {
  const values = parseArgs(argv, options);
  if (flag(values, 'help')) return { kind: 'help' };
  const explain = flag(values, 'explain');
  const recalibrate = flag(values, 'recalibrate');
  const input = str(values, 'input');
  if (explain && input === undefined) return { kind: 'explain', recalibrate };
  if (input === undefined || input === '') throw new UsageError('--input is required (a CSV of bars)');
  const list = str(values, 'indicators');
  if (list === undefined) throw new UsageError('--indicators is required (e.g. sma:20,macd:12:26:9)');
  const format = str(values, 'format') ?? 'csv';
  if (!(formats as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be ${formats.join(' or ')}, got ${JSON.stringify(format)}`);
  }
  const backend = str(values, 'backend') ?? 'auto';
  if (!(backendChoices as readonly string[]).includes(backend)) {
    throw new UsageError(`--backend must be one of ${backendChoices.join(', ')}, got ${JSON.stringify(backend)}`);
  }
  const output = str(values, 'output');
  if (output === '') throw new UsageError('--output is empty');
  return {
    kind: 'run',
    invocation: {
      input,
      requests: parseIndicatorList(list, '--indicators'),
      format: format as OutputFormat,
      output,
      backend: backend as BackendChoice,
      explain,
      recalibrate,
    },
  };
}

/** Where the command writes; process.stdout and process.stderr unless a test passes its own. */
export interface CommandStreams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** A chunk holds about this many characters: big enough to amortise writes, small enough to stream 1M rows. */
const CHUNK_CHARS = 1 << 16;

/**
 * `time,<key>,...` then one line per bar: the time as read, each value as the shortest decimal that reads back
 * to the same double (String(number)), an empty cell for NaN. Yields chunks of about CHUNK_CHARS characters.
 */
export function* csvChunks(time: readonly string[], series: readonly OutputSeries[]): Generator<string> {
  let chunk = ['time', ...series.map((s) => s.key)].join(',') + '\n';
  const columns = series.map((s) => s.values);
  for (let row = 0; row < time.length; row++) {
    let line = time[row];
    for (const values of columns) {
      const v = values[row];
      line += v === v ? ',' + String(v) : ',';
    }
    chunk += line + '\n';
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/**
 * One JSON object, one member per line: `{"rows":N,"backend":"js",` then `"time":[...]` and one array per key,
 * numbers as JSON.stringify writes them (exact doubles) and null for NaN. Yields chunks of about CHUNK_CHARS.
 */
export function* jsonChunks(time: readonly string[], series: readonly OutputSeries[], backend: string): Generator<string> {
  let chunk = `{"rows":${time.length},"backend":${JSON.stringify(backend)},\n"time":[`;
  for (let row = 0; row < time.length; row++) {
    chunk += (row === 0 ? '' : ',') + JSON.stringify(time[row]);
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  chunk += ']';
  for (const { key, values } of series) {
    chunk += `,\n${JSON.stringify(key)}:[`;
    for (let row = 0; row < values.length; row++) {
      const v = values[row];
      chunk += (row === 0 ? '' : ',') + (v === v ? String(v) : 'null');
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
    chunk += ']';
  }
  yield chunk + '\n}\n';
}

function writeChunk(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

/** Writes every chunk, one in flight at a time, so memory stays at one chunk whatever the row count. */
async function writeAll(stream: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  // Errors reach the write callbacks; this listener only keeps an 'error' event from being unhandled.
  const ignore = (): void => undefined;
  stream.on('error', ignore);
  try {
    for (const chunk of chunks) await writeChunk(stream, chunk);
  } finally {
    stream.off('error', ignore);
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The calibration `auto` decides from, as --explain prints it. */
function explanation(found: Omit<AutoExplanation, 'decision'>): string {
  const source = found.cached ? `cached in ${found.path}` : `measured now, cached in ${found.path}`;
  const cacheNote = found.cacheError ? ` (not cached: ${found.cacheError})` : '';
  return `indicator backend calibration, ${source}${cacheNote}\n${calibrationTable(found.calibration)}`;
}

function gpuLine(backend: { name: string }): string {
  const adapter = (backend as { adapter?: GpuAdapterReport }).adapter;
  return adapter ? `, adapter ${adapterSummary(adapter)}` : '';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `nexus indicators`: reads the whole CSV (validated before anything is computed), computes every indicator
 * with the chosen backend, then streams the result to stdout or --output. Returns the exit code and reports
 * every expected failure on stderr as one line; only a bug throws.
 */
export async function indicatorsCommand(
  argv: readonly string[],
  streams: CommandStreams = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const fail = (code: number, message: string): number => {
    streams.stderr.write(`nexus indicators: ${message}\n`);
    return code;
  };
  let parsed: ReturnType<typeof parseIndicatorsArgs>;
  try {
    parsed = parseIndicatorsArgs(argv);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) return fail(2, error.message);
    throw error;
  }
  if (parsed.kind === 'help') {
    streams.stdout.write(indicatorsHelp + '\n');
    return 0;
  }
  if (parsed.kind === 'explain') {
    const found = await calibrationFor({ recalibrate: parsed.recalibrate });
    streams.stderr.write(explanation(found) + '\n');
    return 0;
  }
  const { input, requests, format, output, backend: choice, explain, recalibrate } = parsed.invocation;

  let text: string;
  try {
    text = await readFile(input, 'utf8');
  } catch (error) {
    return fail(1, `cannot read ${input}: ${messageOf(error)}`);
  }
  let bars: ReturnType<typeof parseBarCsv>;
  try {
    bars = parseBarCsv(text, input);
  } catch (error) {
    if (error instanceof BarCsvError) return fail(1, error.message);
    throw error;
  }

  let backend: Awaited<ReturnType<typeof createBackend>>;
  try {
    const workload = { shape: 'series' as const, symbols: 1, bars: bars.close.length };
    backend = await createBackend(choice, {
      workload,
      recalibrate,
      onDecision: (found) => {
        if (explain) streams.stderr.write(`${explanation(found)}\nfor ${describeWorkload(workload)}: ${found.decision.reason}\n`);
        if (found.fallback) streams.stderr.write(`nexus indicators: ${found.fallback}\n`);
      },
    });
    if (explain && choice !== 'auto') streams.stderr.write(`backend ${choice} as asked${gpuLine(backend)}\n`);
  } catch (error) {
    if (error instanceof BackendUnavailableError) return fail(2, error.message);
    throw error;
  }
  let series: OutputSeries[];
  try {
    series = await computeIndicators(bars, requests, backend);
  } catch (error) {
    if (error instanceof IndicatorComputeError) return fail(1, error.message);
    throw error;
  } finally {
    await backend.close();
  }

  const chunks = format === 'json' ? jsonChunks(bars.time, series, backend.name) : csvChunks(bars.time, series);
  if (output === undefined) {
    try {
      await writeAll(streams.stdout, chunks);
    } catch (error) {
      // The reader went away (`| head`): what it wanted was written.
      if (errorCode(error) === 'EPIPE') return 0;
      return fail(1, `cannot write to stdout: ${messageOf(error)}`);
    }
    return 0;
  }
  const file = createWriteStream(output);
  try {
    await writeAll(file, chunks);
    file.end();
    await finished(file);
  } catch (error) {
    file.destroy();
    return fail(1, `cannot write ${output}: ${messageOf(error)}`);
  }
  return 0;
}
