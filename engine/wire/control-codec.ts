import {
  CONTROL_REQUEST_BYTES,
  CONTROL_RESPONSE_HEADER_BYTES,
  ControlCommand,
  type ControlCommandCode,
  ControlStatus,
  type ControlStatusCode,
  MessageType,
  RejectReason,
  type RejectReasonCode,
  WIRE_VERSION,
} from './layout.ts';
import { assertWireU64, readU16, readU32, readU64, writeU16, writeU32, writeU64 } from './u64.ts';

/**
 * Control messages on the engine's REQ/REP socket (off the hot path; these allocate).
 *
 * Request, exactly 16 bytes:
 * ```
 *  off 0  u8   version      off 1  u8  messageType = 4 (ControlRequest)
 *  off 2  u16  command      (ControlCommand)
 *  off 4  u32  requestId    (echoed in the response)
 *  off 8  u64  sentMonoNs
 * ```
 * Response, 16 + bodyLength bytes:
 * ```
 *  off 0  u8   version      off 1  u8  messageType = 5 (ControlResponse)
 *  off 2  u16  command      (echoed)
 *  off 4  u32  requestId    (echoed)
 *  off 8  u8   status       (ControlStatus)
 *  off 9  u8   reserved     off 10 u16 reserved
 *  off 12 u32  bodyLength
 *  off 16 ...  UTF-8 JSON body (absent when bodyLength is 0)
 * ```
 * A `SetOwnership` request is two message parts: these 16 bytes, then its UTF-8 JSON body (`decodeControlBody`);
 * every other command is one part.
 *
 * A request with a well-formed layout but an unknown command decodes successfully (its `command` is a plain number)
 * so the server can answer `UnknownCommand` with the right requestId; use `isControlCommand` to narrow it.
 */

export interface ControlRequest {
  command: number;
  requestId: number;
  sentMonoNs: number;
}

export interface ControlResponse {
  command: number;
  requestId: number;
  /** A `ControlStatus` code (validated on encode and decode). */
  status: number;
  /** Parsed JSON body; `undefined` when the response has no body (bodyLength 0). */
  body?: unknown;
}

/**
 * Outcome of decoding a control message. On failure, `requestId` is the id read from bytes 4..7 when the message
 * is at least 8 bytes long (so a server can still answer `Malformed` to the right request), else null.
 */
export type ControlDecodeResult<T> = { ok: true; value: T } | ControlDecodeFailure;

