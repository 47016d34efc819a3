// Presence: a media pod reports every joined session that ended (socket closed, left, pod shut
// down) on one Redis stream; the control API's consumer group removes the participant after a
// grace period unless a newer join (another token id) replaced that session. Without it a client
// that vanished (closed tab, lost network) would stay a participant forever.
//
// A pod that dies without a word (SIGKILL, lost node) reports nothing, so each pod also keeps the
// sessions it holds in a hash of its own; whoever finds the pod gone (its restarted self at start,
// the control API's sweep once its heartbeat has been missing a while) reports them all ended.
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

export const SessionStarted = Type.Omit(SessionEnded, ['reason']);
export type SessionStarted = Static<typeof SessionStarted>;

/** A joined session, recorded in its pod's sessions hash (one HSET, one SADD, one round trip). */
export async function recordSessionStarted(redis: Redis, started: SessionStarted): Promise<void> {
  const s = decodeValue(SessionStarted, started, 'session started');
  await redis
    .multi()
    .hset(presenceKeys.sessions(s.node), s.join, JSON.stringify(s))
    .sadd(presenceKeys.nodes, s.node)
    .exec();
}

/**
 * One XADD (approximate MAXLEN trim) and the session out of its pod's hash, atomically; the entry
 * id's time is when the session ended.
 */
export async function reportSessionEnded(redis: Redis, ended: SessionEnded): Promise<string> {
  const e = decodeValue(SessionEnded, ended, 'session ended');
  const replies = await redis
    .multi()
    .xadd(
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
    )
    .hdel(presenceKeys.sessions(e.node), e.join)
    .exec();
  const [error, id] = replies![0]!;
  if (error) throw error;
  return id as string;
}

// KEYS: ended stream, the node's sessions hash, nodes set. ARGV: node, reason, max entries.
const END_ALL = `
local all = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 2, #all, 2 do
  local ok, s = pcall(cjson.decode, all[i])
  if ok and type(s) == 'table' and s.room and s.user and s.join then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'room', s.room, 'user', s.user,
      'join', s.join, 'node', ARGV[1], 'reason', ARGV[2])
    n = n + 1
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return n
`;

/**
 * Reports every session a pod holds as ended (the pod is gone or restarted) and forgets them,
 * atomically: a second caller finds none. Returns how many were reported.
 */
export async function reportAllSessionsEnded(
  redis: Redis,
  node: string,
  reason: string,
): Promise<number> {
  return (await redis.eval(
    END_ALL,
    3,
    presenceKeys.ended,
    presenceKeys.sessions(node),
    presenceKeys.nodes,
    node,
    reason.slice(0, 120),
    String(MAX_ENTRIES),
  )) as number;
}

/** Node ids that hold recorded sessions. */
export function nodesWithSessions(redis: Redis): Promise<string[]> {
  return redis.smembers(presenceKeys.nodes);
}

/** A stream entry's fields → SessionEnded (throws DecodeError on a malformed entry). */
export function decodeSessionEnded(fields: readonly string[]): SessionEnded {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) o[fields[i]!] = fields[i + 1]!;
  return decodeValue(SessionEnded, o, 'session ended entry');
}
