// MediaRegion status (pure): counts, capacity, draining pods and Ready/Progressing/Degraded.
import type { MediaRegionStatus } from '../../../../common/src/crd/media-region.js';
import { setCondition, type Condition } from '../../runtime/conditions.js';
import { podCapacity } from './load.js';
import { selectorString, type MediaRegion } from './types.js';

export interface StatusInput {
  region: MediaRegion;
  /** The status this pass starts from (conditions keep their transition times). */
  previous: MediaRegionStatus | undefined;
  /** The StatefulSet's replicas we applied, and what its status reports. */
  specReplicas: number;
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  /** Whether the StatefulSet controller has seen our last spec. */
  stsObserved: boolean;
  used: number;
  drainingPods: string[];
  direction: 'up' | 'down' | 'steady';
  /** A problem that keeps the region from converging (e.g. invalid heartbeats). */
  degraded?: { reason: string; message: string };
  now: number;
}

type Status = MediaRegionStatus & { conditions: Condition[] };

export function buildStatus(input: StatusInput): Status {
  const { region } = input;
  const generation = region.metadata.generation;
  const conditions: Condition[] = structuredClone(
    (input.previous?.conditions ?? []) as Condition[],
  );
  const serving = input.specReplicas - input.drainingPods.length;
  const readyServing = Math.min(input.readyReplicas, serving);
  const status: Status = {
    replicas: input.replicas,
    readyReplicas: input.readyReplicas,
    selector: selectorString(region),
    capacity: {
      total: Math.max(0, readyServing) * podCapacity(region.spec),
      used: Math.max(0, input.used),
    },
    drainingPods: input.drainingPods,
    conditions,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  const gen = generation !== undefined ? { observedGeneration: generation } : {};
  const set = (type: string, ok: boolean, reason: string, message: string): void => {
    setCondition(
      conditions,
      { type, status: ok ? 'True' : 'False', reason, message, ...gen },
      input.now,
    );
  };

  const allReady =
    input.stsObserved &&
    input.readyReplicas >= input.specReplicas &&
    input.replicas === input.specReplicas;
  if (serving <= 0) {
    set(
      'Ready',
      input.specReplicas === 0 && region.spec.minReplicas === 0,
      'NoReplicas',
      'no media pod serves this region',
    );
  } else if (allReady) {
    set(
      'Ready',
      true,
      'AllPodsReady',
      `${input.readyReplicas}/${input.specReplicas} media pods ready`,
    );
  } else if (readyServing > 0) {
    set(
      'Ready',
      true,
      'PartiallyReady',
      `${input.readyReplicas}/${input.specReplicas} media pods ready`,
    );
  } else {
    set('Ready', false, 'PodsNotReady', `0/${input.specReplicas} media pods ready`);
  }

  if (input.drainingPods.length > 0) {
    set('Progressing', true, 'Draining', `draining ${input.drainingPods.join(', ')}`);
  } else if (input.direction === 'up' || input.replicas < input.specReplicas) {
    set('Progressing', true, 'ScalingUp', `scaling to ${input.specReplicas} media pods`);
  } else if (input.replicas > input.specReplicas) {
    set('Progressing', true, 'ScalingDown', `scaling to ${input.specReplicas} media pods`);
  } else if (!allReady || input.updatedReplicas < input.specReplicas) {
    set(
      'Progressing',
      true,
      'RollingOut',
      `${input.readyReplicas}/${input.specReplicas} media pods ready`,
    );
  } else {
    set('Progressing', false, 'Stable', `${input.specReplicas} media pods`);
  }

  if (input.degraded) set('Degraded', true, input.degraded.reason, input.degraded.message);
  else set('Degraded', false, 'AsExpected', 'no problem found');
  return status;
}

/** Whether writing next over current would change any field next sets. */
export function statusChanged(
  current: MediaRegionStatus | undefined,
  next: MediaRegionStatus,
): boolean {
  const cur = (current ?? {}) as Record<string, unknown>;
  const pick: Record<string, unknown> = {};
  for (const k of Object.keys(next)) pick[k] = cur[k];
  return canonical(normalize(pick)) !== canonical(normalize(next as Record<string, unknown>));
}

function normalize(s: Record<string, unknown>): Record<string, unknown> {
  const conditions = (s.conditions as Array<{ type: string }> | undefined) ?? [];
  return {
    ...s,
    drainingPods: s.drainingPods ?? [],
    conditions: [...conditions].sort((a, b) => a.type.localeCompare(b.type)),
  };
}

/** JSON with object keys sorted, so key order never reads as a change. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
