import { describe, expect, it } from '@jest/globals';
import { nextShardSeq, shardId } from './shard-ids.js';

describe('shard ids', () => {
  it('counts up past the highest id the room has', () => {
    expect(nextShardSeq([])).toBe(1);
    expect(nextShardSeq([{ id: 'o1' }, { id: 'e7' }, { id: 'e3' }])).toBe(8);
    expect(nextShardSeq([{ id: 'custom' }, { id: 'e2' }])).toBe(3);
  });

  it('names origins o<n> and edges e<n>', () => {
    expect(shardId('origin', 1)).toBe('o1');
    expect(shardId('edge', 12)).toBe('e12');
  });
});
