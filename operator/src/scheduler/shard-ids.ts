// Shard ids: unique within a room, short (the CRD allows 63 characters), never reused while the
// room's status still lists a shard: "o<n>" for origins, "e<n>" for edges, n counting up per room.

const PATTERN = /^[oe](\d{1,9})$/;

/** The next sequence number: one past the highest "o<n>"/"e<n>" the room has, else 1. */
export function nextShardSeq(shards: readonly { id: string }[]): number {
  let max = 0;
  for (const s of shards) {
    const m = PATTERN.exec(s.id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

export function shardId(role: 'origin' | 'edge', seq: number): string {
  return `${role === 'origin' ? 'o' : 'e'}${seq}`;
}
