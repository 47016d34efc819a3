// Test harness of the control API: the app on a free port against the given Redis (and Kubernetes),
// user tokens, seeded routes and heartbeats, and a small fetch helper.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { SignJWT } from 'jose';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import {
  NodeRegistry,
  RoutingTable,
  type NodeHeartbeat,
  type RoomRoute,
} from '../../common/src/contract/index.js';
import { createApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import type { AudioRoomObject, AudioRoomList, AudioRooms } from '../src/rooms/audio-rooms.js';
import { HttpProblem } from '../src/http/problem.js';

export const JWT_SECRET = 'test-user-jwt-secret-0123456789abcdef';
export const JOIN_SECRET = 'test-join-token-secret-0123456789abcdef';
export const TURN_SECRET = 'turn-shared-secret-123';
export const API_KEY = 'platform-key-0123456789abcdefghij';

export function testEnv(
  redisUrl: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    ROOM_NAMESPACE: 'rooms',
    AUTH_JWT_ISSUER: 'https://idp.test',
    AUTH_JWT_AUDIENCE: 'amphi',
    AUTH_JWT_SECRET: JWT_SECRET,
    AUTH_JWT_ALGORITHMS: 'HS256',
    API_KEYS: `automation=${API_KEY}`,
    JOIN_TOKEN_SECRET: JOIN_SECRET,
    TURN_SECRET,
    TURN_URLS: 'turn:turn.test:3478?transport=udp,turns:turn.test:5349',
    STUN_URLS: 'stun:stun.test:3478',
    RATE_USER_PER_SECOND: '1000',
    RATE_USER_BURST: '1000',
    RATE_ROOM_PER_SECOND: '5000',
    RATE_ROOM_BURST: '5000',
    BODY_LIMIT_BYTES: '4096',
    ...overrides,
  };
}

export interface TestApi {
  url: string;
  config: Config;
  redis: Redis;
  close(): Promise<void>;
}

export async function startApi(env: Record<string, string>, rooms: AudioRooms): Promise<TestApi> {
  const config = loadConfig(env);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  const { app } = createApp({
    config,
    redis,
    rooms,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    redis,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      redis.disconnect();
    },
  };
}

export async function userToken(
  sub: string,
  options: {
    expiresIn?: string | number;
    secret?: string;
    audience?: string;
    issuer?: string;
    name?: string;
  } = {},
): Promise<string> {
  return new SignJWT({ ...(options.name ? { name: options.name } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(options.issuer ?? 'https://idp.test')
    .setAudience(options.audience ?? 'amphi')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** fetch with a JSON body; `auth` is a bearer token, `{ apiKey }` or undefined. */
export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: {
    auth?: string | { apiKey: string };
    body?: unknown;
    raw?: string;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (typeof options.auth === 'string') headers.authorization = `Bearer ${options.auth}`;
  else if (options.auth) headers['x-api-key'] = options.auth.apiKey;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  const parsed = parseJson(text);
  return { status: response.status, body: parsed as T, headers: response.headers };
}

export function heartbeat(
  node: string,
  region: string,
  overrides: Partial<NodeHeartbeat> = {},
): NodeHeartbeat {
  return {
    node,
    region,
    zone: `${region}-a`,
    k8sNode: `kwok-${region}-a`,
    announcedAddress: '203.0.113.7',
    signalingUrl: `wss://${node}.media.test/ws`,
    pipeUrl: `http://${node}.media.test:9001`,
    draining: false,
    startedAt: 1,
    sentAt: Date.now(),
    seq: 1,
    workers: [0, 1].map((index) => ({
      index,
      alive: true,
      port: 40000 + index,
      consumers: 0,
      producers: 0,
      routers: 1,
      cpuPercent: 1,
    })),
    shards: [],
    ...overrides,
  };
}

/** A placed room: origin + edge in eu-west, an edge in us-east (as the operator would write). */
export function placedRoute(room: string, overrides: Partial<RoomRoute> = {}): RoomRoute {
  return {
    room,
    generation: 1,
    phase: 'Live',
    region: 'eu-west',
    speakerLimit: 10,
    listenersPerShard: 500,
    shards: [
      {
        id: 'o0',
        role: 'origin',
        region: 'eu-west',
        node: 'media-eu-0',
        worker: 0,
        listeners: 0,
        state: 'Ready',
      },
      {
        id: 'e1',
        role: 'edge',
        region: 'eu-west',
        node: 'media-eu-0',
        worker: 1,
        listeners: 10,
        state: 'Ready',
        from: 'o0',
      },
      {
        id: 'e2',
        role: 'edge',
        region: 'us-east',
        node: 'media-us-0',
        worker: 0,
        listeners: 5,
        state: 'Ready',
        from: 'o0',
      },
    ],
    updatedAt: Date.now(),
    ...overrides,
  };
}

/** Keeps two media pods' heartbeats alive (one per region) until stopped. */
export function beatForever(redis: Redis): () => void {
  const registry = new NodeRegistry(redis);
  const beat = (): void => {
    void registry.beat(heartbeat('media-eu-0', 'eu-west')).catch(() => undefined);
    void registry.beat(heartbeat('media-us-0', 'us-east')).catch(() => undefined);
  };
  beat();
  const timer = setInterval(beat, 500);
  return () => clearInterval(timer);
}

export async function placeRoom(
  redis: Redis,
  room: string,
  overrides: Partial<RoomRoute> = {},
): Promise<void> {
  await new RoutingTable(redis).putRoute(placedRoute(room, overrides));
}

/** AudioRooms kept in memory: for suites about Redis and Cassandra only. */
export class MemoryAudioRooms implements AudioRooms {
  readonly items = new Map<string, AudioRoomObject>();
  constructor(private readonly namespace = 'rooms') {}
  async create(
    name: string,
    spec: AudioRoomObject['spec'],
    labels: Record<string, string>,
  ): Promise<AudioRoomObject> {
    if (this.items.has(name)) throw new HttpProblem('room-exists', `a room named ${name} exists`);
    const cr: AudioRoomObject = {
      apiVersion: 'amphi.dev/v1alpha1',
      kind: 'AudioRoom',
      metadata: {
        name,
        namespace: this.namespace,
        labels,
        creationTimestamp: new Date().toISOString(),
      },
      spec,
    };
    this.items.set(name, cr);
    return cr;
  }
  async get(name: string): Promise<AudioRoomObject | undefined> {
    return this.items.get(name);
  }
  async list(): Promise<AudioRoomList> {
    return { items: [...this.items.values()], continue: undefined };
  }
  async delete(name: string): Promise<boolean> {
    return this.items.delete(name);
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
