import {
  DECODE_OK,
  type DecodeStatus,
  HEADER_BYTES,
  MAX_RECORDS_PER_FRAME,
  RejectReason,
  WIRE_VERSION,
} from './layout.ts';
import { writeU16, writeU32, writeU64 } from './u64.ts';

/**
 * The 24-byte header shared by market-data, signal and order frames, decoded into a reusable mutable object.
 *
 * ```
 *  off  0  u8   version         (WIRE_VERSION; ORDER_WIRE_VERSION for order frames)
 *  off  1  u8   messageType     (MessageType)
 *  off  2  u16  recordCount     (1..MAX_RECORDS_PER_FRAME)
 *  off  4  u32  streamId        (publisher-chosen id of this sequenced stream)
 *  off  8  u64  firstSequence   (record i carries firstSequence + i)
 *  off 16  u64  sentMonoNs      (publisher CLOCK_MONOTONIC ns at send)
 * ```
 * One instance per receiver, overwritten by every `decodeFrameHeader` call.
 */
export class FrameHeader {
  version = 0;
  messageType = 0;
  recordCount = 0;
  streamId = 0;
  firstSequence = 0;
  sentMonoNs = 0;
}

/**
 * Decodes and validates a frame's header into `out` and checks that the frame is exactly
 * `HEADER_BYTES + recordCount * recordBytes` long. Returns `DECODE_OK` or the first failing reason, checked in
 * this order: empty input `truncated`, version `unknown_version` (checked before the length so a future version
 * may change the layout), fewer than 24 bytes `truncated`, type `unexpected_type`, count 0 `empty_frame`, count
 * above the policy limit `too_many_records`, total length `bad_length`.
 *
 * `out` is fully meaningful only when the result is `DECODE_OK`. Never throws, never allocates; `frame` may be a
 * Buffer or any Uint8Array view.
 */
export function decodeFrameHeader(
  frame: Uint8Array,
  expectedType: number,
  recordBytes: number,
  out: FrameHeader,
  expectedVersion: number = WIRE_VERSION,
): DecodeStatus {
  const length = frame.length;
  if (length === 0) return RejectReason.Truncated;
  const version = frame[0];
  out.version = version;
  if (version !== expectedVersion) return RejectReason.UnknownVersion;
  if (length < HEADER_BYTES) return RejectReason.Truncated;
  // Field reads are written out inline on purpose (see f64.ts): no helper call that could return a boxed double.
  const messageType = frame[1];
  const recordCount = frame[2] | (frame[3] << 8);
  out.messageType = messageType;
  out.recordCount = recordCount;
  out.streamId = (frame[4] | (frame[5] << 8) | (frame[6] << 16)) + frame[7] * 0x1000000;
  out.firstSequence =
    (frame[8] | (frame[9] << 8) | (frame[10] << 16)) +
    frame[11] * 0x1000000 +
    ((frame[12] | (frame[13] << 8) | (frame[14] << 16)) + frame[15] * 0x1000000) * 4294967296;
  out.sentMonoNs =
    (frame[16] | (frame[17] << 8) | (frame[18] << 16)) +
    frame[19] * 0x1000000 +
    ((frame[20] | (frame[21] << 8) | (frame[22] << 16)) + frame[23] * 0x1000000) * 4294967296;
  if (messageType !== expectedType) return RejectReason.UnexpectedType;
  if (recordCount === 0) return RejectReason.EmptyFrame;
  if (recordCount > MAX_RECORDS_PER_FRAME) return RejectReason.TooManyRecords;
  if (length !== HEADER_BYTES + recordCount * recordBytes) return RejectReason.BadLength;
  return DECODE_OK;
}

/** Writes a complete header at offset 0 of `frame` (for tests and tools; the frame writers keep their own). */
export function writeFrameHeader(
  frame: Uint8Array,
  messageType: number,
  recordCount: number,
  streamId: number,
  firstSequence: number,
  sentMonoNs: number,
  version: number = WIRE_VERSION,
): void {
  frame[0] = version;
  frame[1] = messageType;
  writeU16(frame, 2, recordCount);
  writeU32(frame, 4, streamId);
  writeU64(frame, 8, firstSequence);
  writeU64(frame, 16, sentMonoNs);
}
