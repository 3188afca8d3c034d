/**
 * A small, strict, pure parser of the Prometheus text exposition format (version 0.0.4), enough for the latency
 * gate to read the engine's gauges from a pod's /metrics body.
 *
 *   line := blank | "#" comment | sample
 *   sample := name [ "{" [ label { "," label } [ "," ] ] "}" ] value [ timestamp ]
 *   label := label_name "=" '"' escaped value '"'        escapes: \\  \"  \n   (anything else is an error)
 *   value := Go float: decimal or exponent form, NaN, +Inf, -Inf, Inf (any letter case, as Prometheus reads them)
 *
 * Guarantees:
 * - Pure, never throws: the result is every sample in body order, or an error naming the first bad line (its
 *   1-based number and its text, shortened) and what is wrong with it.
 * - Strict: one malformed sample line fails the whole body. A truncated or corrupt scrape yields no figures
 *   at all rather than a subset that may be missing the very gauge that matters.
 * - Comments, HELP and TYPE lines carry no samples and are skipped unread; the gate looks gauges up by name.
 * - Blanks (spaces, tabs) are allowed between tokens, as Prometheus allows them; a carriage return is not.
 * - A label name repeated within one sample is an error. Two samples with the same name and labels are both
 *   returned; `findSamples` lets the caller decide (the gate treats it as an error).
 */

export interface ExpositionSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** NaN and ±Infinity are kept as such. */
  readonly value: number;
  /** Milliseconds since the epoch when the line carries a timestamp. */
  readonly timestampMs?: number;
}

export type ExpositionResult =
  | { readonly ok: true; readonly samples: readonly ExpositionSample[] }
  | { readonly ok: false; readonly error: string };

/** Parses a whole exposition body. See the module comment for the grammar and the guarantees. */
export function parseExposition(text: string): ExpositionResult {
  const samples: ExpositionSample[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    if (isBlankOrComment(line)) continue;
    const parsed = parseSampleLine(line);
    if (typeof parsed === 'string') return { ok: false, error: `line ${index + 1} ${quoteLine(line)}: ${parsed}` };
    samples.push(parsed);
  }
  return { ok: true, samples };
}

/** The samples named `name` whose labels include every pair of `labels` (extra labels are allowed). */
export function findSamples(
  samples: readonly ExpositionSample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): ExpositionSample[] {
  const wanted = Object.entries(labels);
  return samples.filter((sample) => sample.name === name && wanted.every(([key, value]) => sample.labels[key] === value));
}

/**
 * Parses a sample value the way Prometheus does (Go's strconv.ParseFloat): decimal or exponent notation, or
 * NaN / Inf / Infinity with an optional sign, in any letter case. Returns undefined for anything else, e.g. "",
 * "0x10", "1_000" or "12abc" (which JavaScript's Number() would partly accept).
 * Examples: "42" -> 42, "-1.5e-3" -> -0.0015, "Nan" -> NaN (prom-client's spelling), "+Inf" -> Infinity.
 */
export function parseSampleValue(text: string): number | undefined {
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (/^[+-]?nan$/i.test(text)) return Number.NaN;
  const infinity = /^([+-]?)inf(?:inity)?$/i.exec(text);
  if (infinity) return infinity[1] === '-' ? -Infinity : Infinity;
  return undefined;
}

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const BLANKS = /[ \t]*/y;
const TOKEN = /[^ \t]+/y;

function isBlankOrComment(line: string): boolean {
  const start = line.search(/[^ \t]/);
  return start === -1 || line[start] === '#';
}

function quoteLine(line: string): string {
  return JSON.stringify(line.length > 120 ? `${line.slice(0, 117)}...` : line);
}

/** A cursor over one line; every read either advances past what it matched or reports what it expected. */
class LineCursor {
  position = 0;

  constructor(readonly line: string) {}

  get atEnd(): boolean {
    return this.position >= this.line.length;
  }

  peek(): string {
    return this.line[this.position] ?? '';
  }

  /** Reads the sticky pattern at the cursor; undefined (and no move) when it does not match or matches nothing. */
  read(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.position;
    const match = pattern.exec(this.line);
    if (match === null || match[0] === '') return undefined;
    this.position += match[0].length;
    return match[0];
  }

  skipBlanks(): void {
    this.read(BLANKS);
  }
}

/** One sample line, or a message saying what is wrong with it. */
function parseSampleLine(line: string): ExpositionSample | string {
  const cursor = new LineCursor(line);
  cursor.skipBlanks();
  const name = cursor.read(METRIC_NAME);
  if (name === undefined) return 'expected a metric name';
  cursor.skipBlanks();
  let labels: Record<string, string> = {};
  if (cursor.peek() === '{') {
    const parsed = parseLabels(cursor);
    if (typeof parsed === 'string') return parsed;
    labels = parsed;
  }
  cursor.skipBlanks();
  const valueText = cursor.read(TOKEN);
  if (valueText === undefined) return `expected a value after ${name}`;
  const value = parseSampleValue(valueText);
  if (value === undefined) return `bad value ${JSON.stringify(valueText)}`;
  cursor.skipBlanks();
  const timestampText = cursor.read(TOKEN);
  cursor.skipBlanks();
  if (!cursor.atEnd) return `unexpected ${JSON.stringify(line.slice(cursor.position))} after the timestamp`;
  if (timestampText === undefined) return { name, labels, value };
  if (!/^-?\d+$/.test(timestampText)) return `bad timestamp ${JSON.stringify(timestampText)} (integer milliseconds expected)`;
  return { name, labels, value, timestampMs: Number(timestampText) };
}

/** Reads `{a="1",b="2",}` from the cursor at its "{". */
function parseLabels(cursor: LineCursor): Record<string, string> | string {
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  cursor.position++; // the "{"
  for (;;) {
    cursor.skipBlanks();
    if (cursor.peek() === '}') break;
    const labelName = cursor.read(LABEL_NAME);
    if (labelName === undefined) return `expected a label name or "}" at column ${cursor.position + 1}`;
    if (Object.hasOwn(labels, labelName)) return `label ${labelName} appears twice`;
    cursor.skipBlanks();
    if (cursor.peek() !== '=') return `expected "=" after label ${labelName}`;
    cursor.position++;
    cursor.skipBlanks();
    const labelValue = readQuoted(cursor);
    if (labelValue === undefined) return `bad or unterminated value of label ${labelName}`;
    labels[labelName] = labelValue;
    cursor.skipBlanks();
    if (cursor.peek() === ',') {
      cursor.position++;
      continue;
    }
    if (cursor.peek() !== '}') return `expected "," or "}" after label ${labelName}`;
    break;
  }
  cursor.position++; // the "}"
  return { ...labels };
}

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', '"': '"', n: '\n' };

/** Reads a double-quoted label value with the format's three escapes; undefined when malformed. */
function readQuoted(cursor: LineCursor): string | undefined {
  const { line } = cursor;
  if (line[cursor.position] !== '"') return undefined;
  let value = '';
  for (let i = cursor.position + 1; i < line.length; i++) {
    const char = line[i];
    if (char === '"') {
      cursor.position = i + 1;
      return value;
    }
    if (char !== '\\') {
      value += char;
      continue;
    }
    const escaped = ESCAPES[line[i + 1] ?? ''];
    if (escaped === undefined) return undefined;
    value += escaped;
    i++;
  }
  return undefined;
}
