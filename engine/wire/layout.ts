/**
 * The Nexus wire format (version 1; order frames version 2): message types, enumerations, record sizes and reject
 * reasons.
 *
 * Everything a decoder or encoder needs to agree on lives here as `as const` objects (not TS enums: the package
 * compiles with isolatedModules + verbatimModuleSyntax), so a change to the layout is a change to this file and to
 * `docs/wire.md`, and the golden-bytes test catches anything that drifts silently. All multi-byte fields are
 * little-endian. The byte tables are in `docs/wire.md`.
 */

/**
 * The version byte of market-data and signal frames and of control messages. A receiver rejects any other value
 * (`unknown_version`).
 */
export const WIRE_VERSION = 1;
/**
 * The version byte of OrderBatch frames: 2 since each order carries its shard and that shard's ownership epoch
 * (56-byte records), so an order gateway can fence a pod that lost its shard. A receiver that supports rolling
 * upgrades also decodes version 1 order frames (48-byte records, shard 0 at epoch 0: unfenced); see docs/wire.md.
 */
export const ORDER_WIRE_VERSION = 2;

/** Byte 1 of every frame: what the rest of the bytes are. */
export const MessageType = {
  MarketDataBatch: 1,
  SignalBatch: 2,
  OrderBatch: 3,
  ControlRequest: 4,
  ControlResponse: 5,
} as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

/** What a tick record reports. */
export const TickKind = {
  Trade: 1,
  Bid: 2,
  Ask: 3,
} as const;
export type TickKindCode = (typeof TickKind)[keyof typeof TickKind];

/** Order side in an order record (u8). Signals carry direction as a signed byte instead: see `SignalSide`. */
export const Side = {
  Buy: 1,
  Sell: 2,
} as const;
export type SideCode = (typeof Side)[keyof typeof Side];

/** Signal direction in a signal record (i8): +1 buy, -1 sell. */
export const SignalSide = {
  Buy: 1,
  Sell: -1,
} as const;
export type SignalSideCode = (typeof SignalSide)[keyof typeof SignalSide];

/** Order type in an order record. A market order's price is informational (0 when none). */
export const OrderType = {
  Limit: 1,
  Market: 2,
} as const;
export type OrderTypeCode = (typeof OrderType)[keyof typeof OrderType];

/**
 * What a control request asks the engine to do. `Cut` is the operator's orders-off for an aborted revision: it
 * latches (an `OrdersOn` is refused until an `Unlatch`) and survives a container restart (docs/wire.md).
 */
export const ControlCommand = {
  OrdersOn: 1,
  OrdersOff: 2,
  Drain: 3,
  Status: 4,
  Cut: 5,
  Unlatch: 6,
  SetOwnership: 7,
} as const;
export type ControlCommandCode = (typeof ControlCommand)[keyof typeof ControlCommand];

/** Each control command's name (`nexus ctl <name>`, metric label `command`), indexed by its code. */
export const controlCommandNames: Readonly<Record<ControlCommandCode, string>> = {
  [ControlCommand.OrdersOn]: 'orders-on',
  [ControlCommand.OrdersOff]: 'orders-off',
  [ControlCommand.Drain]: 'drain',
  [ControlCommand.Status]: 'status',
  [ControlCommand.Cut]: 'cut',
  [ControlCommand.Unlatch]: 'unlatch',
  [ControlCommand.SetOwnership]: 'set-ownership',
};

/** Commands whose request carries a JSON body as a second message part (docs/wire.md, "Control request body"). */
export const controlCommandsWithBody: ReadonlySet<number> = new Set([ControlCommand.SetOwnership]);

/** How the engine answered a control request. */
export const ControlStatus = {
  Ok: 0,
  Rejected: 1,
  UnknownCommand: 2,
  Malformed: 3,
} as const;
export type ControlStatusCode = (typeof ControlStatus)[keyof typeof ControlStatus];

/** Common header of market-data, signal and order frames. */
export const HEADER_BYTES = 24;
/** One tick record in a MarketDataBatch frame. */
export const TICK_BYTES = 40;
/** One signal record in a SignalBatch frame. */
export const SIGNAL_BYTES = 40;
/** One order record in an OrderBatch frame (version 2). */
export const ORDER_BYTES = 56;
/** One order record in a version 1 OrderBatch frame. */
export const ORDER_BYTES_V1 = 48;
/** A control request is exactly this long. */
export const CONTROL_REQUEST_BYTES = 16;
/** A control response is this fixed part followed by `bodyLength` bytes of UTF-8 JSON. */
export const CONTROL_RESPONSE_HEADER_BYTES = 16;
/**
 * Policy limit on records per frame (the u16 field could hold 65535). Keeps the largest frame at
 * 24 + 4096 * 56 = 229,400 bytes so a receiver can preallocate for it.
 */
