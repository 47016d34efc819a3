// One Lua script for every change of a room's hot state: checks, the change, the event on the
// room's stream (durability) and its pub/sub channel (media pods) happen atomically in one slot.
//
// KEYS: meta route roles participants hands handTimes invites muted banned log seq rate seats
// ARGV: op actor actorKind target channel room data [tokensPerMs burst] (the room's token bucket)
// Returns {'ok', eventType, eventId|'' (unchanged), role, streamLength} or {'err', problem, detail}.
export const ROOM_SCRIPT = `
local meta, route, roles, parts, hands, handTimes, invites, muted, banned, log, seq =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local seats = KEYS[13]
local op, actor, kind, target, channel, room, data = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local RANK = { host = 4, moderator = 3, speaker = 2, listener = 1 }

local function err(code, detail) return { 'err', code, detail or '' } end
if ARGV[8] and ARGV[8] ~= '' then
  local rate, burst = tonumber(ARGV[8]), tonumber(ARGV[9])
  local v = redis.call('HMGET', KEYS[12], 't', 'ts')
  local tokens = math.min(burst, (tonumber(v[1]) or burst) + math.max(0, now - (tonumber(v[2]) or now)) * rate)
  if tokens < 1 then return err('rate-limited', tostring(math.ceil((1 - tokens) / rate))) end
  redis.call('HSET', KEYS[12], 't', tostring(tokens - 1), 'ts', now)
  redis.call('PEXPIRE', KEYS[12], math.ceil(burst / rate) + 1000)
end
local function role_of(u) return redis.call('HGET', roles, u) or 'listener' end
local function rank_of(u) return RANK[role_of(u)] end
local actor_rank = 5
if kind ~= 'platform' then actor_rank = rank_of(actor) end
local function emit(etype, tgt, role, publish)
  local id = redis.call('XADD', log, '*', 'type', etype, 'room', room, 'actor', actor,
    'target', tgt, 'role', role or '', 'at', tostring(now), 'data', data)
  if publish then
    local ev = { id = id, type = etype, room = room, actor = actor, at = now }
    if tgt ~= '' then ev.target = tgt end
    if role then ev.role = role end
    redis.call('PUBLISH', channel, cjson.encode(ev))
  end
  return id
end
local function ok(etype, id, role)
  return { 'ok', etype, id or '', role or '', redis.call('XLEN', log) }
end
local function unchanged(etype, role) return { 'ok', etype, '', role or '', -1 } end
local function stage_limit()
  local limit = tonumber(redis.call('HGET', meta, 'speakerLimit'))
  if limit then return limit end
  local r = redis.call('GET', route)
  if r then
    local okd, decoded = pcall(cjson.decode, r)
    if okd and type(decoded) == 'table' and tonumber(decoded.speakerLimit) then return tonumber(decoded.speakerLimit) end
  end
  return 10
end
local function clear_user(u)
  redis.call('ZREM', hands, u)
  redis.call('HDEL', handTimes, u)
  redis.call('HDEL', invites, u)
end
local function is_participant(u) return redis.call('HEXISTS', parts, u) == 1 end
-- Leaving: the participant, their hand and invitation, their mute, and a speaker's place on stage.
local function remove_participant(u)
  local role = role_of(u)
  redis.call('HDEL', parts, u)
  clear_user(u)
  redis.call('SREM', muted, u)
  if role == 'speaker' then redis.call('HDEL', roles, u) end
  return ok('participant-left', emit('participant-left', u, role, role ~= 'listener'), role)
end

if op == 'create' then
  -- The AudioRoom CR was just created, so any state left here is from an earlier room of that name.
  redis.call('DEL', meta, roles, parts, hands, handTimes, invites, muted, banned, seq)
  local d = cjson.decode(data)
  redis.call('HSET', meta, 'title', d.title, 'speakerLimit', d.speakerLimit, 'createdAt', now, 'createdBy', actor)
  redis.call('HSET', roles, target, 'host')
  return ok('room-created', emit('room-created', target, 'host', true), 'host')
end

local ended = redis.call('HGET', meta, 'ended') == '1'
if ended or (redis.call('EXISTS', meta) == 0 and redis.call('EXISTS', route) == 0) then
  return err('room-not-found', 'no such room (or it has ended)')
end

if op == 'join-check' then
  if redis.call('SISMEMBER', banned, actor) == 1 then return err('banned', 'you are banned from this room') end
  return { 'ok', role_of(actor), redis.call('GET', route) or '', tostring(stage_limit()) }
end

if op == 'end' then
  if actor_rank < 4 then return err('forbidden', 'only a host can end the room') end
  redis.call('HSET', meta, 'ended', '1', 'endedAt', now)
  redis.call('DEL', roles, parts, hands, handTimes, invites, muted, seq)
  return ok('room-ended', emit('room-ended', '', nil, true))
end

-- A listener's seat (join/select.ts): per region in order, the least-filled choice with room, where
-- a shard's fill is its pod's report plus the seats taken there since the report was sent. One ZSET
-- per shard (join id → ms), its key built from the seats prefix: same hash tag, same slot.
local SEAT_KEEP_MS = 10000
local function take_seat(choices, join)
  local limit = tonumber(choices.limit)
  for _, region in ipairs(choices.regions) do
    local best, best_fill
    for _, c in ipairs(region) do
      local fill = tonumber(c.reported) + redis.call('ZCOUNT', seats .. ':' .. c.shard, '(' .. c.reportedAt, '+inf')
      if fill < limit and (best == nil or fill < best_fill) then best, best_fill = c, fill end
    end
    if best then
      local key = seats .. ':' .. best.shard
      redis.call('ZADD', key, now, join)
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now - SEAT_KEEP_MS)
      redis.call('PEXPIRE', key, SEAT_KEEP_MS)
      return best
    end
  end
  return nil
end

if op == 'join' then
  if redis.call('SISMEMBER', banned, actor) == 1 then return err('banned', 'you are banned from this room') end
  local role = role_of(actor)
  local d = cjson.decode(data)
  if type(d.seats) == 'table' then
    local seat = take_seat(d.seats, d.join)
    if not seat then return err('no-seat', 'every shard of the room is full; an edge is being added') end
    d.shard, d.node, d.region, d.seats = seat.shard, seat.node, seat.region, nil
    data = cjson.encode(d)
  end
  redis.call('HSET', parts, actor, data)
  -- Listeners' joins go to the stream (history) only: media pods aggregate counts.
  local id = emit('participant-joined', actor, role, role ~= 'listener')
  return { 'ok', 'participant-joined', id, role, redis.call('XLEN', log), d.shard or '' }
end

if op == 'leave' then
  if not is_participant(actor) then return unchanged('participant-left') end
  return remove_participant(actor)
end

if op == 'session-ended' then
  -- A media pod reported that the session of join d.join ended; a newer join replaced it, or the
  -- user left already, when the participant's current join differs (or there is none).
  local d = cjson.decode(data)
  local cur = redis.call('HGET', parts, target)
  if not cur then return unchanged('participant-left') end
  local okd, p = pcall(cjson.decode, cur)
  if not okd or type(p) ~= 'table' or p.join ~= d.join then return unchanged('participant-left') end
  return remove_participant(target)
end

if op == 'set-role' then
  if actor_rank < 4 then return err('forbidden', 'only a host can grant roles') end
  local current = role_of(target)
  if current == data then return unchanged('role-changed', data) end
  if current == 'host' and kind ~= 'platform' then return err('forbidden', 'a host role can only be changed by the platform') end
  if data == 'listener' then
    redis.call('HDEL', roles, target)
    redis.call('SREM', muted, target)
  else
    if current == 'listener' and redis.call('HLEN', roles) >= stage_limit() then
      return err('stage-full', 'the stage holds ' .. stage_limit() .. ' people')
    end
    redis.call('HSET', roles, target, data)
    clear_user(target)
  end
  return ok('role-changed', emit('role-changed', target, data, true), data)
end

if op == 'raise' then
  if not is_participant(actor) then return err('not-participant', 'join the room first') end
  if role_of(actor) ~= 'listener' then return err('invalid-state', 'you are already on the stage') end
  if redis.call('ZSCORE', hands, actor) then return unchanged('hand-raised') end
  redis.call('ZADD', hands, redis.call('INCR', seq), actor)
  redis.call('HSET', handTimes, actor, now)
  return ok('hand-raised', emit('hand-raised', actor, nil, true))
end

if op == 'lower' then
  if target ~= actor and actor_rank < 3 then return err('forbidden', 'only moderators lower others\\' hands') end
  if redis.call('ZREM', hands, target) == 0 then return unchanged('hand-lowered') end
  redis.call('HDEL', handTimes, target)
  return ok('hand-lowered', emit('hand-lowered', target, nil, true))
end

if op == 'invite' then
  if actor_rank < 3 then return err('forbidden', 'only moderators invite to the stage') end
  if not is_participant(target) then return err('not-participant', target .. ' is not in the room') end
  if role_of(target) ~= 'listener' then return err('invalid-state', target .. ' is already on the stage') end
  if redis.call('HEXISTS', invites, target) == 1 then return unchanged('stage-invited') end
  redis.call('HSET', invites, target, actor)
  return ok('stage-invited', emit('stage-invited', target, nil, true))
end

if op == 'accept' or op == 'decline' then
  if redis.call('HEXISTS', invites, actor) == 0 then return err('invalid-state', 'no pending invitation to the stage') end
  if op == 'decline' then
    redis.call('HDEL', invites, actor)
    return ok('stage-invite-declined', emit('stage-invite-declined', actor, nil, true))
  end
  if redis.call('HLEN', roles) >= stage_limit() then
    return err('stage-full', 'the stage holds ' .. stage_limit() .. ' people')
  end
  redis.call('HSET', roles, actor, 'speaker')
  clear_user(actor)
  return ok('speaker-added', emit('speaker-added', actor, 'speaker', true), 'speaker')
end

if op == 'audience' then
  local role = role_of(target)
  if target ~= actor then
    if actor_rank < 3 then return err('forbidden', 'only moderators move others to the audience') end
    if RANK[role] >= actor_rank then return err('forbidden', 'cannot move a peer or superior to the audience') end
  end
  if role == 'listener' then return unchanged('speaker-removed', 'listener') end
  if role == 'host' then return err('invalid-state', 'a host stays on the stage; transfer the role first') end
  redis.call('HDEL', roles, target)
  redis.call('SREM', muted, target)
  return ok('speaker-removed', emit('speaker-removed', target, 'listener', true), 'listener')
end

if op == 'mute' or op == 'unmute' then
  if target ~= actor then
    if actor_rank < 3 then return err('forbidden', 'only moderators mute others') end
    if rank_of(target) >= actor_rank then return err('forbidden', 'cannot mute a peer or superior') end
  end
  if role_of(target) == 'listener' then return err('invalid-state', target .. ' is not on the stage') end
  local changed
  if op == 'mute' then changed = redis.call('SADD', muted, target) else changed = redis.call('SREM', muted, target) end
  local etype = op == 'mute' and 'muted' or 'unmuted'
  if changed == 0 then return unchanged(etype) end
  return ok(etype, emit(etype, target, nil, true))
end

if op == 'remove' or op == 'ban' then
  if actor_rank < 3 then return err('forbidden', 'only moderators remove people') end
  if target == actor then return err('invalid-state', 'use leave to leave the room') end
  if rank_of(target) >= actor_rank then return err('forbidden', 'cannot remove a peer or superior') end
  local present = is_participant(target)
  if op == 'remove' and not present then return err('not-participant', target .. ' is not in the room') end
  if op == 'ban' and not present and redis.call('SISMEMBER', banned, target) == 1 then return unchanged('participant-banned') end
  redis.call('HDEL', parts, target)
  redis.call('HDEL', roles, target)
  redis.call('SREM', muted, target)
  clear_user(target)
  if op == 'ban' then redis.call('SADD', banned, target) end
  local etype = op == 'ban' and 'participant-banned' or 'participant-removed'
  return ok(etype, emit(etype, target, nil, true))
end

return err('validation-error', 'unknown operation ' .. op)
`;

// Read-only snapshot. KEYS: meta route roles participants hands handTimes invites muted banned
export const SNAPSHOT_SCRIPT = `
local meta, route, roles, parts, hands, handTimes, invites, muted = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
if redis.call('EXISTS', meta) == 0 and redis.call('EXISTS', route) == 0 then return false end
local stage = redis.call('HGETALL', roles)
local present = 0
for i = 1, #stage, 2 do present = present + redis.call('HEXISTS', parts, stage[i]) end
local queue = redis.call('ZRANGE', hands, 0, -1)
local times = {}
for i = 1, #queue, 1000 do
  local chunk = redis.call('HMGET', handTimes, unpack(queue, i, math.min(i + 999, #queue)))
  for j = 1, #chunk do times[#times + 1] = chunk[j] end
end
return {
  redis.call('HGETALL', meta), redis.call('GET', route) or '', stage, redis.call('HLEN', parts), present,
  queue, times, redis.call('HKEYS', invites), redis.call('SMEMBERS', muted)
}
`;
