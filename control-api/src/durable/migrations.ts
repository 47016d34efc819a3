// Versioned CQL migrations, applied in order at start. Every statement is idempotent (IF NOT
// EXISTS) and each applied version is recorded, so concurrent or repeated starts are harmless.
import type cassandra from 'cassandra-driver';

export interface Migration {
  version: number;
  name: string;
  statements: (keyspace: string) => string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'rooms, time-bucketed room events, participation history',
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.rooms (
        room_id text PRIMARY KEY, title text, created_by text, host text, speaker_limit int,
        created_at timestamp, ended_at timestamp, created_event text, ended_event text)`,
      // One partition per room and hour; the stream entry id (ms, seq) is the clustering key, so a
      // replayed entry overwrites itself: exactly one row per event.
      `CREATE TABLE IF NOT EXISTS ${ks}.room_events (
        room_id text, bucket int, event_ms bigint, event_seq bigint,
        type text, actor text, target text, role text, at timestamp, data text,
        PRIMARY KEY ((room_id, bucket), event_ms, event_seq)
      ) WITH CLUSTERING ORDER BY (event_ms ASC, event_seq ASC)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.participation_by_user (
        user_id text, event_ms bigint, event_seq bigint, room_id text, action text, role text,
        PRIMARY KEY ((user_id), event_ms, event_seq, room_id)
      ) WITH CLUSTERING ORDER BY (event_ms DESC, event_seq DESC, room_id ASC)`,
    ],
  },
];

export async function migrate(
  client: cassandra.Client,
  keyspace: string,
  replication: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${replication}`,
  );
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${keyspace}.schema_migrations (version int PRIMARY KEY, name text, applied_at timestamp)`,
  );
  const done = new Set(
    (await client.execute(`SELECT version FROM ${keyspace}.schema_migrations`)).rows.map(
      (r) => r.get('version') as number,
    ),
  );
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    for (const statement of migration.statements(keyspace)) await client.execute(statement);
    await client.execute(
      `INSERT INTO ${keyspace}.schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
      [migration.version, migration.name, new Date()],
      { prepare: true },
    );
    applied.push(migration.version);
  }
  return applied;
}
