import { describe, expect, test } from '@jest/globals';
import type { NodeHeartbeat } from '../../../../common/src/contract/heartbeat.js';
import { planDrain, type DrainPlanInput } from './drain.js';
import { fixtureBeat } from './fixtures.js';

const NOW = 1_000_000;
const beats = (loads: Record<number, number>): Map<number, NodeHeartbeat> =>
  new Map(Object.entries(loads).map(([o, l]) => [Number(o), fixtureBeat(`p-${o}`, l)]));
const plan = (input: Partial<DrainPlanInput>) =>
  planDrain({
    replicas: 3,
    draining: [],
    desiredServing: 3,
    deadlines: new Map(),
    heartbeats: beats({ 0: 5, 1: 5, 2: 5 }),
    now: NOW,
    drainDeadlineMs: 60_000,
    ...input,
  });

describe('planDrain', () => {
  test('steady: nothing to do', () => {
    expect(plan({})).toMatchObject({
      replicas: 3,
      requestDrain: [],
      cancelDrain: [],
      removed: [],
      draining: [],
    });
  });

  test('scale up adds pods', () => {
    expect(plan({ desiredServing: 5 })).toMatchObject({ replicas: 5, requestDrain: [] });
  });

  test('scale down drains the highest ordinals first and keeps busy pods', () => {
    const p = plan({ desiredServing: 1 });
    expect(p.requestDrain).toEqual([
      { ordinal: 2, deadline: NOW + 60_000 },
      { ordinal: 1, deadline: NOW + 60_000 },
    ]);
    expect(p).toMatchObject({
      replicas: 3,
      draining: [1, 2],
      removed: [],
      nextDeadline: NOW + 60_000,
    });
  });

  test('replicas drop past empty or vanished pods, from the top only', () => {
    const busyTop = plan({ desiredServing: 1, heartbeats: beats({ 0: 5, 1: 0, 2: 5 }) });
    expect(busyTop).toMatchObject({ replicas: 3, draining: [1, 2] });
    const emptyTop = plan({
      replicas: 3,
      draining: [1, 2],
      desiredServing: 1,
      deadlines: new Map([
        [1, NOW + 5],
        [2, NOW + 5],
      ]),
      heartbeats: beats({ 0: 5, 1: 0, 2: 0 }),
    });
    expect(emptyTop).toMatchObject({
      replicas: 1,
      draining: [],
      removed: [2, 1],
      requestDrain: [],
    });
    expect(emptyTop.removedBecause.get(2)).toBe('empty');
    const gone = plan({
      replicas: 3,
      draining: [2],
      desiredServing: 2,
      deadlines: new Map([[2, NOW + 5]]),
      heartbeats: beats({ 0: 5, 1: 5 }),
    });
    expect(gone).toMatchObject({ replicas: 2, removed: [2] });
    expect(gone.removedBecause.get(2)).toBe('gone');
  });

  test('a busy pod goes once its deadline passed', () => {
    const p = plan({ draining: [2], desiredServing: 2, deadlines: new Map([[2, NOW - 1]]) });
    expect(p).toMatchObject({ replicas: 2, removed: [2] });
    expect(p.removedBecause.get(2)).toBe('deadline');
  });

  test('load coming back cancels the lowest drains before adding pods', () => {
    const deadlines = new Map([
      [1, NOW + 10],
      [2, NOW + 10],
    ]);
    expect(plan({ draining: [1, 2], desiredServing: 2, deadlines })).toMatchObject({
      replicas: 3,
      cancelDrain: [1],
      draining: [2],
    });
    expect(plan({ draining: [1, 2], desiredServing: 4, deadlines })).toMatchObject({
      replicas: 4,
      cancelDrain: [1, 2],
      draining: [],
    });
  });

  test('a draining pod whose request vanished gets it again', () => {
    const p = plan({ draining: [2], desiredServing: 2 });
    expect(p.requestDrain).toEqual([{ ordinal: 2, deadline: NOW + 60_000 }]);
  });

  test('draining ordinals at or past replicas are forgotten', () => {
    expect(
      plan({ replicas: 2, draining: [2, 5], desiredServing: 2, heartbeats: beats({ 0: 1, 1: 1 }) }),
    ).toMatchObject({ replicas: 2, draining: [] });
  });
});
