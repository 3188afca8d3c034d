import { describe, expect, it } from 'vitest';
import {
  decodeControlRequest,
  decodeControlResponse,
  encodeControlRequest,
  encodeControlResponse,
} from './control-codec.ts';
import { FrameHeader, decodeFrameHeader } from './frame-header.ts';
import type { FrameWriter } from './frame-writer.ts';
import {
  DECODE_OK,
  HEADER_BYTES,
  MAX_RECORDS_PER_FRAME,
  MessageType,
  ORDER_BYTES,
  ORDER_WIRE_VERSION,
  WIRE_VERSION,
  REJECT_REASON_SLOTS,
  RejectReason,
  SIGNAL_BYTES,
  TICK_BYTES,
  rejectReasonNames,
} from './layout.ts';
import { OrderFrameWriter, OrderSlot, decodeOrder } from './order-codec.ts';
import { SignalFrameWriter, SignalSlot, decodeSignal } from './signal-codec.ts';
import { TickFrameWriter, TickSlot, decodeTick } from './tick-codec.ts';
import { MAX_EXACT_U64, readU64 } from './u64.ts';
import { Mulberry32 } from '../random/mulberry32.ts';

/**
 * Randomised robustness test: a million frames, ~30% random bytes and ~70% mutated valid frames, through every
 * decoder. Properties: no decoder throws; every result is ok or a reject code the decoder may produce; every frame
 * accepted whole re-encodes to the same bytes, except reserved bytes (written 0) and u64 fields above 2^53 (which
 * must then hold the correctly rounded value). Seeded, so a failure reproduces; the first failures are reported.
 */

const FRAMES = 1_000_000;
const SEED = 0x5eed_2026;

/** Reproducible u32s (mulberry32, engine/random). */
function mulberry32(seed: number): () => number {
  const rng = new Mulberry32(seed);
  return () => rng.nextU32();
}

interface RecordCodec {
  name: string;
  messageType: number;
  /** The version byte of its frames. */
  version: number;
  recordBytes: number;
  /** Byte offsets within a record that are reserved (ignored on read, written 0). */
  reserved: readonly number[];
  /** Byte offsets within a record of u64 fields. */
  u64Fields: readonly number[];
  writer: FrameWriter;
  decode(frame: Uint8Array, index: number, header: FrameHeader): number;
  reencode(): void;
  appendValid(next: () => number): void;
  /** Sets the enumerated bytes of the record at `off` to valid values, so random floats get validated. */
  fixEnums(work: Uint8Array, off: number, next: () => number): void;
}

const FRAME_REASONS: readonly number[] = [
  RejectReason.Truncated,
  RejectReason.BadLength,
  RejectReason.UnknownVersion,
  RejectReason.UnexpectedType,
  RejectReason.EmptyFrame,
  RejectReason.TooManyRecords,
];
const RECORD_REASONS: readonly number[] = [RejectReason.BadPrice, RejectReason.BadSize, RejectReason.UnknownKind];
const CONTROL_REASONS: readonly number[] = [
  RejectReason.Truncated,
  RejectReason.BadLength,
  RejectReason.UnknownVersion,
  RejectReason.UnexpectedType,
  RejectReason.UnknownKind,
  RejectReason.BadBody,
];

function randomU64(next: () => number): number {
  switch (next() & 7) {
    case 0:
      return 0;
    case 1:
      return MAX_EXACT_U64;
    case 2:
      return 1.7e18 + (next() & 0xffff) * 256; // epoch ns: above 2^53 but an exact double
    default:
      return (next() & 0x1fffff) * 4294967296 + next();
  }
}

function randomPrice(next: () => number): number {
  switch (next() & 7) {
    case 0:
      return Number.MIN_VALUE;
    case 1:
      return Number.MAX_VALUE;
    case 2:
      return 1e-300;
    default:
      return 1 + next() / 1000;
  }
}

function randomSize(next: () => number): number {
  switch (next() & 7) {
    case 0:
      return 0;
    case 1:
      return -0;
    case 2:
      return Number.MAX_VALUE;
    default:
      return next() / 4096;
  }
}

