import { describe, expect, it } from '@jest/globals';
import { WorkerIndex, type Indexed } from './worker-index.js';

const w = (ordinal: number, headroom: number): Indexed => ({ ordinal, headroom });

describe('WorkerIndex', () => {
  it('returns the worker with the least headroom that still fits', () => {
    const index = new WorkerIndex([w(0, 300), w(1, 80), w(2, 120), w(3, 60)]);
    expect(index.bestFit(70)?.ordinal).toBe(1);
    expect(index.bestFit(100)?.ordinal).toBe(2);
    expect(index.bestFit(301)).toBeUndefined();
  });

  it('breaks ties by ordinal', () => {
    const index = new WorkerIndex([w(5, 100), w(2, 100), w(9, 100)]);
    expect(index.bestFit(50)?.ordinal).toBe(2);
  });

  it('skips workers the caller rejects', () => {
    const index = new WorkerIndex([w(0, 100), w(1, 110), w(2, 120)]);
    expect(index.bestFit(50, { accepts: (x) => x.ordinal !== 0 })?.ordinal).toBe(1);
  });

  it('moves a worker when its headroom changes', () => {
    const a = w(0, 100);
    const b = w(1, 200);
    const index = new WorkerIndex([a, b]);
    index.update(a, 250);
    expect(index.bestFit(150)?.ordinal).toBe(1);
    index.update(b, 10);
    expect(index.bestFit(150)?.ordinal).toBe(0);
    expect([...index].map((x) => x.ordinal)).toEqual([1, 0]);
  });

  it('stays sorted through many updates', () => {
    const items = Array.from({ length: 50 }, (_, i) => w(i, (i * 37) % 101));
    const index = new WorkerIndex(items);
    for (let i = 0; i < 200; i++) index.update(items[(i * 7) % 50]!, (i * 53) % 97);
    const order = [...index];
    for (let i = 1; i < order.length; i++) {
      const [p, q] = [order[i - 1]!, order[i]!];
      expect(p.headroom < q.headroom || (p.headroom === q.headroom && p.ordinal < q.ordinal)).toBe(
        true,
      );
    }
    expect(index.size).toBe(50);
  });
});
