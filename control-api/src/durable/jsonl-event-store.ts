// The embedded durable store of local mode: room events appended as JSON lines to one file, behind the
// same EventSink the write-behind consumer feeds Cassandra through. A replay after a crash between the
// append and the XACK appends the line again; readers (readJsonlEvents) keep one line per
// (room, entry id), so the store is exactly-once for whoever reads it, like the Cassandra tables.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EventSink, StreamEvent } from './event-store.js';

export class JsonlEventStore implements EventSink {
  #ready: Promise<unknown> | undefined;

  constructor(readonly file: string) {}

  async write(event: StreamEvent): Promise<void> {
    this.#ready ??= mkdir(dirname(this.file), { recursive: true });
    await this.#ready;
    const line = JSON.stringify({ room: event.room, id: event.id, fields: event.fields });
    await appendFile(this.file, `${line}\n`, 'utf8');
  }
}

/** Every stored event once, in file order; a torn last line (a crash mid-append) is skipped. */
export async function readJsonlEvents(file: string): Promise<StreamEvent[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const seen = new Set<string>();
  const out: StreamEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let event: StreamEvent;
    try {
      event = JSON.parse(line) as StreamEvent;
    } catch {
      continue;
    }
    const key = `${event.room}\n${event.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(event);
  }
  return out;
}
