import { isControlCommand } from '../wire/control-codec.ts';
import { ControlCommand, controlCommandNames } from '../wire/layout.ts';

/** Label `command` of `nexus_engine_control_commands_total`: every command by name, and `unknown`. */
export const controlCommandLabels: readonly string[] = [
  ...Object.values(ControlCommand).map((code) => controlCommandNames[code]),
  'unknown',
];

/** Label `result`: how the engine answered (`ok`, `rejected` by the handler, `malformed`, `unknown_command`). */
export const controlResultLabels = ['ok', 'rejected', 'malformed', 'unknown_command'] as const;
export type ControlResultLabel = (typeof controlResultLabels)[number];

/**
 * Label `reason` of `nexus_engine_control_refusals_total`: why a peer was refused during the CURVE handshake,
 * before any request is read (it gets no answer at all):
 * - `unknown_key`: a CURVE client whose public key is not the authorised one (the ZAP handler said 400);
 * - `not_curve`: a client without CURVE (NULL or PLAIN mechanism);
 * - `bad_server_key`: a CURVE client that does not hold this engine's server key (its HELLO cannot be decrypted);
 * - `protocol_error`: any other ZMTP protocol error in the handshake;
 * - `handshake_failed`: the handshake broke off without detail (e.g. the peer went away).
 */
export const controlRefusalReasons = ['unknown_key', 'not_curve', 'bad_server_key', 'protocol_error', 'handshake_failed'] as const;
export type ControlRefusalReason = (typeof controlRefusalReasons)[number];

/** Counts of control commands by command and result, and of refused peers by reason; read by the metrics. */
export class ControlCounters {
  /** [commandIndex * results + resultIndex], in the order of the label lists above. */
  readonly commands = new Float64Array(controlCommandLabels.length * controlResultLabels.length);
  readonly refusals = new Float64Array(controlRefusalReasons.length);

  countCommand(command: number, result: ControlResultLabel): number {
    const index = isControlCommand(command) ? controlCommandLabels.indexOf(controlCommandNames[command]) : controlCommandLabels.length - 1;
    return ++this.commands[index * controlResultLabels.length + controlResultLabels.indexOf(result)];
  }

  /** Counts one refusal; returns the reason's new total (the server logs the 1st, 10th, 100th ...). */
  countRefusal(reason: ControlRefusalReason): number {
    return ++this.refusals[controlRefusalReasons.indexOf(reason)];
  }

  commandCount(command: string, result: ControlResultLabel): number {
    return this.commands[controlCommandLabels.indexOf(command) * controlResultLabels.length + controlResultLabels.indexOf(result)];
  }
}
