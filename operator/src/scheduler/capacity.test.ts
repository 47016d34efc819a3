import { describe, expect, it } from '@jest/globals';
import {
  heldUnits,
  newShardUnits,
  reportedUnits,
  shardShare,
  shardThresholds,
  workerBudget,
} from './capacity.js';
import { region } from './fixtures.js';

const policy = region('eu').capacity; // 500 per worker, 70/80/30 %

describe('capacity', () => {
  it('fills a worker up to its target utilisation', () => {
    expect(workerBudget(policy)).toBe(350);
  });

  it('counts listeners and producers, or CPU when that is higher', () => {
    expect(reportedUnits({ listeners: 100, producers: 5, cpuPercent: 10 }, policy)).toBe(105);
    expect(reportedUnits({ listeners: 100, producers: 5, cpuPercent: 90 }, policy)).toBe(450);
  });

  it('derives per-shard thresholds from listenersPerShard and the region percents', () => {
    expect(shardThresholds(500, policy, 10)).toEqual({
      target: 350,
      high: 400,
      low: 150,
      minReservation: 50,
    });
  });

  it('spreads the room over its shards, between the minimum reservation and the target', () => {
    const t = shardThresholds(500, policy, 10);
    expect(shardShare(0, 1, t)).toBe(50);
    expect(shardShare(600, 3, t)).toBe(200);
    expect(shardShare(5000, 2, t)).toBe(350);
  });

  it('holds only the unfilled part of a share, plus producers until the shard is realised', () => {
    expect(heldUnits({ listeners: 20, state: 'Ready' }, 50, 10, 350)).toBe(30);
    expect(heldUnits({ listeners: 80, state: 'Ready' }, 50, 10, 350)).toBe(0);
    expect(heldUnits({ listeners: 0, state: 'Pending' }, 50, 10, 350)).toBe(60);
  });

  it('never reserves more than an empty worker can take', () => {
    expect(newShardUnits(350, 10, 350)).toBe(350);
    expect(newShardUnits(50, 10, 350)).toBe(60);
  });
});
