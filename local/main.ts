// Local mode (`npm start`): the platform on one machine, no Kubernetes. One process tree:
//   redis-server (child; or REDIS_URL) · the control API with rooms kept locally · the write-behind
//   consumer into an on-disk JSONL store (or Cassandra when CASSANDRA_CONTACT_POINTS is set) · the
//   operator's placement pass every 500 ms · one media pod (one mediasoup worker per core) · the
//   browser page. SIGINT/SIGTERM stop everything; a second signal exits at once.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { registryKeys } from '../common/src/contract/keys.js';
import { NodeRegistry } from '../common/src/contract/node-registry.js';
import { createLogger } from '../common/src/logger.js';
import { createApp } from '../control-api/src/app.js';
import { loadConfig as loadApiConfig } from '../control-api/src/config.js';
import { cassandraClient } from '../control-api/src/durable/cassandra.js';
import { CassandraEventStore, type EventSink } from '../control-api/src/durable/event-store.js';
import { JsonlEventStore } from '../control-api/src/durable/jsonl-event-store.js';
import { migrate } from '../control-api/src/durable/migrations.js';
import { WriteBehind } from '../control-api/src/durable/write-behind.js';
import { PresenceConsumer } from '../control-api/src/presence/consumer.js';
import { LostPodSweeper } from '../control-api/src/presence/sweeper.js';
import { UnconnectedJoinSweeper } from '../control-api/src/presence/unconnected.js';
import { LocalAudioRooms } from '../control-api/src/rooms/local-audio-rooms.js';
import { RoomStore } from '../control-api/src/stage/store.js';
import { loadConfig as loadPodConfig } from '../media-pod/src/config.js';
import { MediaPod } from '../media-pod/src/pod.js';
import { LocalPlacement } from './placement.js';
import { freePortRange, freeTcpPort } from './ports.js';
import { startLocalRedis, type LocalRedis } from './redis-server.js';
import { bundleWebApp } from './web.js';

const REGION = 'local';
const ISSUER = 'amphi-local';
const AUDIENCE = 'amphi';
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const log = createLogger('local');
const host = env.AMPHI_HOST ?? '127.0.0.1';
const stateDir = resolve(
  env.AMPHI_STATE_DIR ?? join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'amphi'),
);
mkdirSync(stateDir, { recursive: true });

interface Secrets {
  /** Join tokens as in production: an Ed25519 key pair; the media pod gets only the public key. */
  joinPrivateKey: string;
  joinPublicKey: string;
  userJwt: string;
}
/** Fresh secrets per run, in the state directory (mode 600) for whoever needs to sign tokens. */
function newSecrets(): Secrets {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const secrets = {
    joinPrivateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    joinPublicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    userJwt: randomBytes(32).toString('base64url'),
  };
  writeFileSync(join(stateDir, 'secrets.json'), JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

const stops: Array<[string, () => Promise<void>]> = [];
let stopping: Promise<void> | undefined;
async function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    for (const [what, stop] of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.warn({ err, what }, 'stop failed');
      }
    }
    process.stdout.write('amphi local mode stopped\n');
    process.exit(code);
  })();
  return stopping;
}
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (++signals > 1) process.exit(130);
    log.info({ signal }, 'stopping');
    void shutdown(0);
  });

