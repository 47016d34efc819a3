import { describe, expect, it } from '@jest/globals';
import { FakeClock } from './clock.js';
import {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
} from './rate-limiter.js';

describe('ItemExponentialFailureRateLimiter', () => {
  it('doubles per failure from the base, per item, and caps at the maximum', () => {
    const rl = new ItemExponentialFailureRateLimiter(5, 1_000_000);
    expect([1, 2, 3, 4].map(() => rl.when('a'))).toEqual([5, 10, 20, 40]);
    expect(rl.when('b')).toBe(5);
    expect(rl.numRequeues('a')).toBe(4);
    for (let i = 0; i < 100; i++) rl.when('a');
    expect(rl.when('a')).toBe(1_000_000);
  });

  it('forget resets the item to the base delay', () => {
    const rl = new ItemExponentialFailureRateLimiter(1, 1000);
    rl.when('a');
    rl.when('a');
    rl.forget('a');
    expect(rl.numRequeues('a')).toBe(0);
    expect(rl.when('a')).toBe(1);
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through, then spaces items at 1/qps', () => {
    const clock = new FakeClock();
    const rl = new BucketRateLimiter(10, 3, clock);
    expect([rl.when('a'), rl.when('b'), rl.when('c')]).toEqual([0, 0, 0]);
    expect(rl.when('d')).toBe(100);
    expect(rl.when('e')).toBe(200);
  });

  it('refills with time, never above the burst', async () => {
    const clock = new FakeClock();
    const rl = new BucketRateLimiter(10, 2, clock);
    rl.when('a');
    rl.when('b');
    await clock.advance(100); // one token back
    expect(rl.when('c')).toBe(0);
    expect(rl.when('d')).toBe(100);
    await clock.advance(60_000);
    expect([rl.when('e'), rl.when('f'), rl.when('g')]).toEqual([0, 0, 100]);
  });
});

describe('MaxOfRateLimiter / defaultControllerRateLimiter', () => {
  it('uses the longest delay and forgets in every limiter', () => {
    const clock = new FakeClock();
    const rl = new MaxOfRateLimiter(
      new ItemExponentialFailureRateLimiter(5, 1000),
      new BucketRateLimiter(10, 1, clock),
    );
    expect(rl.when('a')).toBe(5); // bucket had a token; backoff 5 ms
    expect(rl.when('a')).toBe(100); // bucket overdrawn: 100 ms beats 10 ms
    expect(rl.numRequeues('a')).toBe(2);
    rl.forget('a');
    expect(rl.numRequeues('a')).toBe(0);
  });

  it('default: 5 ms backoff within the burst of 100, then the 10 qps bucket dominates', () => {
    const clock = new FakeClock();
    const rl = defaultControllerRateLimiter(clock);
    const delays = Array.from({ length: 101 }, (_, i) => rl.when(`k${i}`));
    expect(delays.slice(0, 100).every((d) => d === 5)).toBe(true);
    expect(delays[100]).toBe(100);
  });
});
