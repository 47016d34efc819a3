// A control API for fuzzing (schemathesis against /v1/openapi.json): a real Redis, rooms kept in
// memory, one placed room ("fuzz") and live heartbeats. Prints the URL and a host's bearer token,
// then serves until SIGTERM/SIGINT.
//
//   npx tsx bench/control-api/fuzz-server.ts
import { Redis } from 'ioredis';
import { startRedis } from '../../test/env/redis.js';
import {
  MemoryAudioRooms,
  beatForever,
  call,
  placeRoom,
  startApi,
  testEnv,
  userToken,
} from '../../control-api/test/harness.js';

const redisServer = await startRedis();
const redis = new Redis(redisServer.url);
const api = await startApi(testEnv(redisServer.url), new MemoryAudioRooms('rooms'));
const stopBeats = beatForever(redis);
const token = await userToken('fuzzer', { expiresIn: '2h' });
await call(api.url, 'POST', '/v1/rooms', { auth: token, body: { name: 'fuzz', title: 'Fuzz' } });
await placeRoom(redis, 'rooms/fuzz');
console.log(JSON.stringify({ url: api.url, token }));
const stop = async (): Promise<void> => {
  stopBeats();
  await api.close();
  redis.disconnect();
  await redisServer.stop();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
