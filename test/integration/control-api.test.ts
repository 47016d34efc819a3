// Control API acceptance on a real Redis and a real kube-apiserver (AudioRoom CRs): rooms, joins with
// region routing, the full stage flow, concurrency, and precise 4xx problems for bad input.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { verifyJoinToken } from '../../common/src/contract/index.js';
import { controlRoomKeys } from '../../control-api/src/redis/keys.js';
import { KubeAudioRooms } from '../../control-api/src/rooms/audio-rooms.js';
import {
  API_KEY,
  JOIN_SECRET,
  TURN_SECRET,
  beatForever,
  call,
  placeRoom,
  startApi,
  testEnv,
  userToken,
  type TestApi,
} from '../../control-api/test/harness.js';
import { startKubernetes, type KubernetesHandle } from '../env/kube.js';
import { repoRoot } from '../env/paths.js';
import { startRedis, type RedisHandle } from '../env/redis.js';
import { waitFor } from '../env/wait.js';

const NS = 'rooms';
const platform = { apiKey: API_KEY };

describe('control API on real Redis and a real apiserver', () => {
  let kube: KubernetesHandle;
  let redisServer: RedisHandle;
  let redis: Redis;
  let api: TestApi;
  let stopBeats: () => void;
  const tokens: Record<string, string> = {};
  const t = (user: string): string => tokens[user]!;

  beforeAll(async () => {
    [kube, redisServer] = await Promise.all([startKubernetes(), startRedis()]);
    redis = new Redis(redisServer.url);
    const ext = kube.kubeConfig.makeApiClient(ApiextensionsV1Api);
    const crd = parse(
      readFileSync(join(repoRoot, 'crds/amphi.dev_audiorooms.yaml'), 'utf8'),
    ) as V1CustomResourceDefinition;
    await ext.createCustomResourceDefinition({ body: crd });
    await kube.kubeConfig
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: NS } } });
    const custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    await waitFor(
      () =>
        custom.listNamespacedCustomObject({
          group: 'amphi.dev',
          version: 'v1alpha1',
          namespace: NS,
          plural: 'audiorooms',
        }),
      { what: 'the AudioRoom CRD to serve', timeoutMs: 60_000, abortIf: kube.failure },
    );
    api = await startApi(testEnv(redisServer.url), new KubeAudioRooms(kube.kubeConfig, NS));
    stopBeats = beatForever(redis);
    for (const user of ['host', 'mod', 'alice', 'bob', 'carol'])
      tokens[user] = await userToken(user, { name: user.toUpperCase() });
  }, 300_000);

  afterAll(async () => {
    stopBeats?.();
    await api?.close();
    redis?.disconnect();
    await redisServer?.stop();
    await kube?.stop();
  }, 60_000);

  test('serves an OpenAPI 3.1 document generated from the validating schemas', async () => {
    const { status, body } = await call<{
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>(api.url, 'GET', '/v1/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/rooms',
        '/v1/rooms/{id}',
        '/v1/rooms/{id}/join',
        '/v1/rooms/{id}/hands',
      ]),
    );
    expect(body.paths['/v1/rooms/{id}/join']!.post!.responses).toHaveProperty('503');
    const metrics = await fetch(`${api.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(
      /amphi_control_http_requests_total\{route="\/v1\/openapi.json",method="GET",status="200"\} 1/,
    );
  });

  test('create → not placed → placed: joins pick region and shard, sign tokens and TURN credentials', async () => {
    const created = await call(api.url, 'POST', '/v1/rooms', {
      auth: t('host'),
      body: { name: 'town-hall', title: 'Town hall', speakerLimit: 3 },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/rooms/town-hall');
    expect(created.body).toMatchObject({
      id: 'town-hall',
      room: `${NS}/town-hall`,
      hosts: ['host'],
      phase: 'Pending',
    });
    // The AudioRoom exists in the apiserver.
    const custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    const cr = (await custom.getNamespacedCustomObject({
      group: 'amphi.dev',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'audiorooms',
      name: 'town-hall',
    })) as { spec: { title: string; speakerLimit: number } };
    expect(cr.spec).toMatchObject({ title: 'Town hall', speakerLimit: 3 });
    const again = await call(api.url, 'POST', '/v1/rooms', {
      auth: t('host'),
      body: { name: 'town-hall', title: 'x' },
    });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('https://amphi.dev/problems/room-exists');

    const early = await call(api.url, 'POST', '/v1/rooms/town-hall/join', {
      auth: t('alice'),
      body: {},
    });
    expect(early.status).toBe(409);
    expect(early.body.type).toBe('https://amphi.dev/problems/room-not-placed');
    expect(early.headers.get('retry-after')).toBe('2');

    await placeRoom(redis, `${NS}/town-hall`, { speakerLimit: 3 });
    // A listener with measured RTTs goes to the nearest region's edge.
    const joined = await call<
      Record<string, unknown> & {
        iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
      }
    >(api.url, 'POST', '/v1/rooms/town-hall/join', {
      auth: t('alice'),
      body: { rtts: { 'us-east': 20, 'eu-west': 90 } },
    });
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({
      role: 'listener',
      region: 'us-east',
      shard: 'e2',
      node: 'media-us-0',
      signalingUrl: 'wss://media-us-0.media.test/ws',
    });
    const claims = await verifyJoinToken(
      joined.body.token as string,
      { alg: 'HS256', secret: new TextEncoder().encode(JOIN_SECRET) },
      { issuer: 'amphi-control' },
    );
    expect(claims).toMatchObject({
      sub: 'alice',
      room: `${NS}/town-hall`,
      shard: 'e2',
      node: 'media-us-0',
      role: 'listener',
      name: 'ALICE',
    });
    const turn = joined.body.iceServers.find((s) => s.username !== undefined)!;
    expect(turn.username).toMatch(/^\d+:alice$/);
    expect(turn.credential).toBe(
      createHmac('sha1', TURN_SECRET).update(turn.username!).digest('base64'),
    );
    expect(Number(turn.username!.split(':')[0])).toBeGreaterThan(Date.now() / 1000 + 3000);
    // A region hint wins; the host (a speaker) goes to the origin.
    const hinted = await call(api.url, 'POST', '/v1/rooms/town-hall/join', {
      auth: t('bob'),
      body: { region: 'eu-west' },
    });
    expect(hinted.body).toMatchObject({ region: 'eu-west', shard: 'e1' });
    const host = await call(api.url, 'POST', '/v1/rooms/town-hall/join', {
      auth: t('host'),
      body: { region: 'us-east' },
    });
    expect(host.body).toMatchObject({
      role: 'host',
      region: 'eu-west',
      shard: 'o0',
      node: 'media-eu-0',
    });
  });

  test('a join storm fills each edge to its limit and no further, before any pod reports a listener', async () => {
    // 25 listeners join at once; the pods' heartbeats still report no listener (nobody has connected
    // yet), exactly as in the first second of a large room. Two eu-west edges of 10 seats each.
    expect(
      (
        await call(api.url, 'POST', '/v1/rooms', {
          auth: t('host'),
          body: { name: 'storm', title: 'Storm' },
        })
      ).status,
    ).toBe(201);
    const room = `${NS}/storm`;
    const shard = (id: string, worker: number, role: 'origin' | 'edge') => ({
      id,
      role,
      region: 'eu-west',
      node: 'media-eu-0',
      worker,
      listeners: 0,
      state: 'Ready' as const,
      ...(role === 'edge' ? { from: 'o0' } : {}),
    });
    await placeRoom(redis, room, {
      listenersPerShard: 10,
      shards: [shard('o0', 0, 'origin'), shard('e1', 1, 'edge'), shard('e3', 0, 'edge')],
    });
    const users = Array.from({ length: 25 }, (_, i) => `storm-${i}`);
    const auth = await Promise.all(users.map((u) => userToken(u)));
    const answers = await Promise.all(
      auth.map((a) =>
        call<{ shard?: string; type?: string }>(api.url, 'POST', '/v1/rooms/storm/join', {
          auth: a,
          body: { region: 'eu-west' },
        }),
      ),
    );
    const byShard: Record<string, number> = {};
    for (const a of answers)
      if (a.status === 200) byShard[a.body.shard!] = (byShard[a.body.shard!] ?? 0) + 1;
    const refused = answers.filter((a) => a.status !== 200);
    console.info(`join storm: ${JSON.stringify(byShard)}, refused ${refused.length}`);
    // Without the seats, every join of the storm picks the same least-filled edge: e1 takes all 25.
    expect(byShard).toEqual({ e1: 10, e3: 10 });
    expect(refused.map((a) => [a.status, a.body.type])).toEqual(
      Array(5).fill([503, 'https://amphi.dev/problems/no-capacity']),
    );
    expect(refused[0]!.headers.get('retry-after')).toBe('2');
    // The participants are recorded without the seat claim; leaving works as before.
    const records = await redis.hgetall(controlRoomKeys(room).participants);
    expect(Object.keys(records)).toHaveLength(20);
    for (const json of Object.values(records)) {
      const record = JSON.parse(json) as Record<string, unknown>;
      expect(record).not.toHaveProperty('seat');
      expect(record).toMatchObject({ node: 'media-eu-0', region: 'eu-west' });
    }
    const seated = users.find((u, i) => answers[i]!.status === 200)!;
    const left = await call(api.url, 'POST', '/v1/rooms/storm/leave', {
      auth: auth[users.indexOf(seated)]!,
      body: {},
    });
    expect(left.status).toBe(200);
    // The seats taken, by join id, expire on their own (10 s).
    for (const id of ['e1', 'e3']) {
      const key = `${controlRoomKeys(room).seats}:${id}`;
      expect(await redis.zcard(key)).toBe(10);
      expect(await redis.pttl(key)).toBeGreaterThan(5_000);
    }
    expect((await call(api.url, 'DELETE', '/v1/rooms/storm', { auth: t('host') })).status).toBe(
      204,
    );
  });

  test('full stage flow: host, moderator and two listeners; every change published in order', async () => {
    const room = `${NS}/town-hall`;
    const subscriber = redis.duplicate();
    const events: Array<{ type: string; target?: string; actor: string }> = [];
    await subscriber.subscribe(controlRoomKeys(room).events);
    subscriber.on('message', (_c: string, m: string) =>
      events.push(JSON.parse(m) as (typeof events)[number]),
    );

    const ok = async (method: string, path: string, user: string, body: unknown = {}) => {
      const r = await call(api.url, method, `/v1/rooms/town-hall${path}`, {
        auth: t(user),
        body: method === 'DELETE' || method === 'GET' ? undefined : body,
      });
      expect([r.status, r.body]).toEqual([200, expect.anything()]);
      return r.body;
    };
    const fails = async (
      method: string,
      path: string,
      user: string,
      status: number,
      type: string,
    ) => {
      const r = await call(api.url, method, `/v1/rooms/town-hall${path}`, {
        auth: t(user),
        body: method === 'GET' || method === 'DELETE' ? undefined : {},
      });
      expect([r.status, r.body.type]).toEqual([status, `https://amphi.dev/problems/${type}`]);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    };

    await fails('PUT', '/participants/mod/role', 'alice', 400, 'validation-error'); // empty body
    const promoted = await call(api.url, 'PUT', '/v1/rooms/town-hall/participants/mod/role', {
      auth: t('alice'),
      body: { role: 'moderator' },
    });
    expect(promoted.status).toBe(403);
    await call(api.url, 'PUT', '/v1/rooms/town-hall/participants/mod/role', {
      auth: t('host'),
      body: { role: 'moderator' },
    });
    await ok('POST', '/join', 'mod');

    await fails('POST', '/hand', 'carol', 409, 'not-participant');
    await ok('POST', '/hand', 'alice');
    await ok('POST', '/hand', 'bob');
    expect(await ok('POST', '/hand', 'alice')).toMatchObject({ changed: false });
    await fails('GET', '/hands', 'alice', 403, 'forbidden');
    const queue = (await ok('GET', '/hands', 'mod')) as {
      items: Array<{ user: string; position: number }>;
    };
    expect(queue.items.map((e) => [e.user, e.position])).toEqual([
      ['alice', 1],
      ['bob', 2],
    ]);

    await fails('POST', '/participants/bob/invite', 'alice', 403, 'forbidden');
    await fails('POST', '/invitation/accept', 'alice', 409, 'invalid-state');
    await ok('POST', '/participants/alice/invite', 'mod');
    await ok('POST', '/invitation/accept', 'alice');
    await ok('POST', '/participants/bob/invite', 'host');
    await ok('POST', '/invitation/decline', 'bob');
    expect(((await ok('GET', '', 'bob')) as { handQueue: unknown[] }).handQueue).toEqual([]);
    let state = (await ok('GET', '', 'mod')) as Record<string, unknown>;
    expect(state).toMatchObject({
      hosts: ['host'],
      moderators: ['mod'],
      speakers: ['alice'],
      invited: [],
      handQueue: [{ user: 'bob', position: 1 }],
    });
    expect(state.counts).toEqual({ participants: 4, listeners: 1, stage: 3, hands: 1 });

    // The stage holds 3 (speakerLimit): host + mod + alice. Bob cannot get on.
    await ok('POST', '/participants/bob/invite', 'mod');
    await fails('POST', '/invitation/accept', 'bob', 409, 'stage-full');
    await ok('POST', '/invitation/decline', 'bob');

    await ok('POST', '/participants/alice/mute', 'mod');
    await fails('POST', '/participants/mod/mute', 'alice', 403, 'forbidden');
    await ok('POST', '/participants/alice/unmute', 'alice');
    await ok('POST', '/participants/alice/mute', 'alice');
    await fails('POST', '/participants/host/audience', 'mod', 403, 'forbidden');
    await ok('POST', '/participants/alice/audience', 'mod');
    state = (await ok('GET', '', 'host')) as Record<string, unknown>;
    expect(state).toMatchObject({ speakers: [], muted: [] });

    await ok('POST', '/participants/bob/lower-hand', 'mod');
    await ok('POST', '/participants/bob/remove', 'mod');
    await fails('POST', '/participants/bob/remove', 'mod', 409, 'not-participant');
    await ok('POST', '/join', 'bob');
    await ok('POST', '/participants/bob/ban', 'mod');
    await fails('POST', '/join', 'bob', 403, 'banned');
    await fails('POST', '/participants/mod/ban', 'mod', 409, 'invalid-state');
    await ok('POST', '/leave', 'alice');

    await waitFor(async () => events.some((e) => e.type === 'participant-banned'), {
      what: 'the last event',
      timeoutMs: 10_000,
    });
    await subscriber.quit();
    expect(events.map((e) => `${e.type}:${e.target ?? ''}`)).toEqual([
      'role-changed:mod',
      'participant-joined:mod',
      'hand-raised:alice',
      'hand-raised:bob',
      'stage-invited:alice',
      'speaker-added:alice',
      'stage-invited:bob',
      'stage-invite-declined:bob',
      'stage-invited:bob',
      'stage-invite-declined:bob',
      'muted:alice',
      'unmuted:alice',
      'muted:alice',
      'speaker-removed:alice',
      'hand-lowered:bob',
      'participant-removed:bob',
      'participant-banned:bob',
    ]);
    // Every event (and the listeners' joins and leaves, unpublished) is in the room's stream.
    const info = (await redis.call('XINFO', 'STREAM', controlRoomKeys(room).log)) as unknown[];
    expect(Number(info[info.indexOf('entries-added') + 1])).toBeGreaterThanOrEqual(
      events.length + 4,
    );
  });

  test('parallel hand raises and invitations stay consistent', async () => {
    const created = await call(api.url, 'POST', '/v1/rooms', {
      auth: t('host'),
      body: { name: 'crowd', title: 'Crowd', speakerLimit: 6 },
    });
    expect(created.status).toBe(201);
    await placeRoom(redis, `${NS}/crowd`, { speakerLimit: 6 });
    await call(api.url, 'PUT', '/v1/rooms/crowd/participants/mod/role', {
      auth: t('host'),
      body: { role: 'moderator' },
    });
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    const auth = Object.fromEntries(
      await Promise.all(users.map(async (u) => [u, await userToken(u)] as const)),
    );
    const joins = await Promise.all(
      users.map((u) => call(api.url, 'POST', '/v1/rooms/crowd/join', { auth: auth[u]!, body: {} })),
    );
    expect(joins.map((j) => j.status)).toEqual(users.map(() => 200));
    // Everyone raises twice at once, and half of them lower and raise again.
    const raises = await Promise.all(
      [...users, ...users].map((u) =>
        call(api.url, 'POST', '/v1/rooms/crowd/hand', { auth: auth[u]!, body: {} }),
      ),
    );
    expect(raises.every((r) => r.status === 200)).toBe(true);
    expect(raises.filter((r) => r.body.changed === true)).toHaveLength(40);
    const queue = (
      await call<{ items: Array<{ user: string; position: number }> }>(
        api.url,
        'GET',
        '/v1/rooms/crowd/hands',
        { auth: t('mod') },
      )
    ).body.items;
    expect(queue.map((e) => e.user).sort()).toEqual([...users].sort());
    expect(queue.map((e) => e.position)).toEqual(users.map((_, i) => i + 1));
    // The queue order is the order the raises were applied (the stream's order).
    const entries = (await redis.xrange(controlRoomKeys(`${NS}/crowd`).log, '-', '+')) as Array<
      [string, string[]]
    >;
    const raisedInOrder = entries
      .filter(([, f]) => f[1] === 'hand-raised')
      .map(([, f]) => f[f.indexOf('target') + 1]);
    expect(raisedInOrder).toEqual(queue.map((e) => e.user));

    // Host and moderator invite the first 12 at once (each twice); all accept at once: the stage
    // (host, mod + 4 seats) takes exactly 4, the rest are refused as stage-full.
    const invited = users.slice(0, 12);
    const invites = await Promise.all(
      invited.flatMap((u) =>
        ['host', 'mod'].map((by) =>
          call(api.url, 'POST', `/v1/rooms/crowd/participants/${u}/invite`, {
            auth: t(by),
            body: {},
          }),
        ),
      ),
    );
    expect(invites.every((r) => r.status === 200)).toBe(true);
    expect(invites.filter((r) => r.body.changed === true)).toHaveLength(12);
    const accepts = await Promise.all(
      invited.map((u) =>
        call(api.url, 'POST', '/v1/rooms/crowd/invitation/accept', { auth: auth[u]!, body: {} }),
      ),
    );
    expect(accepts.filter((r) => r.status === 200)).toHaveLength(4);
    expect(
      accepts.filter(
        (r) => r.status === 409 && r.body.type === 'https://amphi.dev/problems/stage-full',
      ),
    ).toHaveLength(8);
    const state = (
      await call<{ speakers: string[]; handQueue: Array<{ user: string }>; invited: string[] }>(
        api.url,
        'GET',
        '/v1/rooms/crowd',
        { auth: t('mod') },
      )
    ).body;
    expect(state.speakers).toHaveLength(4);
    expect(state.invited).toHaveLength(8);
    const inQueue = state.handQueue.map((e) => e.user);
    expect(inQueue).toHaveLength(36);
    expect(new Set(inQueue).size).toBe(36);
    for (const s of state.speakers) expect(inQueue).not.toContain(s);
  });

  test('wrong, expired and missing credentials, wrong roles, unknown rooms, bad bodies: precise 4xx', async () => {
    const problem = async (
      r: Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>,
      status: number,
      type: string,
    ) => {
      const answer = await r;
      expect([answer.status, answer.body.type]).toEqual([
        status,
        `https://amphi.dev/problems/${type}`,
      ]);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({
        status,
        title: expect.any(String),
        instance: expect.any(String),
        requestId: answer.headers.get('x-request-id'),
      });
      return answer;
    };
    const missing = await problem(call(api.url, 'GET', '/v1/rooms'), 401, 'unauthenticated');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await problem(call(api.url, 'GET', '/v1/rooms', { auth: 'not.a.jwt' }), 401, 'invalid-token');
    await problem(
      call(api.url, 'GET', '/v1/rooms', {
        auth: await userToken('eve', { secret: 'another-secret-another-secret-another' }),
      }),
      401,
      'invalid-token',
    );
    await problem(
      call(api.url, 'GET', '/v1/rooms', {
        auth: await userToken('eve', { audience: 'someone-else' }),
      }),
      401,
      'invalid-token',
    );
    await problem(
      call(api.url, 'GET', '/v1/rooms', {
        auth: await userToken('eve', { issuer: 'https://evil.test' }),
      }),
      401,
      'invalid-token',
    );
    await problem(
      call(api.url, 'GET', '/v1/rooms', {
        auth: await userToken('eve', { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      }),
      401,
      'token-expired',
    );
    await problem(
      call(api.url, 'GET', '/v1/rooms', { auth: { apiKey: 'wrong-key-wrong-key-wrong-key' } }),
      401,
      'invalid-token',
    );
    await problem(
      call(api.url, 'GET', '/v1/rooms', { headers: { authorization: 'Basic YTpi' } }),
      401,
      'unauthenticated',
    );

    const id = await call(api.url, 'GET', '/v1/rooms/nope', {
      auth: t('alice'),
      headers: { 'x-request-id': 'trace-123' },
    });
    expect([id.status, id.body.requestId, id.headers.get('x-request-id')]).toEqual([
      404,
      'trace-123',
      'trace-123',
    ]);
    await problem(
      call(api.url, 'POST', '/v1/rooms/nope/join', { auth: t('alice'), body: {} }),
      404,
      'room-not-found',
    );
    await problem(
      call(api.url, 'POST', '/v1/rooms/nope/hand', { auth: t('alice'), body: {} }),
      404,
      'room-not-found',
    );
    await problem(
      call(api.url, 'GET', '/v1/rooms/Bad_Name', { auth: t('alice') }),
      400,
      'validation-error',
    );
    await problem(
      call(api.url, 'DELETE', '/v1/rooms/town-hall', { auth: t('mod') }),
      403,
      'forbidden',
    );
    await problem(
      call(api.url, 'POST', '/v1/rooms/town-hall/join', { auth: platform, body: {} }),
      403,
      'forbidden',
    );
    await problem(
      call(api.url, 'POST', '/v1/rooms', { auth: t('alice'), raw: '{"title": ' }),
      400,
      'malformed-json',
    );
    await problem(
      call(api.url, 'POST', '/v1/rooms', { auth: t('alice'), body: { title: 'x'.repeat(5000) } }),
      413,
      'payload-too-large',
    );
    await problem(
      call(api.url, 'POST', '/v1/rooms', {
        auth: t('alice'),
        raw: 'title=x',
        contentType: 'application/x-www-form-urlencoded',
      }),
      415,
      'unsupported-media-type',
    );
    const invalid = await problem(
      call(api.url, 'POST', '/v1/rooms', { auth: t('alice'), body: { title: 7, extra: true } }),
      400,
      'validation-error',
    );
    expect((invalid.body.errors as Array<{ path: string }>).map((e) => e.path)).toEqual(
      expect.arrayContaining(['body/title']),
    );
    await problem(
      call(api.url, 'POST', '/v1/rooms', { auth: t('alice'), body: { title: 'x', host: 'bob' } }),
      403,
      'forbidden',
    );
    await problem(
      call(api.url, 'POST', '/v1/rooms', { auth: platform, body: { title: 'x' } }),
      400,
      'validation-error',
    );
    await problem(
      call(api.url, 'POST', '/v1/rooms/town-hall/join', {
        auth: t('alice'),
        body: { rtts: { 'eu-west': -1 } },
      }),
      400,
      'validation-error',
    );
    await problem(
      call(api.url, 'POST', '/v1/rooms/town-hall/participants/bob/dance', {
        auth: t('mod'),
        body: {},
      }),
      400,
      'validation-error',
    );
    await problem(
      call(api.url, 'GET', '/v1/rooms?limit=0', { auth: t('alice') }),
      400,
      'validation-error',
    );
    await problem(call(api.url, 'GET', '/v1/nothing', { auth: t('alice') }), 404, 'not-found');
    const method = await problem(
      call(api.url, 'PATCH', '/v1/rooms/town-hall', { auth: t('alice'), body: {} }),
      405,
      'method-not-allowed',
    );
    expect(method.headers.get('allow')).toBe('GET, DELETE');
  });

  test('rate limits per user answer 429 with Retry-After', async () => {
    const limited = await startApi(
      testEnv(redisServer.url, { RATE_USER_PER_SECOND: '0.5', RATE_USER_BURST: '3' }),
      new KubeAudioRooms(kube.kubeConfig, NS),
    );
    try {
      const token = await userToken('hasty');
      const answers = [];
      for (let i = 0; i < 5; i++)
        answers.push(await call(limited.url, 'GET', '/v1/rooms/town-hall/hands', { auth: token }));
      expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 429, 429]);
      expect(answers[3]!.body.type).toBe('https://amphi.dev/problems/rate-limited');
      expect(Number(answers[3]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close();
    }
    // Per room: the room's bucket is charged inside the stage script (no extra round trip).
    const roomLimited = await startApi(
      testEnv(redisServer.url, { RATE_ROOM_PER_SECOND: '0.5', RATE_ROOM_BURST: '3' }),
      new KubeAudioRooms(kube.kubeConfig, NS),
    );
    try {
      await redis.del(controlRoomKeys(`${NS}/crowd`).rate);
      const token = await userToken('u39');
      const statuses = [];
      for (const method of ['POST', 'DELETE', 'POST', 'DELETE'])
        statuses.push(
          (
            await call(roomLimited.url, method, '/v1/rooms/crowd/hand', {
              auth: token,
              body: method === 'POST' ? {} : undefined,
            })
          ).status,
        );
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await roomLimited.close();
    }
  });

  test('kubectl-made rooms are listed; the platform makes a host; ending deletes the AudioRoom', async () => {
    const custom = kube.kubeConfig.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'amphi.dev',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'audiorooms',
      body: {
        apiVersion: 'amphi.dev/v1alpha1',
        kind: 'AudioRoom',
        metadata: { name: 'from-kubectl' },
        spec: {
          title: 'Made with kubectl',
          sharding: { listenersPerShard: 500, maxShards: 50 },
          speakerLimit: 10,
        },
      },
    });
    const list = await call<{ items: Array<{ id: string; phase: string }> }>(
      api.url,
      'GET',
      '/v1/rooms',
      { auth: t('carol') },
    );
    expect(list.body.items.map((r) => r.id).sort()).toEqual(['crowd', 'from-kubectl', 'town-hall']);
    await placeRoom(redis, `${NS}/from-kubectl`);
    const granted = await call(api.url, 'PUT', '/v1/rooms/from-kubectl/participants/carol/role', {
      auth: platform,
      body: { role: 'host' },
    });
    expect(granted.status).toBe(200);
    const joined = await call(api.url, 'POST', '/v1/rooms/from-kubectl/join', {
      auth: t('carol'),
      body: {},
    });
    expect(joined.body).toMatchObject({ role: 'host', shard: 'o0' });
    const ended = await call(api.url, 'DELETE', '/v1/rooms/from-kubectl', { auth: t('carol') });
    expect(ended.status).toBe(204);
    await expect(
      custom.getNamespacedCustomObject({
        group: 'amphi.dev',
        version: 'v1alpha1',
        namespace: NS,
        plural: 'audiorooms',
        name: 'from-kubectl',
      }),
    ).rejects.toMatchObject({ code: 404 });
    const after = await call(api.url, 'POST', '/v1/rooms/from-kubectl/join', {
      auth: t('carol'),
      body: {},
    });
    expect([after.status, after.body.type]).toEqual([
      404,
      'https://amphi.dev/problems/room-not-found',
    ]);
  });
});
