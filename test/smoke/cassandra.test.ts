// Smoke test of the test bed's real Cassandra 5.0: schema, prepared write/read, LWT and batch.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import cassandra from 'cassandra-driver';
import { startCassandra, type CassandraHandle } from '../env/cassandra.js';

describe('Cassandra (real 5.0 node)', () => {
  let node: CassandraHandle;
  let client: cassandra.Client;

  beforeAll(async () => {
    node = await startCassandra();
    console.info(`Cassandra ${node.version} answered CQL after ${node.startupMs} ms`);
    client = new cassandra.Client({
      contactPoints: [node.contactPoint],
      localDataCenter: node.localDataCenter,
    });
    await client.connect();
  }, 240_000);

  afterAll(async () => {
    await client?.shutdown();
    await node?.stop();
    expect(node?.process.running ?? false).toBe(false);
  }, 60_000);

  test('runs 5.0', () => {
    expect(node.version).toMatch(/^5\.0\./);
  });

  test('creates a schema, writes with a prepared statement and reads the row back', async () => {
    await client.execute(
      "CREATE KEYSPACE IF NOT EXISTS amphi_smoke WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    );
    await client.execute(
      'CREATE TABLE IF NOT EXISTS amphi_smoke.rooms (room_id uuid PRIMARY KEY, title text, capacity int, tags set<text>, created_at timestamp)',
    );
    const roomId = cassandra.types.Uuid.random();
    const createdAt = new Date('2025-01-02T03:04:05.678Z');
    await client.execute(
      'INSERT INTO amphi_smoke.rooms (room_id, title, capacity, tags, created_at) VALUES (?, ?, ?, ?, ?)',
      [roomId, 'Morning show', 250, ['live', 'talk'], createdAt],
      { prepare: true },
    );

    const result = await client.execute(
      'SELECT title, capacity, tags, created_at FROM amphi_smoke.rooms WHERE room_id = ?',
      [roomId],
      { prepare: true },
    );
    expect(result.rowLength).toBe(1);
    const row = result.first();
    expect(row.get('title')).toBe('Morning show');
    expect(row.get('capacity')).toBe(250);
    expect([...(row.get('tags') as string[])].sort()).toEqual(['live', 'talk']);
    expect((row.get('created_at') as Date).toISOString()).toBe(createdAt.toISOString());
  });

  test('a lightweight transaction applies once, and a logged batch writes atomically', async () => {
    await client.execute(
      'CREATE TABLE IF NOT EXISTS amphi_smoke.seats (room_id text, seat int, holder text, PRIMARY KEY (room_id, seat))',
    );
    const claim =
      'INSERT INTO amphi_smoke.seats (room_id, seat, holder) VALUES (?, ?, ?) IF NOT EXISTS';
    const first = await client.execute(claim, ['r1', 1, 'alice'], { prepare: true });
    const second = await client.execute(claim, ['r1', 1, 'bob'], { prepare: true });
    expect(first.wasApplied()).toBe(true);
    expect(second.wasApplied()).toBe(false);
    expect(second.first().get('holder')).toBe('alice');

    await client.batch(
      [
        {
          query: 'INSERT INTO amphi_smoke.seats (room_id, seat, holder) VALUES (?, ?, ?)',
          params: ['r1', 2, 'carol'],
        },
        {
          query: 'INSERT INTO amphi_smoke.seats (room_id, seat, holder) VALUES (?, ?, ?)',
          params: ['r1', 3, 'dave'],
        },
      ],
      { prepare: true, logged: true },
    );
    const seats = await client.execute(
      'SELECT seat, holder FROM amphi_smoke.seats WHERE room_id = ?',
      ['r1'],
      {
        prepare: true,
      },
    );
    expect(seats.rows.map((r) => [r.get('seat'), r.get('holder')])).toEqual([
      [1, 'alice'],
      [2, 'carol'],
      [3, 'dave'],
    ]);
  });
});