function makeCodecs(): RecordCodec[] {
  const tick = new TickSlot();
  const signal = new SignalSlot();
  const order = new OrderSlot();
  const ticks = new TickFrameWriter(MAX_RECORDS_PER_FRAME);
  const signals = new SignalFrameWriter(MAX_RECORDS_PER_FRAME);
  const orders = new OrderFrameWriter(MAX_RECORDS_PER_FRAME);
  return [
    {
      name: 'tick',
      messageType: MessageType.MarketDataBatch,
      version: WIRE_VERSION,
      recordBytes: TICK_BYTES,
      reserved: [5, 6, 7],
      u64Fields: [24, 32],
      writer: ticks,
      decode: (frame, index, header) => decodeTick(frame, index, header, tick),
      reencode: () => ticks.appendSlot(tick),
      appendValid: (next) =>
        ticks.append(next(), 1 + (next() % 3), randomPrice(next), randomSize(next), randomU64(next), randomU64(next)),
      fixEnums: (work, off, next) => {
        work[off + 4] = 1 + (next() % 3);
      },
    },
    {
      name: 'signal',
      messageType: MessageType.SignalBatch,
      version: WIRE_VERSION,
      recordBytes: SIGNAL_BYTES,
      reserved: [7],
      u64Fields: [24, 32],
      writer: signals,
      decode: (frame, index, header) => decodeSignal(frame, index, header, signal),
      reencode: () => signals.appendSlot(signal),
      appendValid: (next) =>
        signals.append(next(), next() & 0xffff, next() & 1 ? 1 : -1, randomPrice(next), randomSize(next), randomU64(next), randomU64(next)),
      fixEnums: (work, off, next) => {
        work[off + 6] = next() & 1 ? 0x01 : 0xff;
      },
    },
    {
      name: 'order',
      messageType: MessageType.OrderBatch,
      version: ORDER_WIRE_VERSION,
      recordBytes: ORDER_BYTES,
      reserved: [54, 55],
      u64Fields: [0, 32, 40],
      writer: orders,
      decode: (frame, index, header) => decodeOrder(frame, index, header, order),
      reencode: () => orders.appendSlot(order),
      appendValid: (next) =>
        orders.append(
          randomU64(next),
          next(),
          next() & 0xffff,
          1 + (next() & 1),
          1 + (next() & 1),
          randomPrice(next),
          randomPrice(next),
          randomU64(next),
          randomU64(next),
          next() & 0xffff,
          next() >>> 0,
        ),
      fixEnums: (work, off, next) => {
        work[off + 14] = 1 + (next() & 1);
        work[off + 15] = 1 + (next() & 1);
      },
    },
  ];
}

/** Whether the u64 at `off` of `original` reads as the correctly rounded double and is above 2^53 (so may differ). */
function isRoundedU64(original: Uint8Array, off: number): boolean {
  const exact = new DataView(original.buffer, original.byteOffset + off, 8).getBigUint64(0, true);
  return exact > BigInt(MAX_EXACT_U64) && readU64(original, off) === Number(exact);
}

/** Compares a re-encoded frame with the original, allowing reserved bytes and rounded u64 fields to differ. */
function sameFrame(codec: RecordCodec, original: Uint8Array, reencoded: Uint8Array): boolean {
  if (original.length !== reencoded.length) return false;
  for (let i = 0; i < original.length; i++) {
    if (original[i] === reencoded[i]) continue;
    if (i < HEADER_BYTES) {
      const field = i < 8 ? -1 : i < 16 ? 8 : 16;
      if (field < 0 || !isRoundedU64(original, field)) return false;
      continue;
    }
    const recordStart = i - ((i - HEADER_BYTES) % codec.recordBytes);
    const within = i - recordStart;
    if (codec.reserved.includes(within)) continue;
    const field = codec.u64Fields.find((f) => within >= f && within < f + 8);
    if (field === undefined || !isRoundedU64(original, recordStart + field)) return false;
  }
  return true;
}

interface Tally {
  frames: number;
  throws: number;
  unexpectedCodes: number;
  roundTripFailures: number;
  acceptedFrames: number;
  frameReasons: Float64Array;
  recordReasons: Float64Array;
  failures: string[];
}

function note(tally: Tally, message: string, frame: Uint8Array): void {
  if (tally.failures.length < 5) tally.failures.push(`${message}: ${Buffer.from(frame).toString('hex').slice(0, 400)}`);
}