export const MAX_RECORDS_PER_FRAME = 4096;

/**
 * The largest inbound ZeroMQ message part a receiving socket accepts (its `maxMessageSize`); a peer that sends a
 * larger one is disconnected by libzmq after reading the part's length, before anything is buffered. Sized from
 * the wire format: the largest frame the header can describe (recordCount is a u16: 24 + 65535 x 56 = 3,669,984
 * bytes), so every frame the format can express still reaches the decoders and is counted by reason
 * (`too_many_records` above 4096 records), and nothing bigger is read at all.
 */
export const MAX_DATA_MESSAGE_BYTES = HEADER_BYTES + 0xffff * ORDER_BYTES;
/**
 * The same for a control socket, per message part: a request is 16 bytes, and a `SetOwnership` body lists the
 * symbols of every shard granted (about 40 bytes a symbol, so 1 MiB is room for ~25,000 symbols). A larger part
 * disconnects the peer unanswered.
 */
export const MAX_CONTROL_MESSAGE_BYTES = 1 << 20;

/**
 * ZeroMQ topic of every signal frame. A signal frame batches the signals of many symbols (everything one
 * market-data frame produced), so the topic cannot name a symbol: records carry their symbol id and consumers
 * filter by it. One topic keeps batching intact, which is what holds latency down at high rates.
 */
export const SIGNAL_TOPIC = 'signals';
/** The signals socket's topic of scan reports: one JSON document per message (docs/scans.md). */
export const SCAN_TOPIC = 'scan';

/** Decoders return this when the input is accepted; any other value is a `RejectReason` code. */
export const DECODE_OK = 0;

/**
 * Why an input was dropped. Codes are stable small integers (0 is `DECODE_OK`, never a reason) so a receiver can
 * count rejects in a preallocated array indexed by code; `rejectReasonNames[code]` is the stable snake_case label
 * for metrics. New reasons are only ever appended.
 *
 * The first nine are produced by the frame and record decoders in this folder, `bad_body` by the control codec;
 * `unknown_symbol`, `out_of_order` and `bad_topic` are decided by the engine (symbol table lookup, sequence
 * tracking, topic checks) and are named here so all reject labels live in one place.
 */
export const RejectReason = {
  /** Fewer bytes than the fixed header (24 for data frames, 16 for control messages), or an empty message. */
  Truncated: 1,
  /** The header is readable but the total length differs from what it declares. */
  BadLength: 2,
  /** Byte 0 is not `WIRE_VERSION`. */
  UnknownVersion: 3,
  /** Byte 1 is not the message type expected on this socket. */
  UnexpectedType: 4,
  /** recordCount is 0. */
  EmptyFrame: 5,
  /** recordCount exceeds `MAX_RECORDS_PER_FRAME`. */
  TooManyRecords: 6,
  /** A price is NaN, infinite, or not positive (a market order's price may be 0). */
  BadPrice: 7,
  /** A size, quantity or signal strength is NaN, infinite, or negative (an order quantity must be > 0). */
  BadSize: 8,
  /** An enumerated field (tick kind, side, order type, control status) holds a value not in its table. */
  UnknownKind: 9,
  /** Engine: the symbol id is not one the engine is configured for. */
  UnknownSymbol: 10,
  /** Engine: a frame's firstSequence is behind the last sequence seen on its stream (replay or reorder). */
  OutOfOrder: 11,
  /** Engine: the ZeroMQ topic part is missing or does not match the frame. */
  BadTopic: 12,
  /** A control response body is not valid UTF-8 JSON. */
  BadBody: 13,
} as const;
export type RejectReasonCode = (typeof RejectReason)[keyof typeof RejectReason];

/** What every decoder returns: `DECODE_OK` (0) or a reject code. */
export type DecodeStatus = typeof DECODE_OK | RejectReasonCode;

/** Metric labels indexed by code; index 0 is `ok` (not a reason). */
export const rejectReasonNames: readonly string[] = Object.freeze([
  'ok',
  'truncated',
  'bad_length',
  'unknown_version',
  'unexpected_type',
  'empty_frame',
  'too_many_records',
  'bad_price',
  'bad_size',
  'unknown_kind',
  'unknown_symbol',
  'out_of_order',
  'bad_topic',
  'bad_body',
]);

/** Number of slots a per-code counter array needs (codes are 1..REJECT_REASON_SLOTS-1). */
export const REJECT_REASON_SLOTS = rejectReasonNames.length;

/** The metric label of a decode status; `unknown` for a number that is no code (never returned by decoders). */
export function rejectReasonName(code: number): string {
  return Number.isInteger(code) && code >= 0 && code < rejectReasonNames.length ? rejectReasonNames[code] : 'unknown';
}
