import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlEventStore, readJsonlEvents } from '../durable/jsonl-event-store.js';
import { LocalAudioRooms } from './local-audio-rooms.js';

const spec = { title: 'A', speakerLimit: 10, sharding: { listenersPerShard: 500, maxShards: 50 } };

describe('local mode stores', () => {
  test('rooms: create/exists/list, finalizer holds deletion, kept across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-rooms-'));
    try {
      const file = join(dir, 'rooms.json');
      const rooms = new LocalAudioRooms('default', file);
      await rooms.create('a', spec, {});
      await expect(rooms.create('a', spec, {})).rejects.toMatchObject({
        kind: 'room-exists',
      });
      rooms.addFinalizer('a', 'f');
      expect(await rooms.delete('a')).toBe(true);
      expect((await rooms.get('a'))?.metadata).toHaveProperty('deletionTimestamp');
      const again = new LocalAudioRooms('default', file);
      expect((await again.list(10, undefined)).items.map((r) => r.metadata.name)).toEqual(['a']);
      again.removeFinalizer('a', 'f');
      expect(await again.get('a')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('JSONL events: a replayed entry is read once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-jsonl-'));
    try {
      const store = new JsonlEventStore(join(dir, 'd', 'events.jsonl'));
      const event = { room: 'default/a', id: '1-0', fields: { type: 'room-created' } };
      await store.write(event);
      await store.write(event);
      await store.write({ ...event, id: '2-0' });
      expect((await readJsonlEvents(store.file)).map((e) => e.id)).toEqual(['1-0', '2-0']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