export interface ControlDecodeFailure {
  ok: false;
  reason: RejectReasonCode;
  requestId: number | null;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True when `command` is one of the `ControlCommand` codes. */
export function isControlCommand(command: number): command is ControlCommandCode {
  return (
    command === ControlCommand.OrdersOn ||
    command === ControlCommand.OrdersOff ||
    command === ControlCommand.Drain ||
    command === ControlCommand.Status ||
    command === ControlCommand.Cut ||
    command === ControlCommand.Unlatch ||
    command === ControlCommand.SetOwnership
  );
}

/** True when `status` is one of the `ControlStatus` codes. */
export function isControlStatus(status: number): status is ControlStatusCode {
  return status >= ControlStatus.Ok && status <= ControlStatus.Malformed;
}

/** Encodes a request as a new 16-byte Buffer. Throws a RangeError for fields that do not fit their wire types. */
export function encodeControlRequest(request: ControlRequest): Buffer {
  checkUint(request.command, 0xffff, 'command');
  checkUint(request.requestId, 0xffffffff, 'requestId');
  assertWireU64(request.sentMonoNs, 'sentMonoNs');
  const bytes = Buffer.alloc(CONTROL_REQUEST_BYTES);
  bytes[0] = WIRE_VERSION;
  bytes[1] = MessageType.ControlRequest;
  writeU16(bytes, 2, request.command);
  writeU32(bytes, 4, request.requestId);
  writeU64(bytes, 8, request.sentMonoNs);
  return bytes;
}

/**
 * Decodes a control request. Fails with `truncated` (empty, or a v1 message under 16 bytes), `unknown_version`,
 * `unexpected_type` or `bad_length` (longer than 16 bytes). Never throws.
 */
export function decodeControlRequest(bytes: Uint8Array): ControlDecodeResult<ControlRequest> {
  const failure = checkFixedPart(bytes, MessageType.ControlRequest, CONTROL_REQUEST_BYTES);
  if (failure !== null) return failure;
  if (bytes.length !== CONTROL_REQUEST_BYTES) return fail(RejectReason.BadLength, bytes);
  return {
    ok: true,
    value: { command: readU16(bytes, 2), requestId: readU32(bytes, 4), sentMonoNs: readU64(bytes, 8) },
  };
}

/** Decodes the JSON body part of a request (`SetOwnership`); fails with `bad_body` when it is not UTF-8 JSON. */
export function decodeControlBody(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: RejectReasonCode } {
  try {
    return { ok: true, value: JSON.parse(utf8Decoder.decode(bytes)) as unknown };
  } catch {
    return { ok: false, reason: RejectReason.BadBody };
  }
}

/** Encodes a response as a new Buffer; `body` (if not undefined) is serialised with JSON.stringify. */
export function encodeControlResponse(response: ControlResponse): Buffer {
  checkUint(response.command, 0xffff, 'command');
  checkUint(response.requestId, 0xffffffff, 'requestId');
  if (!isControlStatus(response.status)) throw new RangeError(`status must be a ControlStatus, got ${response.status}`);
  const json = response.body === undefined ? undefined : JSON.stringify(response.body);
  const bodyLength = json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
  const bytes = Buffer.alloc(CONTROL_RESPONSE_HEADER_BYTES + bodyLength);
  bytes[0] = WIRE_VERSION;
  bytes[1] = MessageType.ControlResponse;
  writeU16(bytes, 2, response.command);
  writeU32(bytes, 4, response.requestId);
  bytes[8] = response.status;
  writeU32(bytes, 12, bodyLength);
  if (json !== undefined) bytes.write(json, CONTROL_RESPONSE_HEADER_BYTES, 'utf8');
  return bytes;
}

/**
 * Decodes a control response. Fails with `truncated`, `unknown_version`, `unexpected_type`, `unknown_kind`
 * (status not a ControlStatus), `bad_length` (16 + bodyLength differs from the message length) or `bad_body`
 * (not valid UTF-8 JSON). Never throws.
 */
export function decodeControlResponse(bytes: Uint8Array): ControlDecodeResult<ControlResponse> {
  const failure = checkFixedPart(bytes, MessageType.ControlResponse, CONTROL_RESPONSE_HEADER_BYTES);
  if (failure !== null) return failure;
  const status = bytes[8];
  if (!isControlStatus(status)) return fail(RejectReason.UnknownKind, bytes);
  const bodyLength = readU32(bytes, 12);
  if (bytes.length !== CONTROL_RESPONSE_HEADER_BYTES + bodyLength) return fail(RejectReason.BadLength, bytes);
  const value: ControlResponse = { command: readU16(bytes, 2), requestId: readU32(bytes, 4), status };
  if (bodyLength > 0) {
    try {
      value.body = JSON.parse(utf8Decoder.decode(bytes.subarray(CONTROL_RESPONSE_HEADER_BYTES))) as unknown;
    } catch {
      return fail(RejectReason.BadBody, bytes);
    }
  }
  return { ok: true, value };
}

function checkFixedPart(
  bytes: Uint8Array,
  messageType: number,
  fixedBytes: number,
): ControlDecodeFailure | null {
  if (bytes.length === 0) return fail(RejectReason.Truncated, bytes);
  if (bytes[0] !== WIRE_VERSION) return fail(RejectReason.UnknownVersion, bytes);
  if (bytes.length < fixedBytes) return fail(RejectReason.Truncated, bytes);
  if (bytes[1] !== messageType) return fail(RejectReason.UnexpectedType, bytes);
  return null;
}

function fail(reason: RejectReasonCode, bytes: Uint8Array): ControlDecodeFailure {
  return { ok: false, reason, requestId: bytes.length >= 8 ? readU32(bytes, 4) : null };
}

function checkUint(value: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field} must be an integer 0..${max}, got ${value}`);
  }
}