function mutate(next: () => number, work: Uint8Array, length: number, recordBytes: number): number {
  const mutations = next() & 1 ? 1 : 1 + (next() % 3);
  for (let m = 0; m < mutations; m++) {
    switch (next() % 12) {
      case 0: // bit flip
      case 9:
      case 10:
      case 11:
      case 1:
        if (length > 0) work[next() % length] ^= 1 << (next() & 7);
        break;
      case 2: // random byte
        if (length > 0) work[next() % length] = next() & 0xff;
        break;
      case 3: // truncate
        length = next() % (length + 1);
        break;
      case 4: // extend with random bytes (or whole records)
      {
        const extra = next() & 1 ? 1 + (next() % 16) : recordBytes;
        for (let i = 0; i < extra; i++) work[length + i] = next() & 0xff;
        length += extra;
        break;
      }
      case 5: // recordCount
      {
        const choices = [0, 1, work[2] + 1, work[2] - 1, MAX_RECORDS_PER_FRAME + 1, next() & 0xffff];
        const count = choices[next() % choices.length];
        work[2] = count;
        work[3] = count >>> 8;
        break;
      }
      case 6: // message type
        work[1] = next() % 7;
        break;
      case 7: // version
        work[0] = next() & 1 ? 0 : next() & 0xff;
        break;
      case 8: // a special double somewhere
      {
        const specials = [NaN, Infinity, -Infinity, 0, -0, -1, Number.MIN_VALUE];
        const at = length >= 8 ? next() % (length - 7) : 0;
        if (length >= 8) Buffer.from(work.buffer, work.byteOffset).writeDoubleLE(specials[next() % specials.length], at);
      }
    }
  }
  return length;
}

function fuzzRecordFrame(
  next: () => number,
  codec: RecordCodec,
  work: Uint8Array,
  header: FrameHeader,
  tally: Tally,
): void {
  let length: number;
  if (next() % 10 < 3) {
    // Random bytes; often with a plausible header so the record decoders see random records.
    const count = 1 + (next() & 3);
    length = next() & 1 ? HEADER_BYTES + count * codec.recordBytes : next() % (HEADER_BYTES + 4 * codec.recordBytes);
    for (let i = 0; i < length; i += 4) {
      const r = next();
      work[i] = r;
      work[i + 1] = r >>> 8;
      work[i + 2] = r >>> 16;
      work[i + 3] = r >>> 24;
    }
    if (next() & 1) {
      work[0] = codec.version;
      work[1] = codec.messageType;
      work[2] = count;
      work[3] = 0;
      if (next() & 1) {
        for (let i = 0; i < count; i++) codec.fixEnums(work, HEADER_BYTES + i * codec.recordBytes, next);
      }
    }
  } else {
    const writer = codec.writer;
    writer.begin(next(), randomU64(next));
    const count = 1 + (next() & 3);
    for (let i = 0; i < count; i++) codec.appendValid(next);
    const valid = writer.finishView(randomU64(next));
    work.set(valid);
    length = mutate(next, work, valid.length, codec.recordBytes);
  }
  const frame = work.subarray(0, length);
  tally.frames++;
  try {
    const status = decodeFrameHeader(frame, codec.messageType, codec.recordBytes, header, codec.version);
    if (status !== DECODE_OK) {
      if (!FRAME_REASONS.includes(status)) {
        tally.unexpectedCodes++;
        note(tally, `${codec.name} header returned ${status}`, frame);
      }
      tally.frameReasons[status]++;
      return;
    }
    let allAccepted = true;
    for (let i = 0; i < header.recordCount; i++) {
      const recordStatus = codec.decode(frame, i, header);
      if (recordStatus === DECODE_OK) continue;
      allAccepted = false;
      if (!RECORD_REASONS.includes(recordStatus)) {
        tally.unexpectedCodes++;
        note(tally, `${codec.name} record returned ${recordStatus}`, frame);
      }
      tally.recordReasons[recordStatus]++;
    }
    if (!allAccepted) return;
    tally.acceptedFrames++;
    codec.writer.begin(header.streamId, header.firstSequence);
    for (let i = 0; i < header.recordCount; i++) {
      codec.decode(frame, i, header);
      codec.reencode();
    }
    if (!sameFrame(codec, frame, codec.writer.finishView(header.sentMonoNs))) {
      tally.roundTripFailures++;
      note(tally, `${codec.name} frame did not re-encode to its bytes`, frame);
    }
  } catch (error) {
    tally.throws++;
    note(tally, `${codec.name} threw ${(error as Error).message}`, frame);
  }
}

