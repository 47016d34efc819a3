import { describe, expect, it } from '@jest/globals';
import {
  findCondition,
  isConditionTrue,
  isConditionTrueFor,
  metaTime,
  removeCondition,
  setCondition,
  type Condition,
} from './conditions.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0, 789);
const T1 = T0 + 60_000;

describe('conditions', () => {
  it('formats metav1.Time without fractional seconds', () => {
    expect(metaTime(T0)).toBe('2025-01-01T12:00:00Z');
  });

  it('adds a new condition with lastTransitionTime = now', () => {
    const list: Condition[] = [];
    const changed = setCondition(
      list,
      {
        type: 'Ready',
        status: 'False',
        reason: 'Pending',
        message: 'waiting',
        observedGeneration: 1,
      },
      T0,
    );
    expect(changed).toBe(true);
    expect(list).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'Pending',
        message: 'waiting',
        observedGeneration: 1,
        lastTransitionTime: '2025-01-01T12:00:00Z',
      },
    ]);
  });

  it('keeps lastTransitionTime when the status does not change', () => {
    const list: Condition[] = [];
    setCondition(list, { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, T0);
    const changed = setCondition(
      list,
      { type: 'Ready', status: 'False', reason: 'B', message: 'b', observedGeneration: 2 },
      T1,
    );
    expect(changed).toBe(true);
    expect(list[0]).toMatchObject({
      reason: 'B',
      message: 'b',
      observedGeneration: 2,
      lastTransitionTime: metaTime(T0),
    });
  });

  it('moves lastTransitionTime when the status changes, and replaces rather than appends', () => {
    const list: Condition[] = [];
    setCondition(list, { type: 'Ready', status: 'False', reason: 'A', message: '' }, T0);
    setCondition(list, { type: 'Other', status: 'True', reason: 'X', message: '' }, T0);
    setCondition(list, { type: 'Ready', status: 'True', reason: 'A', message: '' }, T1);
    expect(list).toHaveLength(2);
    expect(findCondition(list, 'Ready')?.lastTransitionTime).toBe(metaTime(T1));
  });

  it('reports no change for an identical condition (so status writes can be skipped)', () => {
    const list: Condition[] = [];
    const c = {
      type: 'Ready',
      status: 'True',
      reason: 'Ok',
      message: 'm',
      observedGeneration: 3,
    } as const;
    setCondition(list, c, T0);
    const before = structuredClone(list);
    expect(setCondition(list, c, T1)).toBe(false);
    expect(list).toEqual(before);
  });

  it('finds, tests and removes conditions', () => {
    const list: Condition[] = [];
    setCondition(list, {
      type: 'Ready',
      status: 'True',
      reason: 'Ok',
      message: '',
      observedGeneration: 4,
    });
    expect(isConditionTrue(list, 'Ready')).toBe(true);
    expect(isConditionTrue(list, 'Missing')).toBe(false);
    expect(isConditionTrue(undefined, 'Ready')).toBe(false);
    expect(isConditionTrueFor(list, 'Ready', 4)).toBe(true);
    expect(isConditionTrueFor(list, 'Ready', 5)).toBe(false);
    expect(removeCondition(list, 'Ready')).toBe(true);
    expect(removeCondition(list, 'Ready')).toBe(false);
    expect(list).toEqual([]);
  });
});
