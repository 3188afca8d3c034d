import { describe, expect, it } from 'vitest';
import { FrameHeader, decodeFrameHeader, writeFrameHeader } from './frame-header.ts';
import { DECODE_OK, HEADER_BYTES, MAX_RECORDS_PER_FRAME, MessageType, RejectReason, TICK_BYTES } from './layout.ts';

function frameOf(recordCount: number, recordBytes = TICK_BYTES, extraBytes = 0): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + recordCount * recordBytes + extraBytes);
  writeFrameHeader(frame, MessageType.MarketDataBatch, recordCount, 0xfffffffe, 2 ** 53 - 1, 1_234_567_890_123);
  return frame;
}

describe('decodeFrameHeader', () => {
  it('decodes every header field of a valid frame', () => {
    const header = new FrameHeader();
    expect(decodeFrameHeader(frameOf(3), MessageType.MarketDataBatch, TICK_BYTES, header)).toBe(DECODE_OK);
    expect({ ...header }).toEqual({
      version: 1,
      messageType: MessageType.MarketDataBatch,
      recordCount: 3,
      streamId: 0xfffffffe,
      firstSequence: 2 ** 53 - 1,
      sentMonoNs: 1_234_567_890_123,
    });
  });

  it('accepts a frame of exactly MAX_RECORDS_PER_FRAME records', () => {
    const header = new FrameHeader();
    const frame = frameOf(MAX_RECORDS_PER_FRAME);
    expect(decodeFrameHeader(frame, MessageType.MarketDataBatch, TICK_BYTES, header)).toBe(DECODE_OK);
  });

  it.each([
    ['an empty message', new Uint8Array(0), RejectReason.Truncated],
    ['23 bytes', frameOf(1).subarray(0, 23), RejectReason.Truncated],
    ['version 2', patch(frameOf(1), 0, 2), RejectReason.UnknownVersion],
    ['version 0 in a 1-byte message', Uint8Array.of(0), RejectReason.UnknownVersion],
    ['a signal frame on the tick socket', patch(frameOf(1), 1, MessageType.SignalBatch), RejectReason.UnexpectedType],
    ['recordCount 0', patch(frameOf(0), 2, 0), RejectReason.EmptyFrame],
    ['recordCount 4097', frameOf(MAX_RECORDS_PER_FRAME + 1), RejectReason.TooManyRecords],
    ['one byte missing', frameOf(2).subarray(0, HEADER_BYTES + 2 * TICK_BYTES - 1), RejectReason.BadLength],
    ['one trailing byte', frameOf(2, TICK_BYTES, 1), RejectReason.BadLength],
  ])('rejects %s', (_name, frame, reason) => {
    expect(decodeFrameHeader(frame, MessageType.MarketDataBatch, TICK_BYTES, new FrameHeader())).toBe(reason);
  });
});

function patch(frame: Uint8Array, offset: number, value: number): Uint8Array {
  frame[offset] = value;
  return frame;
}
