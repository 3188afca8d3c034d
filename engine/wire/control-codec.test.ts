import { describe, expect, it } from 'vitest';
import {
  decodeControlRequest,
  decodeControlResponse,
  encodeControlRequest,
  encodeControlResponse,
  isControlCommand,
} from './control-codec.ts';
import { ControlCommand, ControlStatus, RejectReason } from './layout.ts';

describe('control requests', () => {
  it('encode to 16 bytes in the documented layout', () => {
    const bytes = encodeControlRequest({ command: ControlCommand.Drain, requestId: 0xdeadbeef, sentMonoNs: 2 ** 53 });
    expect(bytes.toString('hex')).toBe('01040300efbeadde' + '0000000000002000');
  });

  it('round-trip', () => {
    const request = { command: ControlCommand.OrdersOff, requestId: 0xffffffff, sentMonoNs: 123_456_789 };
    expect(decodeControlRequest(encodeControlRequest(request))).toEqual({ ok: true, value: request });
  });

  it('decode an unknown command so the server can answer UnknownCommand', () => {
    const decoded = decodeControlRequest(encodeControlRequest({ command: 999, requestId: 5, sentMonoNs: 0 }));
    expect(decoded).toEqual({ ok: true, value: { command: 999, requestId: 5, sentMonoNs: 0 } });
    expect(isControlCommand(999)).toBe(false);
    expect(isControlCommand(ControlCommand.Status)).toBe(true);
  });

  it.each([
    ['an empty message', new Uint8Array(0), RejectReason.Truncated, null],
    ['7 bytes', encodeControlRequest({ command: 1, requestId: 9, sentMonoNs: 0 }).subarray(0, 7), RejectReason.Truncated, null],
    ['15 bytes', encodeControlRequest({ command: 1, requestId: 9, sentMonoNs: 0 }).subarray(0, 15), RejectReason.Truncated, 9],
    ['17 bytes', Buffer.concat([encodeControlRequest({ command: 1, requestId: 9, sentMonoNs: 0 }), Buffer.of(0)]), RejectReason.BadLength, 9],
    ['version 2', Buffer.from('0204010009000000' + '0000000000000000', 'hex'), RejectReason.UnknownVersion, 9],
    ['a response type', Buffer.from('0105010009000000' + '0000000000000000', 'hex'), RejectReason.UnexpectedType, 9],
  ])('reject %s', (_name, bytes, reason, requestId) => {
    expect(decodeControlRequest(bytes)).toEqual({ ok: false, reason, requestId });
  });

  it('refuse to encode fields that do not fit', () => {
    expect(() => encodeControlRequest({ command: 65536, requestId: 1, sentMonoNs: 0 })).toThrow(/command/);
    expect(() => encodeControlRequest({ command: 1, requestId: -1, sentMonoNs: 0 })).toThrow(/requestId/);
    expect(() => encodeControlRequest({ command: 1, requestId: 1, sentMonoNs: 0.5 })).toThrow(/sentMonoNs/);
  });
});

describe('control responses', () => {
  it('encode in the documented layout with a UTF-8 JSON body', () => {
    const bytes = encodeControlResponse({ command: 4, requestId: 7, status: ControlStatus.Ok, body: { s: 'é' } });
    const json = Buffer.from('{"s":"é"}', 'utf8');
    expect(bytes.subarray(0, 16).toString('hex')).toBe('0105040007000000' + '00000000' + '0a000000');
    expect(bytes.subarray(16).equals(json)).toBe(true);
  });

  it('round-trip with and without a body', () => {
    const withBody = { command: 4, requestId: 7, status: ControlStatus.Ok, body: { ordersEnabled: true, ticks: 12 } };
    expect(decodeControlResponse(encodeControlResponse(withBody))).toEqual({ ok: true, value: withBody });
    const bare = { command: 1, requestId: 8, status: ControlStatus.Rejected };
    const encoded = encodeControlResponse(bare);
    expect(encoded.length).toBe(16);
    expect(decodeControlResponse(encoded)).toEqual({ ok: true, value: bare });
  });

  it('carry a JSON null body as four bytes, distinct from no body', () => {
    const decoded = decodeControlResponse(encodeControlResponse({ command: 1, requestId: 1, status: 0, body: null }));
    expect(decoded).toEqual({ ok: true, value: { command: 1, requestId: 1, status: 0, body: null } });
  });

  it.each([
    ['an empty message', new Uint8Array(0), RejectReason.Truncated],
    ['15 bytes', Buffer.from('010501000100000000000000000000', 'hex'), RejectReason.Truncated],
    ['version 0', Buffer.from('0005010001000000' + '0000000000000000', 'hex'), RejectReason.UnknownVersion],
    ['a request type', Buffer.from('0104010001000000' + '0000000000000000', 'hex'), RejectReason.UnexpectedType],
    ['status 4', Buffer.from('0105010001000000' + '0400000000000000', 'hex'), RejectReason.UnknownKind],
    ['a body shorter than bodyLength', Buffer.from('0105010001000000' + '0000000005000000' + '7b7d', 'hex'), RejectReason.BadLength],
    ['a body longer than bodyLength', Buffer.from('0105010001000000' + '0000000001000000' + '7b7d', 'hex'), RejectReason.BadLength],
    ['a body that is not JSON', Buffer.from('0105010001000000' + '0000000001000000' + '7b', 'hex'), RejectReason.BadBody],
    ['a body that is not UTF-8', Buffer.from('0105010001000000' + '0000000003000000' + '22ff22', 'hex'), RejectReason.BadBody],
  ])('reject %s', (_name, bytes, reason) => {
    const decoded = decodeControlResponse(bytes);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toBe(reason);
  });

  it('refuse to encode an unknown status', () => {
    expect(() => encodeControlResponse({ command: 1, requestId: 1, status: 9 })).toThrow(/status/);
  });
});
