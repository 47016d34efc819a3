import { describe, expect, test } from '@jest/globals';
import { fixtureRegion } from './fixtures.js';
import { buildStatus, canonical, statusChanged, type StatusInput } from './status.js';

const NOW = Date.UTC(2030, 0, 1);
const input = (over: Partial<StatusInput> = {}): StatusInput => ({
  region: fixtureRegion(),
  previous: undefined,
  specReplicas: 2,
  replicas: 2,
  readyReplicas: 2,
  updatedReplicas: 2,
  stsObserved: true,
  used: 50,
  drainingPods: [],
  direction: 'steady',
  now: NOW,
  ...over,
});
const cond = (s: ReturnType<typeof buildStatus>, type: string) =>
  s.conditions.find((c) => c.type === type);

describe('buildStatus', () => {
  test('all ready: counts, selector, capacity and Ready/Progressing/Degraded', () => {
    const s = buildStatus(input());
    expect(s).toMatchObject({
      replicas: 2,
      readyReplicas: 2,
      selector: 'app.kubernetes.io/name=amphi-media-pod,amphi.dev/media-region=eu',
      capacity: { total: 400, used: 50 },
      drainingPods: [],
      observedGeneration: 3,
    });
    expect(cond(s, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'AllPodsReady',
      observedGeneration: 3,
    });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'Stable' });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  test('scaling, draining, not ready, degraded', () => {
    expect(
      cond(buildStatus(input({ specReplicas: 3, direction: 'up' })), 'Progressing')?.reason,
    ).toBe('ScalingUp');
    const draining = buildStatus(
      input({ specReplicas: 3, replicas: 3, readyReplicas: 3, drainingPods: ['eu-media-2'] }),
    );
    expect(cond(draining, 'Progressing')).toMatchObject({ status: 'True', reason: 'Draining' });
    expect(draining.capacity?.total).toBe(400); // the draining pod takes nothing new
    expect(cond(buildStatus(input({ readyReplicas: 0 })), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodsNotReady',
    });
    expect(
      cond(
        buildStatus(input({ degraded: { reason: 'InvalidHeartbeats', message: 'x' } })),
        'Degraded',
      )?.status,
    ).toBe('True');
  });

  test('transition times move only when a status flips; unchanged status is not rewritten', () => {
    const first = buildStatus(input());
    const again = buildStatus(input({ previous: first, now: NOW + 60_000 }));
    expect(cond(again, 'Ready')?.lastTransitionTime).toBe(cond(first, 'Ready')?.lastTransitionTime);
    expect(statusChanged(first, again)).toBe(false);
    expect(statusChanged(first, buildStatus(input({ previous: first, used: 51 })))).toBe(true);
    expect(statusChanged(undefined, first)).toBe(true);
  });

  test('canonical JSON ignores key order', () => {
    expect(canonical({ b: 1, a: [{ y: 1, x: 2 }] })).toBe(canonical({ a: [{ x: 2, y: 1 }], b: 1 }));
  });
});
