// AudioRooms without Kubernetes (local mode): the room objects live in this process and, when a file
// is given, in a JSON file rewritten on every change. Same semantics the control API relies on from
// the Kubernetes API: create fails on an existing name (room-exists), get/list/delete by name, a
// generation and creationTimestamp per object, and a finalizer holding deletion until the placement
// loop has released the room's shards (deletionTimestamp set, then removed with the finalizer).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AudioRoomSpec, AudioRoomStatus } from '../../../common/src/crd/audio-room.js';
import { API_VERSION, AUDIO_ROOM } from '../../../common/src/crd/definitions.js';
import { HttpProblem } from '../http/problem.js';
import type { AudioRoomList, AudioRoomObject, AudioRooms } from './audio-rooms.js';

/** An AudioRoomObject with the metadata a controller needs. */
export interface LocalAudioRoom extends AudioRoomObject {
  metadata: AudioRoomObject['metadata'] & {
    resourceVersion?: string;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
}

export class LocalAudioRooms implements AudioRooms {
  readonly #rooms = new Map<string, LocalAudioRoom>();
  #version = 0;

  constructor(
    readonly namespace: string,
    /** JSON file the rooms are kept in across restarts; memory only when undefined. */
    readonly file?: string,
  ) {
    if (file === undefined) return;
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as LocalAudioRoom[];
      for (const room of saved) {
        this.#rooms.set(room.metadata.name, room);
        this.#version = Math.max(this.#version, Number(room.metadata.resourceVersion ?? 0) || 0);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async create(
    name: string,
    spec: AudioRoomSpec,
    labels: Record<string, string>,
  ): Promise<AudioRoomObject> {
    if (this.#rooms.has(name)) throw new HttpProblem('room-exists', `a room named ${name} exists`);
    const room: LocalAudioRoom = {
      apiVersion: API_VERSION,
      kind: AUDIO_ROOM.kind,
      metadata: {
        name,
        namespace: this.namespace,
        creationTimestamp: new Date().toISOString(),
        generation: 1,
        labels,
        resourceVersion: String(++this.#version),
      },
      spec: structuredClone(spec),
    };
    this.#rooms.set(name, room);
    this.#save();
    return structuredClone(room);
  }

  async get(name: string): Promise<AudioRoomObject | undefined> {
    const room = this.#rooms.get(name);
    return room && structuredClone(room);
  }

  async list(limit: number, cont: string | undefined): Promise<AudioRoomList> {
    const names = [...this.#rooms.keys()].sort();
    const start = cont ? names.findIndex((n) => n > cont) : 0;
    const page = start < 0 ? [] : names.slice(start, start + limit);
    const last = page[page.length - 1];
    return {
      items: page.map((n) => structuredClone(this.#rooms.get(n)!)),
      continue: last !== undefined && start + limit < names.length ? last : undefined,
    };
  }

  /** Marks the room deleted; it goes once no finalizer holds it (as in Kubernetes). */
  async delete(name: string): Promise<boolean> {
    const room = this.#rooms.get(name);
    if (!room) return false;
    if ((room.metadata.finalizers ?? []).length === 0) this.#rooms.delete(name);
    else room.metadata.deletionTimestamp ??= new Date().toISOString();
    this.#save();
    return true;
  }

  /** Every room as it is now (copies), for the placement loop. */
  objects(): LocalAudioRoom[] {
    return [...this.#rooms.values()].map((r) => structuredClone(r));
  }

  setStatus(name: string, status: AudioRoomStatus): LocalAudioRoom {
    return this.#update(name, (room) => (room.status = structuredClone(status)));
  }

  addFinalizer(name: string, finalizer: string): LocalAudioRoom {
    return this.#update(name, (room) => {
      const list = (room.metadata.finalizers ??= []);
      if (!list.includes(finalizer)) list.push(finalizer);
    });
  }

  /** Removes the finalizer; a room being deleted goes once none is left. */
  removeFinalizer(name: string, finalizer: string): LocalAudioRoom {
    const room = this.#update(name, (r) => {
      r.metadata.finalizers = (r.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    });
    if (room.metadata.deletionTimestamp && (room.metadata.finalizers ?? []).length === 0) {
      this.#rooms.delete(name);
      this.#save();
    }
    return room;
  }

  #update(name: string, change: (room: LocalAudioRoom) => void): LocalAudioRoom {
    const room = this.#rooms.get(name);
    if (!room) throw new HttpProblem('room-not-found', `no room ${name}`);
    change(room);
    room.metadata.resourceVersion = String(++this.#version);
    this.#save();
    return structuredClone(room);
  }

  #save(): void {
    if (this.file === undefined) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.#rooms.values()]));
    renameSync(tmp, this.file);
  }
}
