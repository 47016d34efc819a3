// The write-behind consumer as its own process (also started inside the API by main.ts):
// REDIS_URL, CASSANDRA_CONTACT_POINTS, CASSANDRA_LOCAL_DC, CASSANDRA_KEYSPACE, CONSUMER_NAME,
// CLAIM_IDLE_MS. Killing it at any moment loses nothing: what it had not acknowledged is replayed.
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { createLogger } from '../../../common/src/logger.js';
import { cassandraClient } from './cassandra.js';
import { CassandraEventStore, type StreamEvent } from './event-store.js';
import { migrate } from './migrations.js';
import { WriteBehind } from './write-behind.js';

const env = process.env;
const logger = createLogger('control-api-write-behind');
const keyspace = env.CASSANDRA_KEYSPACE ?? 'amphi';
const client = cassandraClient({
  contactPoints: (env.CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042').split(','),
  localDataCenter: env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
});
await migrate(
  client,
  keyspace,
  env.CASSANDRA_REPLICATION ?? "{'class': 'SimpleStrategy', 'replication_factor': 1}",
);
const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const store = new CassandraEventStore(client, keyspace);
// WRITE_DELAY_MS throttles writes (tests use it to kill the consumer in the middle of a stream).
const delay = Number(env.WRITE_DELAY_MS ?? 0);
const sink =
  delay > 0
    ? {
        write: async (e: StreamEvent) => (
          await new Promise((r) => setTimeout(r, delay)),
          store.write(e)
        ),
      }
    : store;
const consumer = new WriteBehind(redis, sink, logger, {
  consumer: env.CONSUMER_NAME ?? `${hostname()}-${process.pid}`,
  claimIdleMs: Number(env.CLAIM_IDLE_MS ?? 15_000),
});
consumer.start();
logger.info('write-behind consumer running');
process.stdout.write('READY\n');
const shutdown = async (): Promise<void> => {
  await consumer.stop();
  redis.disconnect();
  await client.shutdown();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
