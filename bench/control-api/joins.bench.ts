// Benchmark of the join path: POST /v1/rooms/{id}/join against a real Redis (rate limits, the room
// script, the route, the node registry cache, a signed join token, TURN credentials), and in the same
// run a bare express endpoint that parses the same JSON body and answers a constant — the floor of
// express + HTTP on this machine. Closed loop, keep-alive, the client in this process.
//
//   npx tsx bench/control-api/joins.bench.ts
//
// Prints, per concurrency: joins/s and p50/p99 latency; the best sustained rate with p99 < 50 ms
// for both; their ratio; and Redis commands per join (INFO commandstats over a measured run).
import express from 'express';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startRedis } from '../../test/env/redis.js';
import {
  MemoryAudioRooms,
  beatForever,
  placeRoom,
  startApi,
  testEnv,
  userToken,
} from '../../control-api/test/harness.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '4,8,16,32,64').split(',').map(Number);
const USERS = 2_000;
const P99_LIMIT_MS = 50;

interface Run {
  concurrency: number;
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  count: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function post(port: number, path: string, body: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function load(
  port: number,
  path: string,
  tokens: string[],
  concurrency: number,
  seconds: number,
): Promise<Run> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const end = performance.now() + seconds * 1000;
  const body = JSON.stringify({ rtts: { 'eu-west': 30, 'us-east': 90 } });
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const token = tokens[next++ % tokens.length]!;
      const t0 = performance.now();
      const status = await post(port, path, body, token);
      latencies.push(performance.now() - t0);
      if (status !== 200) errors++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    concurrency,
    rate: latencies.length / elapsed,
    p50: q(0.5),
    p99: q(0.99),
    errors,
    count: latencies.length,
  };
}

function best(runs: Run[]): Run | undefined {
  return runs
    .filter((r) => r.p99 < P99_LIMIT_MS && r.errors === 0)
    .sort((a, b) => b.rate - a.rate)[0];
}

const fmt = (r: Run): string =>
  `c=${String(r.concurrency).padStart(3)}  ${r.rate.toFixed(0).padStart(6)}/s  p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  errors ${r.errors}`;

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) stats.set(m[1]!, Number(m[2]));
  }
  return stats;
}

const redisServer = await startRedis();
const redis = new Redis(redisServer.url);
const api = await startApi(
  testEnv(redisServer.url, { TEST_LOG_LEVEL: 'silent' }),
  new MemoryAudioRooms('rooms'),
);
const stopBeats = beatForever(redis);
await placeRoom(redis, 'rooms/bench', { listenersPerShard: 100_000 });
await redis.hset('amphi:{r:rooms/bench}:meta', 'title', 'bench', 'speakerLimit', '10');
const tokens = await Promise.all(
  Array.from({ length: USERS }, (_, i) => userToken(`user-${i}`, { expiresIn: '1h' })),
);

const bare = express();
bare.post('/join', express.json(), (req, res) => {
  res.json({ ok: true, rtts: (req.body as { rtts?: unknown }).rtts });
});
const bareServer = await new Promise<ReturnType<typeof bare.listen>>((resolve) => {
  const s = bare.listen(0, '127.0.0.1', () => resolve(s));
});
const barePort = (bareServer.address() as AddressInfo).port;
const apiPort = Number(new URL(api.url).port);

console.log(`join path vs bare express, ${SECONDS} s per step, closed loop, client in-process\n`);
// Warm-up (JIT, connections, script cache).
await load(apiPort, '/v1/rooms/bench/join', tokens, 8, 1);
await load(barePort, '/join', tokens, 8, 1);

const apiRuns: Run[] = [];
const bareRuns: Run[] = [];
for (const c of CONCURRENCY) {
  bareRuns.push(await load(barePort, '/join', tokens, c, SECONDS));
  apiRuns.push(await load(apiPort, '/v1/rooms/bench/join', tokens, c, SECONDS));
  console.log(`bare  ${fmt(bareRuns.at(-1)!)}`);
  console.log(`join  ${fmt(apiRuns.at(-1)!)}`);
}

// Redis commands per join, over one measured run (heartbeats of the two fake pods included).
const before = await commandStats(redis);
const measured = await load(apiPort, '/v1/rooms/bench/join', tokens, 8, 2);
const after = await commandStats(redis);
const perJoin = [...after]
  .map(([cmd, calls]) => [cmd, (calls - (before.get(cmd) ?? 0)) / measured.count] as const)
  .filter(([cmd, n]) => n > 0.001 && cmd !== 'info')
  .sort((a, b) => b[1] - a[1]);

const bestApi = best(apiRuns);
const bestBare = best(bareRuns);
console.log('');
console.log(`best join   with p99 < ${P99_LIMIT_MS} ms: ${bestApi ? fmt(bestApi) : 'none'}`);
console.log(`best bare   with p99 < ${P99_LIMIT_MS} ms: ${bestBare ? fmt(bestBare) : 'none'}`);
if (bestApi && bestBare)
  console.log(`join / bare throughput ratio: ${(bestApi.rate / bestBare.rate).toFixed(2)}`);
console.log(
  `Redis commands per join: ${perJoin.reduce((s, [, n]) => s + n, 0).toFixed(2)} (${perJoin.map(([c, n]) => `${c} ${n.toFixed(2)}`).join(', ')})`,
);

stopBeats();
agent.destroy();
bareServer.close();
await api.close();
redis.disconnect();
await redisServer.stop();