async function main(): Promise<void> {
  const secrets = newSecrets();
  // Hot state.
  let redisUrl = env.REDIS_URL;
  if (!redisUrl) {
    const local: LocalRedis = await startLocalRedis(stateDir, host);
    stops.push(['redis-server', local.stop]);
    redisUrl = local.url;
    log.info({ url: redisUrl, pid: local.pid, dir: join(stateDir, 'redis') }, 'redis-server up');
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
  stops.push(['redis client', async () => redis.disconnect()]);

  // The media pod (in-process; its mediasoup workers are children of this process).
  const workers = env.MEDIA_WORKERS;
  const podEnv: Record<string, string | undefined> = {
    MEDIA_NODE_ID: env.MEDIA_NODE_ID ?? 'local-media-0',
    MEDIA_REGION: REGION,
    MEDIA_ZONE: REGION,
    MEDIA_K8S_NODE: hostname().toLowerCase(),
    MEDIA_LISTEN_IP: host,
    MEDIA_SIGNALING_PORT: String(await freeTcpPort(host)),
    MEDIA_PIPE_PORT: String(await freeTcpPort(host)),
    REDIS_URL: redisUrl,
    JOIN_TOKEN_PUBLIC_KEY: secrets.joinPublicKey,
    JOIN_TOKEN_ISSUER: ISSUER,
    MEDIA_DRAIN_DEADLINE_MS: '2000',
    MEDIA_COUNTS_INTERVAL_MS: '1000',
    MEDIA_WORKER_LOG_LEVEL: env.MEDIA_WORKER_LOG_LEVEL ?? 'warn',
    ...(workers ? { MEDIA_WORKERS: workers } : {}),
  };
  const podConfig = loadPodConfig(podEnv);
  podConfig.basePort = env.MEDIA_BASE_PORT
    ? Number(env.MEDIA_BASE_PORT)
    : await freePortRange(host, podConfig.workers);
  const pod = new MediaPod(podConfig);
  stops.push(['media pod', () => pod.stop()]);
  await pod.start(await import('mediasoup'));
  log.info(
    { workers: podConfig.workers, basePort: podConfig.basePort, signaling: pod.signalingUrl },
    'media pod up',
  );

  // Rooms and placement.
  const rooms = new LocalAudioRooms('default', join(stateDir, 'rooms.json'));
  const placement = new LocalPlacement({ redis, rooms, region: REGION, log });
  placement.start();
  stops.push(['placement', () => placement.stop()]);

  // Durable store behind the hot path.
  let sink: EventSink;
  const reader = redis.duplicate();
  stops.push(['write-behind reader', async () => reader.disconnect()]);
  const apiEnv: Record<string, string | undefined> = {
    ...env,
    PORT: '0',
    REDIS_URL: redisUrl,
    ROOM_NAMESPACE: 'default',
    KUBECONFIG: undefined,
    AUTH_JWT_ISSUER: ISSUER,
    AUTH_JWT_AUDIENCE: AUDIENCE,
    AUTH_JWT_SECRET: secrets.userJwt,
    AUTH_JWKS_URL: undefined,
    AUTH_JWT_PUBLIC_KEY: undefined,
    AUTH_JWT_ALGORITHMS: 'HS256',
    JOIN_TOKEN_SECRET: undefined,
    JOIN_TOKEN_PRIVATE_KEY: secrets.joinPrivateKey,
    JOIN_TOKEN_ISSUER: ISSUER,
  };
  const config = loadApiConfig(apiEnv);
  let durable: string;
  if (config.cassandra) {
    const client = cassandraClient(config.cassandra);
    await migrate(client, config.cassandra.keyspace, config.cassandra.replication);
    sink = new CassandraEventStore(client, config.cassandra.keyspace);
    stops.push(['cassandra', () => client.shutdown()]);
    durable = `cassandra ${config.cassandra.contactPoints.join(',')}`;
  } else {
    const file = join(stateDir, 'durable', 'room-events.jsonl');
    sink = new JsonlEventStore(file);
    durable = file;
  }
  const writer = new WriteBehind(reader, sink, log, { consumer: `local-${process.pid}` });
  writer.start();
  stops.push(['write-behind', () => writer.stop()]);
  // Participants whose media session ended leave after the grace (PRESENCE_GRACE_MS).
  const presenceReader = redis.duplicate();
  stops.push(['presence reader', async () => presenceReader.disconnect()]);
  const presence = new PresenceConsumer(presenceReader, new RoomStore(redis), log, {
    consumer: `local-${process.pid}`,
    graceMs: config.presenceGraceMs,
  });
  presence.start();
  stops.push(['presence', () => presence.stop()]);
  const sweeper = new LostPodSweeper(redis, new NodeRegistry(redis), log, {
    lostAfterMs: config.presencePodLostMs,
  });
  sweeper.start();
  stops.push(['lost-pod sweep', () => sweeper.stop()]);
  const unconnected = new UnconnectedJoinSweeper(redis, log, {
    maxConnectMs: config.joinToken.ttlSeconds * 1000 + 30_000,
    owner: `local-${process.pid}`,
  });
  unconnected.start();
  stops.push(['never-connected sweep', () => unconnected.stop()]);

  // HTTP: the page, a local sign-in, the control API.
  const { app } = createApp({ config, redis, rooms, logger: log });
  const jwtKey = new TextEncoder().encode(secrets.userJwt);
  const bundle = await bundleWebApp(repo);
  const indexHtml = readFileSync(join(repo, 'web/index.html'), 'utf8');
  const web = express();
  web.get(['/', '/index.html'], (_req, res) => {
    res.type('html').set('cache-control', 'no-store').send(indexHtml);
  });
  web.get('/app.js', (_req, res) => {
    res.type('text/javascript').set('cache-control', 'no-store').send(bundle);
  });
  // Local sign-in: no identity provider in local mode; anyone on this machine gets a user token.
  web.post('/local/session', express.json({ limit: '2kb' }), (req, res) => {
    const raw = String((req.body as { name?: unknown } | undefined)?.name ?? '').trim();
    const name = raw.slice(0, 40) || 'guest';
    const slug =
      name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '') || 'user';
    const user = `${slug}-${randomBytes(3).toString('hex')}`;
    void new SignJWT({ name })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('12h')
      .sign(jwtKey)
      .then((token) => res.json({ user, name, token }));
  });
  web.use(app);
  const port = Number(env.AMPHI_PORT ?? env.PORT ?? 8080);
  const server: Server = await new Promise((ok, fail) => {
    const s = web.listen(port, host, () => ok(s));
    s.once('error', fail);
  });
  stops.push([
    'http',
    () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  ]);
  const address = server.address();
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}/`;

  // Ready once the pod's heartbeat is in the registry and a placement pass saw it.
  const deadline = Date.now() + 20_000;
  while (placement.passes < 2 || !(await redis.exists(registryKeys.node(podConfig.nodeId)))) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  log.info({ stateDir, durable, redis: redisUrl }, 'local mode ready');
  process.stdout.write(
    `\namphi local mode is running (state: ${stateDir}; durable: ${durable})\n` +
      `  open ${url}\n  Ctrl-C stops everything\nAMPHI_LOCAL_URL=${url}\n`,
  );
}

main().catch((err: unknown) => {
  log.fatal({ err: err instanceof Error ? err.message : err }, 'local mode failed to start');
  process.stderr.write(`amphi: local mode failed to start: ${(err as Error).message ?? err}\n`);
  void shutdown(1);
});
