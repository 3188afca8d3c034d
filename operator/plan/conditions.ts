import type { Condition } from '../api/types.ts';

/** A condition as computed by reconcile, before its transition time is decided. */
export interface DesiredCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** metav1.Time: RFC 3339 with whole seconds. */
export function metaTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Merges desired conditions into the previous ones as apimachinery's SetStatusCondition does:
 * lastTransitionTime moves only when the status flips; reason, message and observedGeneration follow the desired
 * condition. Conditions not in `desired` are dropped; the order is the order of `desired`. Pure.
 * Example: previous Ready=True since 10:00, desired Ready=True (new message) at 10:05 -> still since 10:00.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  generation: number,
  nowMs: number,
): Condition[] {
  return desired.map((condition) => {
    const before = previous?.find((candidate) => candidate.type === condition.type);
    const lastTransitionTime = before !== undefined && before.status === condition.status ? before.lastTransitionTime : metaTime(nowMs);
    return { ...condition, observedGeneration: generation, lastTransitionTime };
  });
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}
