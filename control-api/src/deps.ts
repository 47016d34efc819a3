// What the route handlers share.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { SigningKey } from '../../common/src/contract/index.js';
import type { Config } from './config.js';
import type { LiveNodesCache } from './join/live-nodes.js';
import type { AudioRooms } from './rooms/audio-rooms.js';
import type { RoomStore } from './stage/store.js';

export interface Deps {
  config: Config;
  redis: Redis;
  rooms: AudioRooms;
  store: RoomStore;
  liveNodes: LiveNodesCache;
  joinKey: SigningKey;
  logger: Logger;
}
