/**
 * What the dashboard's server sends its page (JSON over /api and the event stream): the server builds these
 * (dashboard/server/engine-view.ts), the page renders them (dashboard/web/). Types only, shared by both sides.
 */

/** The gate's last measurement, as the list shows it. */
export interface GateFigure {
  readonly p99Micros?: number;
  readonly stableP99Micros?: number;
  readonly thresholdMicros: number;
  readonly result?: string;
}

/** One TradingEngine on the list page. */
export interface EngineSummary {
  readonly namespace: string;
  readonly name: string;
  readonly phase: string;
  readonly message: string;
  readonly strategy: 'Canary' | 'BlueGreen' | 'None';
  /** Present while a rollout is in progress. */
  readonly step?: { readonly index: number; readonly count: number };
  readonly weight: number;
  readonly gate?: GateFigure;
  readonly readyPods: number;
  readonly desiredPods: number;
  readonly stableRevision: string;
  readonly updateRevision: string;
  readonly paused: boolean;
  readonly abort?: { readonly reason: string; readonly at: string };
}

export interface StepView {
  readonly index: number;
  readonly label: string;
  readonly state: 'done' | 'current' | 'pending';
}

export interface PodView {
  readonly name: string;
  readonly phase: string;
  readonly ready: boolean;
  /** The symbols whose shards the pod owns (granted). */
  readonly symbols: readonly string[];
  /** Orders were cut on it (an aborted canary's or preview's pod). */
  readonly ordersCut: boolean;
}

export interface RevisionView {
  readonly revision: string;
  readonly role: 'stable' | 'canary' | 'preview' | 'old';
  readonly replicas: number;
  readonly available: number;
  readonly pods: readonly PodView[];
}

/** One gate measurement: a point on the chart. */
export interface GatePoint {
  readonly time: string;
  readonly revision: string;
  readonly result: string;
  readonly p99Micros?: number;
  readonly stableP99Micros?: number;
  readonly thresholdMicros?: number;
  readonly samples?: number;
  readonly message?: string;
}

export interface EventView {
  readonly time: string;
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
}

export interface RecordView {
  readonly revision: string;
  readonly startedAt: string;
  readonly measurements: number;
  readonly outcome?: string;
  readonly finishedAt?: string;
}

/** One TradingEngine's page. */
export interface EngineDetail extends EngineSummary {
  readonly thresholdMicros?: number;
  readonly quantile: string;
  readonly steps: readonly StepView[];
  readonly revisions: readonly RevisionView[];
  readonly measurements: readonly GatePoint[];
  readonly events: readonly EventView[];
  readonly records: readonly RecordView[];
  readonly conditions: ReadonlyArray<{ readonly type: string; readonly status: string; readonly reason: string; readonly message: string }>;
}

/** The actions the page offers, each the status request `nexus rollout` makes. */
export const engineActions = ['promote', 'promote-full', 'abort', 'retry', 'pause', 'resume', 'undo'] as const;
export type EngineAction = (typeof engineActions)[number];

/** What the page learns once: whether actions are shown at all, and where it runs. */
export interface SessionInfo {
  readonly readOnly: boolean;
  readonly context: string;
  /** The namespaces listed: all (undefined) or the ones the caller may list. */
  readonly namespaces?: readonly string[];
}

/** An action's answer: what was done, or the API server's refusal. */
export interface ActionResult {
  readonly ok: boolean;
  readonly message: string;
}

/** A message on the event stream: the list changed, or one engine did. */
export type StreamMessage =
  | { readonly kind: 'engines'; readonly engines: readonly EngineSummary[] }
  | { readonly kind: 'engine'; readonly namespace: string; readonly name: string };
