// The control API's per-room keys, all under roomKeys(room).prefix, i.e. the room's {r:<room>}
// hash tag: every stage script touches one slot (Redis Cluster safe).
import { PREFIX, roomKeys } from '../../../common/src/contract/keys.js';

export const controlRoomKeys = (room: string) => {
  const { prefix, route, events } = roomKeys(room);
  return {
    route,
    events,
    /** HASH: title, speakerLimit, createdAt, createdBy, ended. */
    meta: `${prefix}meta`,
    /** HASH user → host|moderator|speaker (listeners are not stored): the stage and its rights. */
    roles: `${prefix}roles`,
    /** HASH user → JSON {name, at}: who is in the room now. */
    participants: `${prefix}participants`,
    /** ZSET user → sequence number: the hand-raise queue in order. */
    hands: `${prefix}hands`,
    /** HASH user → raisedAt (ms). */
    handTimes: `${prefix}hand-times`,
    /** HASH user → inviting moderator: pending invitations to the stage. */
    invites: `${prefix}invites`,
    /** SET of muted users. */
    muted: `${prefix}muted`,
    /** SET of banned users. */
    banned: `${prefix}banned`,
    /** STREAM of room events, read by the Cassandra write-behind consumer group. */
    log: `${prefix}log`,
    /** STRING counter: hand-raise order. */
    seq: `${prefix}seq`,
    /** Token bucket of the room's rate limit. */
    rate: `${prefix}rate`,
    /**
     * Prefix of one ZSET per shard, `…seats:<shard>`: join id → when a listener was seated there
     * (ms), kept 10 s. The join script builds the shard's key from it (same hash tag, same slot).
     */
    seats: `${prefix}seats`,
  } as const;
};

/** SET of room ids whose stream the write-behind consumer reads. */
export const streamsKey = `${PREFIX}:{control}:streams`;
/** Token bucket of one principal. */
export const principalRateKey = (principal: string): string => `${PREFIX}:{rl:${principal}}`;
