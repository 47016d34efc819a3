// Scale-down with drain (pure): the highest ordinals are drained first; the StatefulSet shrinks
// only past pods that are empty (no streams, or no heartbeat) or past their deadline. Load that
// comes back cancels drains before any new pod is added.
import type { NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import { nodeLoad } from './load.js';

export interface DrainPlanInput {
  /** The StatefulSet's replicas now. */
  replicas: number;
  /** Ordinals being drained now (status.drainingPods), all < replicas. */
  draining: readonly number[];
  /** Pods that should serve (from desiredReplicas). */
  desiredServing: number;
  /** Drain deadlines (ms since the epoch) known for draining ordinals (the Redis requests). */
  deadlines: ReadonlyMap<number, number>;
  /** Live heartbeats by ordinal. */
  heartbeats: ReadonlyMap<number, NodeHeartbeat>;
  now: number;
  drainDeadlineMs: number;
}

export interface DrainPlan {
  /** The StatefulSet's new replicas. */
  replicas: number;
  /** Drain requests to write (new drains, and draining pods whose request is missing). */
  requestDrain: Array<{ ordinal: number; deadline: number }>;
  /** Draining pods that serve again. */
  cancelDrain: number[];
  /** Drained ordinals cut from the StatefulSet: their drain requests can be removed. */
  removed: number[];
  /** Ordinals still draining after this pass, ascending. */
  draining: number[];
  /** Why each removed pod went: empty or the deadline passed. */
  removedBecause: Map<number, 'empty' | 'gone' | 'deadline'>;
  /** Earliest deadline among the pods still draining, to reconcile again then. */
  nextDeadline?: number;
}

export function planDrain(input: DrainPlanInput): DrainPlan {
  let replicas = input.replicas;
  const draining = new Set(input.draining.filter((o) => o >= 0 && o < replicas));
  const deadlines = new Map(input.deadlines);
  const requestDrain: DrainPlan['requestDrain'] = [];
  const cancelDrain: number[] = [];
  let serving = replicas - draining.size;

  if (input.desiredServing > serving) {
    // Cancel the lowest draining ordinals first; add pods only once none drains any more.
    for (const o of [...draining].sort((a, b) => a - b)) {
      if (serving >= input.desiredServing) break;
      draining.delete(o);
      deadlines.delete(o);
      cancelDrain.push(o);
      serving++;
    }
    if (serving < input.desiredServing) replicas += input.desiredServing - serving;
  } else if (input.desiredServing < serving) {
    for (let o = replicas - 1; o >= 0 && replicas - draining.size > input.desiredServing; o--) {
      if (draining.has(o)) continue;
      draining.add(o);
      const deadline = input.now + input.drainDeadlineMs;
      deadlines.set(o, deadline);
      requestDrain.push({ ordinal: o, deadline });
    }
  }
  for (const o of draining) {
    if (!deadlines.has(o)) {
      const deadline = input.now + input.drainDeadlineMs;
      deadlines.set(o, deadline);
      requestDrain.push({ ordinal: o, deadline });
    }
  }

  const removed: number[] = [];
  const removedBecause = new Map<number, 'empty' | 'gone' | 'deadline'>();
  while (replicas > 0 && draining.has(replicas - 1)) {
    const o = replicas - 1;
    const hb = input.heartbeats.get(o);
    const why = !hb
      ? 'gone'
      : nodeLoad(hb) === 0
        ? 'empty'
        : input.now >= (deadlines.get(o) ?? Infinity)
          ? 'deadline'
          : undefined;
    if (!why) break;
    draining.delete(o);
    removed.push(o);
    removedBecause.set(o, why);
    replicas--;
  }

  const left = [...draining].sort((a, b) => a - b);
  const next = left.map((o) => deadlines.get(o)).filter((d): d is number => d !== undefined);
  const plan: DrainPlan = {
    replicas,
    requestDrain: requestDrain.filter((r) => draining.has(r.ordinal)),
    cancelDrain,
    removed,
    draining: left,
    removedBecause,
  };
  if (next.length > 0) plan.nextDeadline = Math.min(...next);
  return plan;
}
