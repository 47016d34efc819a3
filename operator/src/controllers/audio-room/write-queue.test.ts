import { describe, expect, it } from '@jest/globals';
import { RoomWriteQueue } from './write-queue.js';

/** A fake writer: each write waits until released; records what was in flight. */
class FakeWriter {
  inFlight = new Map<string, number>();
  maxInFlight = 0;
  maxPerRoom = 0;
  readonly order: string[] = [];
  readonly #gates: Array<() => void> = [];

  write(room: string, n: number, fail = false): () => Promise<string> {
    return async () => {
      const now = (this.inFlight.get(room) ?? 0) + 1;
      this.inFlight.set(room, now);
      this.maxPerRoom = Math.max(this.maxPerRoom, now);
      this.maxInFlight = Math.max(
        this.maxInFlight,
        [...this.inFlight.values()].reduce((a, b) => a + b, 0),
      );
      await new Promise<void>((r) => this.#gates.push(r));
      this.order.push(`${room}:${n}`);
      this.inFlight.set(room, this.inFlight.get(room)! - 1);
      if (fail) throw new Error(`${room}:${n} failed`);
      return `${room}:${n}`;
    };
  }

  /** Releases the in-flight writes one at a time, in random order, until none is left. */
  async drain(random: () => number): Promise<void> {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (this.#gates.length === 0) return;
      const i = Math.floor(random() * this.#gates.length);
      this.#gates.splice(i, 1)[0]!();
    }
  }
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('RoomWriteQueue', () => {
  it('bounds writes in flight, never runs two of one room at once, keeps per-room order', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const q = new RoomWriteQueue(4);
      const w = new FakeWriter();
      const random = seeded(seed);
      const results: Array<Promise<string>> = [];
      for (let n = 0; n < 200; n++) {
        const room = `r${Math.floor(random() * 12)}`;
        results.push(q.enqueue(room, w.write(room, n)));
      }
      await w.drain(random);
      await q.idle();
      expect(await Promise.all(results)).toHaveLength(200);
      expect(w.maxInFlight).toBeLessThanOrEqual(4);
      expect(w.maxInFlight).toBe(4);
      expect(w.maxPerRoom).toBe(1);
      const perRoom = new Map<string, number>();
      for (const e of w.order) {
        const [room, n] = e.split(':');
        expect(Number(n)).toBeGreaterThan(perRoom.get(room!) ?? -1);
        perRoom.set(room!, Number(n));
      }
      expect(q.inFlight).toBe(0);
      expect(q.queued).toBe(0);
    }
  });

  it('a slow room does not hold up the others; a failure is that write’s alone', async () => {
    const q = new RoomWriteQueue(2);
    let releaseSlow!: () => void;
    const slow = q.enqueue(
      'slow',
      () => new Promise<string>((r) => (releaseSlow = () => r('slow'))),
    );
    const afterSlow = q.enqueue('slow', () => Promise.resolve('slow-2'));
    const fast: string[] = [];
    for (let i = 0; i < 10; i++)
      fast.push(await q.enqueue(`r${i}`, () => Promise.resolve(`r${i}`)));
    expect(fast).toHaveLength(10);
    expect(q.has('slow')).toBe(true);
    await expect(q.enqueue('bad', () => Promise.reject(new Error('409')))).rejects.toThrow('409');
    let settled = false;
    void q.settled('slow')!.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    releaseSlow();
    expect(await slow).toBe('slow');
    expect(await afterSlow).toBe('slow-2');
    await q.idle();
    expect(settled).toBe(true);
    expect(q.has('slow')).toBe(false);
    expect(q.settled('slow')).toBeUndefined();
  });
});
