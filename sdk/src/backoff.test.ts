import { describe, expect, test } from '@jest/globals';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  test('full jitter under an exponential, capped ceiling', () => {
    expect(backoffDelay(0, { baseMs: 100, maxMs: 1_000 }, 0, () => 1)).toBe(100);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 1_000 }, 0, () => 1)).toBe(800);
    expect(backoffDelay(10, { baseMs: 100, maxMs: 1_000 }, 0, () => 1)).toBe(1_000);
    expect(backoffDelay(10, { baseMs: 100, maxMs: 1_000 }, 0, () => 0)).toBe(0);
  });
  test("the server's hint is a floor", () => {
    expect(backoffDelay(0, {}, 700, () => 0)).toBe(700);
  });
  test('1000 clients spread over the window instead of coming back together', () => {
    const delays = Array.from({ length: 1_000 }, () => backoffDelay(4, { baseMs: 250 }));
    // Each second of the 4 s window takes about a quarter (binomial sd ≈ 14 of 250: the bounds are
    // more than 7 sd away). A delay of exactly 4000 ms (rounding) belongs to the last second.
    const perSecond = [0, 0, 0, 0];
    for (const d of delays) perSecond[Math.min(3, Math.floor(d / 1_000))]! += 1;
    for (const n of perSecond) expect(n).toBeGreaterThan(150);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4_000);
  });
});