function fuzzControl(next: () => number, work: Uint8Array, tally: Tally): void {
  const isRequest = (next() & 1) === 1;
  let valid: Buffer;
  if (isRequest) {
    valid = encodeControlRequest({ command: next() % 6, requestId: next(), sentMonoNs: randomU64(next) });
  } else {
    const bodies = [undefined, null, { ok: true }, { ordersEnabled: false, ticks: next(), name: 'é' }, 'text', [1, 2]];
    valid = encodeControlResponse({ command: next() % 6, requestId: next(), status: next() % 4, body: bodies[next() % bodies.length] });
  }
  work.set(valid);
  const length = next() % 4 === 0 ? next() % 40 : mutate(next, work, valid.length, 8);
  if (length > valid.length && next() % 4 === 0) for (let i = 0; i < length; i++) work[i] = next() & 0xff;
  const frame = work.subarray(0, length);
  tally.frames++;
  try {
    const decoded = isRequest ? decodeControlRequest(frame) : decodeControlResponse(frame);
    if (!decoded.ok) {
      if (!CONTROL_REASONS.includes(decoded.reason)) {
        tally.unexpectedCodes++;
        note(tally, `control returned ${decoded.reason}`, frame);
      }
      tally.frameReasons[decoded.reason]++;
      return;
    }
    tally.acceptedFrames++;
    if ('sentMonoNs' in decoded.value) {
      const again = encodeControlRequest(decoded.value);
      const same =
        again.subarray(0, 8).equals(frame.subarray(0, 8)) &&
        (again.subarray(8).equals(frame.subarray(8)) || isRoundedU64(frame, 8));
      if (!same) {
        tally.roundTripFailures++;
        note(tally, 'control request did not re-encode to its bytes', frame);
      }
    } else {
      const again = encodeControlResponse(decoded.value);
      const redecoded = decodeControlResponse(again);
      const same =
        again.subarray(0, 9).equals(frame.subarray(0, 9)) &&
        redecoded.ok &&
        JSON.stringify(redecoded.value) === JSON.stringify(decoded.value);
      if (!same) {
        tally.roundTripFailures++;
        note(tally, 'control response did not re-encode to its value', frame);
      }
    }
  } catch (error) {
    tally.throws++;
    note(tally, `control threw ${(error as Error).message}`, frame);
  }
}

describe('wire decoders under fuzzing', () => {
  it('survive a million random and mutated frames: no throw, known reasons, exact re-encoding', () => {
    const next = mulberry32(SEED);
    const codecs = makeCodecs();
    const header = new FrameHeader();
    const work = new Uint8Array(HEADER_BYTES + 16 * ORDER_BYTES + 64);
    const tally: Tally = {
      frames: 0,
      throws: 0,
      unexpectedCodes: 0,
      roundTripFailures: 0,
      acceptedFrames: 0,
      frameReasons: new Float64Array(REJECT_REASON_SLOTS),
      recordReasons: new Float64Array(REJECT_REASON_SLOTS),
      failures: [],
    };
    for (let n = 0; n < FRAMES; n++) {
      const pick = next() % 20;
      if (pick < 9) fuzzRecordFrame(next, codecs[0], work, header, tally);
      else if (pick < 13) fuzzRecordFrame(next, codecs[1], work, header, tally);
      else if (pick < 17) fuzzRecordFrame(next, codecs[2], work, header, tally);
      else fuzzControl(next, work, tally);
    }

    expect(tally.failures).toEqual([]);
    expect({ throws: tally.throws, unexpectedCodes: tally.unexpectedCodes, roundTripFailures: tally.roundTripFailures }).toEqual({
      throws: 0,
      unexpectedCodes: 0,
      roundTripFailures: 0,
    });
    expect(tally.frames).toBe(FRAMES);
    // The mix reaches deep: a good share is accepted whole, and every reason a decoder owns is seen.
    expect(tally.acceptedFrames).toBeGreaterThan(FRAMES / 10);
    const seen = [...FRAME_REASONS, ...CONTROL_REASONS].filter((code) => tally.frameReasons[code] > 0);
    expect(new Set(seen)).toEqual(new Set([...FRAME_REASONS, ...CONTROL_REASONS]));
    const seenRecords = RECORD_REASONS.filter((code) => tally.recordReasons[code] > 0).map((c) => rejectReasonNames[c]);
    expect(seenRecords).toEqual(['bad_price', 'bad_size', 'unknown_kind']);
  });
});
