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
    const seconds = new Set(delays.map((d) => Math.floor(d / 1_000)));
    expect(seconds.size).toBe(4);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4_000);
  });
});
