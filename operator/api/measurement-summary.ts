import type { Measurement } from './types.ts';

/** A gate measurement as the operator's webhooks send it: the figures a person or a tool judges it by. */
export interface MeasurementSummary {
  readonly p99Micros?: number;
  readonly stableP99Micros?: number;
  readonly thresholdMicros?: number;
  readonly result?: string;
}

/** The summary of `measurement` (only the fields it has), or undefined without one. */
export function summarizeMeasurement(measurement: Measurement | undefined): MeasurementSummary | undefined {
  if (measurement === undefined) return undefined;
  return {
    ...(measurement.p99Micros === undefined ? {} : { p99Micros: measurement.p99Micros }),
    ...(measurement.stableP99Micros === undefined ? {} : { stableP99Micros: measurement.stableP99Micros }),
    ...(measurement.thresholdMicros === undefined ? {} : { thresholdMicros: measurement.thresholdMicros }),
    ...(measurement.result === undefined ? {} : { result: measurement.result }),
  };
}
