import { describe, expect, test } from '@jest/globals';
import { fixtureBeat, fixtureRegion } from './fixtures.js';
import { desiredReplicas, nodeLoad, regionNodes } from './load.js';

// Fixture: 2 workers × 100 = 200 streams a pod; target 70% = 140; low watermark 30%; 1..5 pods.
const { spec } = fixtureRegion();
const decide = (used: number, serving: number) => desiredReplicas({ spec, used, serving }).desired;

describe('desiredReplicas', () => {
  test('no load: minReplicas', () => {
    expect(decide(0, 0)).toBe(1);
    expect(decide(0, 1)).toBe(1);
    expect(decide(0, 3)).toBe(1);
  });

  test('scales up at once to what the target utilisation needs', () => {
    expect(decide(141, 1)).toBe(2);
    expect(decide(300, 1)).toBe(3);
    expect(desiredReplicas({ spec, used: 300, serving: 1 }).direction).toBe('up');
  });

  test('never above maxReplicas, never below minReplicas', () => {
    expect(decide(100_000, 2)).toBe(5);
    expect(decide(0, 9)).toBe(1);
    expect(
      desiredReplicas({ spec: { ...spec, minReplicas: 3 }, used: 0, serving: 1 }).desired,
    ).toBe(3);
  });

  test('hysteresis: between the low watermark and the target nothing moves', () => {
    // 3 pods = 600 streams of capacity; 30% = 180.
    expect(decide(181, 3)).toBe(3); // needs 2 at target, but 30.2% ≥ low watermark
    expect(decide(400, 3)).toBe(3); // 66%: fine
    expect(decide(420, 3)).toBe(3); // exactly the target
    expect(decide(421, 3)).toBe(4); // above it
  });

  test('below the low watermark: down to what the target needs', () => {
    expect(decide(179, 3)).toBe(2);
    expect(decide(100, 3)).toBe(1);
    expect(desiredReplicas({ spec, used: 100, serving: 3 }).direction).toBe('down');
    // After scaling down the load is at most the target: no flapping back up.
    expect(decide(179, 2)).toBe(2);
  });

  test('load with no serving pod needs pods', () => {
    const d = desiredReplicas({ spec, used: 50, serving: 0 });
    expect(d).toMatchObject({ desired: 1, utilizationPercent: Infinity, direction: 'up' });
  });
});

describe('load from heartbeats', () => {
  test('nodeLoad sums consumers and producers over workers', () => {
    const hb = fixtureBeat('eu-media-0', 10);
    hb.workers.push({ ...hb.workers[0]!, index: 1, consumers: 5, producers: 2 });
    expect(nodeLoad(hb)).toBe(17);
  });

  test("regionNodes keeps this region's own pods only", () => {
    const region = fixtureRegion();
    const nodes = regionNodes(region, [
      fixtureBeat('eu-media-0', 1),
      fixtureBeat('eu-media-12', 1),
      fixtureBeat('eu-media-x', 1),
      fixtureBeat('other-media-0', 1),
      fixtureBeat('eu-media-1', 1, 'us-east'),
    ]);
    expect([...nodes.keys()]).toEqual(['eu-media-0', 'eu-media-12']);
  });
});
