// Presence: a media pod reports every joined session that ended (socket closed, left, pod shut
// down) on one Redis stream; the control API's consumer group removes the participant after a
// grace period unless a newer join (another token id) replaced that session. Without it a client
// that vanished (closed tab, lost network) would stay a participant forever.
import { Type, type Static } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import { decodeValue } from './codec.js';
import { presenceKeys } from './keys.js';

export const SessionEnded = Type.Object({
  room: Type.String({ minLength: 1, maxLength: 317 }),
  user: Type.String({ minLength: 1, maxLength: 256 }),
  /** The join token's jti: which join of the user this session was. */
  join: Type.String({ minLength: 1, maxLength: 64 }),
  node: Type.String({ minLength: 1, maxLength: 253 }),
  reason: Type.String({ maxLength: 120 }),
});
export type SessionEnded = Static<typeof SessionEnded>;

/** Bounds the stream: entries older than the consumer's position are not needed. */
const MAX_ENTRIES = 100_000;

/** One XADD (approximate MAXLEN trim); the entry id's time is when the session ended. */
export async function reportSessionEnded(redis: Redis, ended: SessionEnded): Promise<string> {
  const e = decodeValue(SessionEnded, ended, 'session ended');
  const id = await redis.xadd(
    presenceKeys.ended,
    'MAXLEN',
    '~',
    MAX_ENTRIES,
    '*',
    'room',
    e.room,
    'user',
    e.user,
    'join',
    e.join,
    'node',
    e.node,
    'reason',
    e.reason,
  );
  return id!;
}

/** A stream entry's fields → SessionEnded (throws DecodeError on a malformed entry). */
export function decodeSessionEnded(fields: readonly string[]): SessionEnded {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) o[fields[i]!] = fields[i + 1]!;
  return decodeValue(SessionEnded, o, 'session ended entry');
}
