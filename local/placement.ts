// The operator's placement without Kubernetes: every ~500 ms, one pass of the operator's own
// PassEngine (snapshot → pure scheduler → status → routing table, operator/src/controllers/audio-room)
// over the local rooms and the live node registry. Status and finalizers are written to the local
// room store instead of the Kubernetes API; routes and assignments go to Redis through RoutingTable
// exactly as the operator writes them.
import type { Redis } from 'ioredis';
import type { AudioRoomStatus } from '../common/src/crd/audio-room.js';
import type { NodeHeartbeat } from '../common/src/contract/heartbeat.js';
import { NodeRegistry } from '../common/src/contract/node-registry.js';
import { RoutingTable } from '../common/src/contract/routing-table.js';
import type { Logger } from '../common/src/logger.js';
import type { LocalAudioRooms } from '../control-api/src/rooms/local-audio-rooms.js';
import type { RoomWriter } from '../operator/src/controllers/audio-room/kube-writer.js';
import { PassEngine } from '../operator/src/controllers/audio-room/pass.js';
import {
  ROOM_FINALIZER,
  type AudioRoom,
  type MediaRegionObject,
} from '../operator/src/controllers/audio-room/types.js';
import { realClock } from '../operator/src/runtime/clock.js';

export interface LocalPlacementOptions {
  redis: Redis;
  rooms: LocalAudioRooms;
  region: string;
  log: Logger;
  intervalMs?: number;
  /** Edges younger than this are not retired. Default 60 s (the operator's default). */
  minEdgeAgeMs?: number;
}

/** RoomWriter onto the local room store. */
export function localRoomWriter(rooms: LocalAudioRooms): RoomWriter {
  return {
    async applyStatus(room: AudioRoom, status: AudioRoomStatus) {
      return rooms.setStatus(room.metadata.name, status) as unknown as AudioRoom;
    },
    async addFinalizer(room: AudioRoom) {
      return rooms.addFinalizer(room.metadata.name, ROOM_FINALIZER) as unknown as AudioRoom;
    },
    async removeFinalizer(room: AudioRoom) {
      return rooms.removeFinalizer(room.metadata.name, ROOM_FINALIZER) as unknown as AudioRoom;
    },
    concurrentFinalizer: false,
  };
}

/** The one region of local mode, as the operator would read its MediaRegion. */
export function localRegion(region: string): MediaRegionObject {
  return {
    apiVersion: 'amphi.dev/v1alpha1',
    kind: 'MediaRegion',
    metadata: { name: region, namespace: 'default' },
    spec: { region } as MediaRegionObject['spec'],
  };
}

export class LocalPlacement {
  readonly engine: PassEngine;
  readonly #o: LocalPlacementOptions;
  readonly #registry: NodeRegistry;
  #heartbeats: NodeHeartbeat[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #passes = 0;
  #stopped = false;

  constructor(options: LocalPlacementOptions) {
    this.#o = options;
    this.#registry = new NodeRegistry(options.redis);
    const region = localRegion(options.region);
    this.engine = new PassEngine({
      rooms: () => options.rooms.objects() as unknown as AudioRoom[],
      regions: () => [region],
      heartbeats: () => this.#heartbeats,
      writer: localRoomWriter(options.rooms),
      routing: new RoutingTable(options.redis),
      clock: realClock,
      log: options.log,
      minEdgeAgeMs: options.minEdgeAgeMs ?? 60_000,
      writeMode: 'serial',
      // Every pass looks at every room: waking or retrying one is the next pass.
      wake: () => {},
      retry: () => {},
    });
  }

  get passes(): number {
    return this.#passes;
  }

  /** One pass: read the live registry, schedule, write status and routes. */
  async pass(): Promise<void> {
    const live = await this.#registry.live();
    for (const bad of live.invalid)
      this.#o.log.warn({ node: bad.node, err: bad.error.message }, 'invalid heartbeat ignored');
    this.#heartbeats = live.nodes;
    // Every 20th pass re-applies every route (heals an emptied Redis, drops stale routes).
    const forceRoutes = this.#passes % 20 === 0;
    await this.engine.run({ requested: new Set(), forceRoutes });
    this.#passes++;
  }

  start(): void {
    const tick = (): void => {
      if (this.#stopped) return;
      this.#running = this.pass()
        .catch((err: unknown) => this.#o.log.warn({ err }, 'placement pass failed'))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.intervalMs ?? 500);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
