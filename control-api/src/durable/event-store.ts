// Room events into Cassandra, idempotently: the primary key holds the stream entry id.
import cassandra from 'cassandra-driver';

export interface StreamEvent {
  room: string;
  /** Redis Stream entry id, "<ms>-<seq>". */
  id: string;
  fields: Record<string, string>;
}

export const BUCKET_MS = 3_600_000;

export interface EventSink {
  write(event: StreamEvent): Promise<void>;
}

export class CassandraEventStore implements EventSink {
  constructor(
    private readonly client: cassandra.Client,
    private readonly keyspace: string,
  ) {}

  async write(event: StreamEvent): Promise<void> {
    const [msText, seqText] = event.id.split('-');
    const ms = cassandra.types.Long.fromString(msText ?? '0');
    const seq = cassandra.types.Long.fromString(seqText ?? '0');
    const f = event.fields;
    const at = new Date(Number(f.at ?? msText));
    const ks = this.keyspace;
    const queries: Array<{ query: string; params: unknown[] }> = [
      {
        query: `INSERT INTO ${ks}.room_events (room_id, bucket, event_ms, event_seq, type, actor, target, role, at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        params: [
          event.room,
          Math.floor(Number(msText) / BUCKET_MS),
          ms,
          seq,
          f.type ?? '',
          f.actor ?? '',
          f.target ?? '',
          f.role ?? '',
          at,
          f.data ?? '',
        ],
      },
    ];
    if (f.type === 'participant-joined' || f.type === 'participant-left')
      queries.push({
        query: `INSERT INTO ${ks}.participation_by_user (user_id, event_ms, event_seq, room_id, action, role) VALUES (?, ?, ?, ?, ?, ?)`,
        params: [
          f.target || f.actor,
          ms,
          seq,
          event.room,
          f.type === 'participant-joined' ? 'join' : 'leave',
          f.role ?? '',
        ],
      });
    if (f.type === 'room-created') {
      let d: { title?: string; speakerLimit?: number } = {};
      try {
        d = JSON.parse(f.data ?? '{}') as typeof d;
      } catch {
        d = {};
      }
      queries.push({
        query: `INSERT INTO ${ks}.rooms (room_id, title, created_by, host, speaker_limit, created_at, created_event) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        params: [
          event.room,
          d.title ?? '',
          f.actor ?? '',
          f.target ?? '',
          d.speakerLimit ?? null,
          at,
          event.id,
        ],
      });
    }
    if (f.type === 'room-ended')
      queries.push({
        query: `INSERT INTO ${ks}.rooms (room_id, ended_at, ended_event) VALUES (?, ?, ?)`,
        params: [event.room, at, event.id],
      });
    if (queries.length === 1)
      await this.client.execute(queries[0]!.query, queries[0]!.params, { prepare: true });
    else await this.client.batch(queries, { prepare: true, logged: true });
  }
}
