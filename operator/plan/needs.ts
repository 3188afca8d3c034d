import type { MeasureResult, MeasureTarget } from '../analysis/provider.ts';

/**
 * Effects a pure plan may need before it is final: a latency measurement and orders-off on engine pods. The
 * executor (the reconciler, the rollout test world, the rollout benchmark) fulfils them and decides again with the
 * results in `Observed`, measure first, then control, so every decision stays a pure function of its inputs.
 */
export interface RolloutNeeds {
  readonly measure?: MeasureRequest;
  readonly control?: PodControlRequest;
}

export interface MeasureRequest {
  readonly canary: MeasureTarget;
  /** Present when the relative-to-stable check needs the stable revision's figure. */
  readonly stable?: MeasureTarget;
}

/** A measurement the executor took because a plan asked for it (`RolloutNeeds.measure`). */
export interface TakenMeasurement {
  readonly revision: string;
  readonly canary: MeasureResult;
  readonly stable?: MeasureResult;
}

/** One engine pod's control socket, to which the executor sends a command. */
export interface ControlTarget {
  readonly pod: string;
  readonly address: string;
}

export interface PodControlRequest {
  readonly command: 'orders-off';
  readonly targets: readonly ControlTarget[];
}

/** What happened when the executor sent a control command to one pod. */
export interface ControlOutcome {
  readonly pod: string;
  readonly ok: boolean;
  /** The refusal or transport error when not ok. */
  readonly error?: string;
  /** Round trip in microseconds. */
  readonly micros: number;
}
