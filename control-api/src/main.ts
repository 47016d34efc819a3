// The control API process: configuration, Redis, Kubernetes, Cassandra migrations, the write-behind
// consumer and the HTTP server; SIGTERM closes them in order.
import { KubeConfig } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { createLogger } from '../../common/src/logger.js';
import { NodeRegistry } from '../../common/src/contract/node-registry.js';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { cassandraClient } from './durable/cassandra.js';
import { CassandraEventStore } from './durable/event-store.js';
import { migrate } from './durable/migrations.js';
import { WriteBehind } from './durable/write-behind.js';
import { PresenceConsumer } from './presence/consumer.js';
import { LostPodSweeper } from './presence/sweeper.js';
import { UnconnectedJoinSweeper } from './presence/unconnected.js';
import { KubeAudioRooms } from './rooms/audio-rooms.js';
import { RoomStore } from './stage/store.js';

const logger = createLogger('control-api');
let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    logger.fatal(error.message);
    process.exit(2);
  }
  throw error;
}
const kubeConfig = new KubeConfig();
if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
else kubeConfig.loadFromCluster();
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
const { app } = createApp({
  config,
  redis,
  rooms: new KubeAudioRooms(kubeConfig, config.namespace),
  logger,
  defaultMetrics: true,
});

let writer: WriteBehind | undefined;
let stopCassandra: (() => Promise<void>) | undefined;
if (config.cassandra) {
  const client = cassandraClient(config.cassandra);
  const { keyspace, replication } = config.cassandra;
  // The API serves joins even while Cassandra is down: migrations are retried in the background.
  const reader = redis.duplicate();
  writer = new WriteBehind(reader, new CassandraEventStore(client, keyspace), logger, {
    consumer: `${hostname()}-${process.pid}`,
  });
  void (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await migrate(client, keyspace, replication);
        writer.start();
        return;
      } catch (error) {
        logger.warn({ err: error, attempt }, 'Cassandra migrations failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1_000 * attempt)));
      }
    }
  })();
  stopCassandra = async () => {
    await writer?.stop();
    reader.disconnect();
    await client.shutdown();
  };
}

// Participants whose media session ended (closed tab, lost network) leave after the grace.
const presenceReader = redis.duplicate();
const presence = new PresenceConsumer(presenceReader, new RoomStore(redis), logger, {
  consumer: `${hostname()}-${process.pid}`,
  graceMs: config.presenceGraceMs,
});
presence.start();
// Pods that died without reporting their sessions: reported for them once lost.
const sweeper = new LostPodSweeper(redis, new NodeRegistry(redis), logger, {
  lostAfterMs: config.presencePodLostMs,
});
sweeper.start();
// Joins that never connected (no pod recorded them): reported once their token can no longer be used.
const unconnected = new UnconnectedJoinSweeper(redis, logger, {
  maxConnectMs: config.joinToken.ttlSeconds * 1000 + 30_000,
  owner: `${hostname()}-${process.pid}`,
});
unconnected.start();

const server = app.listen(config.port, () =>
  logger.info({ port: config.port }, 'control API listening'),
);
process.once('SIGTERM', () => {
  server.close(() => {
    void (async () => {
      await sweeper.stop();
      await unconnected.stop();
      await presence.stop();
      presenceReader.disconnect();
      await stopCassandra?.();
      redis.disconnect();
      process.exit(0);
    })();
  });
});
