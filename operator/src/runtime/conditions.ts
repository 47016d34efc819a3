// metav1.Condition list helpers, after apimachinery's meta.SetStatusCondition: one entry per
// type, lastTransitionTime moves only when status changes.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable. */
  reason: string;
  message: string;
  /** RFC 3339, second precision (metav1.Time). */
  lastTransitionTime: string;
  /** The metadata.generation the condition was computed from. */
  observedGeneration?: number;
}

export type NewCondition = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

/** metav1.Time's wire format: RFC 3339 without fractional seconds. */
export function metaTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Sets (adds or replaces) the condition of c.type in conditions, in place. Keeps
 * lastTransitionTime when the status is unchanged. Returns whether anything changed, so callers
 * can skip a status write.
 */
export function setCondition(conditions: Condition[], c: NewCondition, now = Date.now()): boolean {
  const existing = conditions.find((x) => x.type === c.type);
  if (!existing) {
    conditions.push({ ...c, lastTransitionTime: c.lastTransitionTime ?? metaTime(now) });
    return true;
  }
  let changed = false;
  if (existing.status !== c.status) {
    existing.status = c.status;
    existing.lastTransitionTime = c.lastTransitionTime ?? metaTime(now);
    changed = true;
  }
  if (existing.reason !== c.reason) {
    existing.reason = c.reason;
    changed = true;
  }
  if (existing.message !== c.message) {
    existing.message = c.message;
    changed = true;
  }
  if (existing.observedGeneration !== c.observedGeneration) {
    if (c.observedGeneration === undefined) delete existing.observedGeneration;
    else existing.observedGeneration = c.observedGeneration;
    changed = true;
  }
  return changed;
}

/** Removes the condition of type; returns whether it was there. */
export function removeCondition(conditions: Condition[], type: string): boolean {
  const i = conditions.findIndex((x) => x.type === type);
  if (i < 0) return false;
  conditions.splice(i, 1);
  return true;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((x) => x.type === type);
}

export function isConditionTrue(
  conditions: readonly Condition[] | undefined,
  type: string,
): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** True only if the condition is True and was computed from this generation. */
export function isConditionTrueFor(
  conditions: readonly Condition[] | undefined,
  type: string,
  generation: number | undefined,
): boolean {
  const c = findCondition(conditions, type);
  return c?.status === 'True' && c.observedGeneration === generation;
}
