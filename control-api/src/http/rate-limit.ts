// Token buckets in Redis: one Lua call per check, refilled by Redis's clock, so every replica of
// the API shares one limit. Denied requests get a 429 problem with Retry-After.
import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/script.js';
import { HttpProblem } from './problem.js';

// KEYS[1] bucket. ARGV: tokens per ms, burst. Returns {allowed 0|1, wait ms}.
const TOKEN_BUCKET = new LuaScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(v[1]) or burst
local ts = tonumber(v[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {allowed, wait}
`);

export interface Bucket {
  perSecond: number;
  burst: number;
}

export async function takeToken(
  redis: Redis,
  key: string,
  bucket: Bucket,
  what: string,
): Promise<void> {
  const [allowed, wait] = (await TOKEN_BUCKET.run(
    redis,
    [key],
    [bucket.perSecond / 1000, bucket.burst],
  )) as [number, number];
  if (allowed === 1) return;
  const seconds = Math.max(1, Math.ceil(wait / 1000));
  throw new HttpProblem('rate-limited', `rate limit of ${what} exceeded; retry in ${seconds} s`, {
    headers: { 'Retry-After': String(seconds) },
  });
}
