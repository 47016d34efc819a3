// The media pod against real components: Redis, mediasoup workers built by the project, a second
// media pod process, and libwebrtc peers. Assignments are written as the operator writes them, join
// tokens signed as the control API signs them; listeners on the origin's worker, on another worker
// of the same pod (pipeToRouter) and on another pod (SRTP pipe transports) decode the speaker's tone.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  NodeRegistry,
  RoutingTable,
  roomKeys,
  signJoinToken,
  type JoinClaims,
  type NodeHeartbeat,
  type ShardAssignmentRecord,
} from '../../common/src/contract/index.js';
import type { MediaPodConfig } from '../../media-pod/src/config.js';
import { loadConfig } from '../../media-pod/src/config.js';
import type { MediaPod } from '../../media-pod/src/pod.js';
import { pino } from 'pino';
import { presenceKeys } from '../../common/src/contract/keys.js';
import { decodeSessionEnded, reportAllSessionsEnded } from '../../common/src/contract/presence.js';
import { LostPodSweeper } from '../../control-api/src/presence/sweeper.js';
import { ManagedProcess } from '../env/managed-process.js';
import { MediaClient, SignalingRequestError } from '../env/media-client.js';
import { importMediasoup, useProjectMediasoupWorker } from '../env/mediasoup.js';
import { repoRoot } from '../env/paths.js';
import { freePort, freePorts } from '../env/ports.js';
import { startRedis, type RedisHandle } from '../env/redis.js';
import { waitFor } from '../env/wait.js';

const SECRET = '0123456789abcdef0123456789abcdef-test';
const ISSUER = 'amphi-control';
const ROOM = 'default/town-hall';
const LOUD_FRAMES = 100; // 1 s of decoded 10 ms frames with energy

function env(
  node: string,
  redisUrl: string,
  ports: { base: number; sig: number; pipe: number },
  workers: number,
): Record<string, string> {
  return {
    MEDIA_NODE_ID: node,
    MEDIA_REGION: 'eu-west',
    MEDIA_ZONE: 'eu-west-a',
    MEDIA_WORKERS: String(workers),
    MEDIA_BASE_PORT: String(ports.base),
    MEDIA_LISTEN_IP: '127.0.0.1',
    MEDIA_SIGNALING_PORT: String(ports.sig),
    MEDIA_PIPE_PORT: String(ports.pipe),
    REDIS_URL: redisUrl,
    JOIN_TOKEN_SECRET: SECRET,
    JOIN_TOKEN_ISSUER: ISSUER,
    MEDIA_COUNTS_INTERVAL_MS: '1000',
    MEDIA_RESYNC_INTERVAL_MS: '2000',
    MEDIA_DRAIN_DEADLINE_MS: '60000',
  };
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof SignalingRequestError) return error.reply.code;
    throw error;
  }
}

describe('media pod with real workers, Redis and WebRTC peers', () => {
  let redisServer: RedisHandle;
  let redis: Redis;
  let registry: NodeRegistry;
  let podA: MediaPod;
  let configA: MediaPodConfig;
  let podB: ManagedProcess;
  let urlB: string;
  const clients: MediaClient[] = [];
  let speaker: MediaClient;
  let onOrigin: MediaClient;
  let otherWorker: MediaClient;
  let otherPod: MediaClient;
  /** media-b as a process: the first, and its restart under the same name. */
  let startPodB: (name: string) => ManagedProcess;

  const token = (
    claims: Partial<JoinClaims>,
    opts: { ttlSeconds?: number; now?: number; secret?: string } = {},
  ) =>
    signJoinToken(
      { sub: 'u', room: ROOM, shard: 'o0', node: 'media-a', role: 'listener', ...claims },
      { alg: 'HS256', secret: new TextEncoder().encode(opts.secret ?? SECRET) },
      {
        issuer: ISSUER,
        ...(opts.ttlSeconds ? { ttlSeconds: opts.ttlSeconds } : {}),
        ...(opts.now ? { now: opts.now } : {}),
      },
    );

  const client = async (url: string): Promise<MediaClient> => {
    const c = await MediaClient.connect(url);
    clients.push(c);
    return c;
  };

  const heartbeatOf = async (node: string): Promise<NodeHeartbeat | undefined> =>
    (await registry.live()).nodes.find((n) => n.node === node);

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    registry = new NodeRegistry(redis);
    const workerBin = useProjectMediasoupWorker();

    // Three free consecutive ports: media-b's worker, then media-a's two.
    const workerBase = await freePorts(3);
    const portsB = { base: workerBase, sig: await freePort(), pipe: await freePort() };
    urlB = `ws://127.0.0.1:${portsB.sig}/ws`;
    startPodB = (name) =>
      new ManagedProcess({
        name,
        command: process.execPath,
        args: ['--import', 'tsx', 'media-pod/src/main.ts'],
        cwd: repoRoot,
        env: {
          ...process.env,
          ...env('media-b', redisServer.url, portsB, 1),
          MEDIASOUP_WORKER_BIN: workerBin,
        },
      });
    podB = startPodB('media-pod-b');

    process.env.LOG_LEVEL ??= 'warn';
    const mediasoup = await importMediasoup();
    const { MediaPod } = await import('../../media-pod/src/pod.js');
    configA = loadConfig(
      env(
        'media-a',
        redisServer.url,
        { base: workerBase + 1, sig: await freePort(), pipe: await freePort() },
        2,
      ),
    );
    podA = new MediaPod(configA);
    await podA.start(mediasoup);

    await waitFor(() => heartbeatOf('media-b'), {
      what: 'media-b heartbeat',
      timeoutMs: 60_000,
      intervalMs: 250,
      abortIf: () => podB.exitReason(),
    });

    // The operator's decision: origin on media-a worker 0, edges on media-a worker 1 and media-b.
    const table = new RoutingTable(redis);
    const base = { region: 'eu-west', listeners: 0, state: 'Pending' as const };
    const origin = { shard: 'o0', node: 'media-a', worker: 0 };
    const records: Array<[string, ShardAssignmentRecord]> = [
      [
        'media-a',
        {
          room: ROOM,
          shard: { ...base, id: 'o0', role: 'origin', node: 'media-a', worker: 0 },
          speakerLimit: 10,
          assignedAt: 1,
        },
      ],
      [
        'media-a',
        {
          room: ROOM,
          shard: { ...base, id: 'e1', role: 'edge', node: 'media-a', worker: 1, from: 'o0' },
          origin,
          speakerLimit: 10,
          assignedAt: 1,
        },
      ],
      [
        'media-b',
        {
          room: ROOM,
          shard: { ...base, id: 'e2', role: 'edge', node: 'media-b', worker: 0, from: 'o0' },
          origin,
          speakerLimit: 10,
          assignedAt: 1,
        },
      ],
    ];
    for (const [node, record] of records) await table.assign(node, record);
    for (const [node, shard] of [
      ['media-a', 'o0'],
      ['media-a', 'e1'],
      ['media-b', 'e2'],
    ] as const)
      await waitFor(
        async () =>
          (await heartbeatOf(node))?.shards.find((s) => s.shard === shard && s.state === 'Ready'),
        {
          what: `${node} reports ${shard} Ready`,
          timeoutMs: 60_000,
          intervalMs: 250,
          abortIf: () => podB.exitReason(),
        },
      );
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await podA?.stop();
    await podB?.stop();
    redis?.disconnect();
    await redisServer?.stop();
  }, 60_000);

  test('listeners on the same worker, another worker and another pod decode the speaker', async () => {
    speaker = await client(podA.signalingUrl);
    const joined = await speaker.join(
      await token({ sub: 'speaker-1', role: 'speaker', name: 'Ada' }),
    );
    expect(joined).toMatchObject({ room: ROOM, shard: 'o0', role: 'speaker' });
    await speaker.speak();

    onOrigin = await client(podA.signalingUrl);
    await onOrigin.join(await token({ sub: 'l-origin' }));
    otherWorker = await client(podA.signalingUrl);
    await otherWorker.join(await token({ sub: 'l-edge-a', shard: 'e1' }));
    otherPod = await client(urlB);
    await otherPod.join(await token({ sub: 'l-edge-b', shard: 'e2', node: 'media-b' }));
    for (const listener of [onOrigin, otherWorker, otherPod]) await listener.listen();

    for (const [name, listener] of [
      ['same worker', onOrigin],
      ['other worker', otherWorker],
      ['other pod', otherPod],
    ] as const) {
      await waitFor(() => listener.loudFramesSince(0) >= LOUD_FRAMES, {
        what: `${name}: ${LOUD_FRAMES} decoded frames with energy`,
        timeoutMs: 60_000,
        intervalMs: 250,
        abortIf: () => podB.exitReason(),
      });
      const newConsumer = listener.notifications.find((n) => n.method === 'newConsumer');
      expect(newConsumer?.data).toMatchObject({ user: 'speaker-1', name: 'Ada' });
    }

    // The heartbeat tells the operator who is where.
    const a = await waitFor(
      async () => {
        const hb = await heartbeatOf('media-a');
        const o0 = hb?.shards.find((s) => s.shard === 'o0');
        return o0?.listeners === 1 && o0.speakers === 1 && hb;
      },
      { what: 'media-a heartbeat with o0 counts', timeoutMs: 10_000 },
    );
    expect(a.workers.map((w) => w.port)).toEqual([configA.basePort, configA.basePort + 1]);
    expect(a.workers.every((w) => w.alive && w.routers === 1 && w.consumers >= 1)).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${configA.signalingPort}/metrics`)).text();
    expect(metrics).toMatch(/amphi_media_consumers [1-9]/);
    expect(metrics).toMatch(/amphi_media_workers_alive 2/);
  });

  test('a listener cannot produce', async () => {
    expect(await code(onOrigin.request('createTransport', { direction: 'send' }))).toBe(
      'forbidden',
    );
    const rtp = { codecs: [], encodings: [] };
    expect(
      await code(
        onOrigin.request('produce', { transportId: 'x', kind: 'audio', rtpParameters: rtp }),
      ),
    ).toBe('forbidden');
  });

  test('expired, forged, misdirected tokens are refused', async () => {
    const c = await client(podA.signalingUrl);
    const old = Math.floor(Date.now() / 1000) - 3600;
    expect(await code(c.join(await token({}, { ttlSeconds: 60, now: old })))).toBe('token-expired');
    expect(
      await code(c.join(await token({}, { secret: 'another-secret-another-secret-xxxx' }))),
    ).toBe('unauthorized');
    expect(await code(c.join('not.a.jwt'))).toBe('unauthorized');
    expect(await code(c.join(await token({ node: 'media-b' })))).toBe('wrong-node');
    expect(await code(c.join(await token({ shard: 'nope' })))).toBe('no-shard');
    expect(await code(c.request('consume', { rtpCapabilities: {} }))).toBe('out-of-order');
  });

  test('malformed and out-of-order messages get error replies; others keep hearing', async () => {
    const c = await client(podA.signalingUrl);
    const replies = (n: number) =>
      waitFor(() => c.replies.length >= n && c.replies, {
        what: `${n} replies`,
        timeoutMs: 10_000,
      });
    c.sendRaw('not json');
    c.sendRaw(JSON.stringify({ method: 'join' }));
    c.sendRaw(JSON.stringify({ id: 5, method: 'nope' }));
    c.sendRaw(JSON.stringify({ id: 6, method: 'join', data: { token: 42 } }));
    c.sendRaw(
      JSON.stringify({
        id: 7,
        method: 'produce',
        data: { transportId: 't', kind: 'audio', rtpParameters: {} },
      }),
    );
    c.sendRaw(
      JSON.stringify({
        id: 8,
        method: 'connectTransport',
        data: { transportId: 't', dtlsParameters: {} },
      }),
    );
    const got = await replies(6);
    expect(got.map((r) => [r.id ?? null, r.ok, (r.error as { code: string }).code])).toEqual([
      [null, false, 'bad-request'],
      [null, false, 'bad-request'],
      [5, false, 'bad-request'],
      [6, false, 'bad-request'],
      [7, false, 'out-of-order'],
      [8, false, 'out-of-order'],
    ]);
    // After a good join, bad mediasoup objects are errors too, and a second join is out of order.
    await c.join(await token({ sub: 'l-bad' }));
    expect(
      await code(c.request('connectTransport', { transportId: 'nope', dtlsParameters: {} })),
    ).toBe('not-found');
    expect(await code(c.request('consume', { rtpCapabilities: {} }))).toBe('out-of-order');
    const recv = await c.request<{ id: string }>('createTransport', { direction: 'recv' });
    expect(
      await code(
        c.request('connectTransport', {
          transportId: recv.id,
          dtlsParameters: { fingerprints: 'x' },
        }),
      ),
    ).toBe('bad-request');
    expect(await code(c.join(await token({ sub: 'l-bad' })))).toBe('out-of-order');
    expect(c.closed).toBe(false);

    const now = Date.now();
    for (const listener of [onOrigin, otherWorker, otherPod])
      await waitFor(() => listener.loudFramesSince(now) >= 50, {
        what: 'audio still flowing',
        timeoutMs: 30_000,
        intervalMs: 250,
      });
  });

  test('a moderator mute stops the speaker everywhere; unmute brings it back', async () => {
    await redis.publish(roomKeys(ROOM).events, JSON.stringify({ type: 'mute', user: 'speaker-1' }));
    await waitFor(
      () =>
        speaker.notifications.find((n) => n.method === 'producerPaused' && n.data.paused === true),
      {
        what: 'speaker told of the mute',
        timeoutMs: 10_000,
      },
    );
    // Let in-flight audio and the cross-pod pipe's sync (1 s) settle, then listen for silence.
    await new Promise((r) => setTimeout(r, 2_500));
    const silentFrom = Date.now();
    await new Promise((r) => setTimeout(r, 2_000));
    for (const listener of [onOrigin, otherWorker, otherPod])
      expect(listener.loudFramesSince(silentFrom)).toBeLessThan(10);
    for (const listener of [onOrigin, otherPod])
      expect(
        listener.notifications.some((n) => n.method === 'roomEvent' && n.data.type === 'mute'),
      ).toBe(true);

    await redis.publish(
      roomKeys(ROOM).events,
      JSON.stringify({ type: 'unmute', user: 'speaker-1' }),
    );
    const back = Date.now();
    for (const listener of [onOrigin, otherWorker, otherPod])
      await waitFor(() => listener.loudFramesSince(back) >= 50, {
        what: 'audio back after unmute',
        timeoutMs: 30_000,
        intervalMs: 250,
      });
  });

  test('clients get room-wide counts and active speaker events', async () => {
    await waitFor(
      () =>
        otherPod.notifications.find(
          (n) => n.method === 'counts' && n.data.listeners === 3 && n.data.speakers === 1,
        ),
      {
        what: 'counts across both pods',
        timeoutMs: 20_000,
        intervalMs: 250,
      },
    );
    await waitFor(
      () =>
        otherPod.notifications.find(
          (n) =>
            n.method === 'roomEvent' &&
            n.data.type === 'activeSpeaker' &&
            n.data.user === 'speaker-1',
        ),
      {
        what: 'active speaker event',
        timeoutMs: 20_000,
        intervalMs: 250,
      },
    );
  });

  test('a muted dominant speaker hands the active speaker to one still speaking', async () => {
    // A second speaker's steady tone for longer than the observer's noise-floor window (15 s):
    // by then its level is its floor, so the dominant speaker algorithm alone would never let it
    // replace speaker-1, muted or not.
    const second = await client(podA.signalingUrl);
    await second.join(await token({ sub: 'speaker-2', role: 'speaker', name: 'Bob' }));
    await second.speak(660);
    await new Promise((r) => setTimeout(r, 16_000));
    const named = (user: string, since: number) =>
      otherPod.notifications.findIndex(
        (n, i) =>
          i >= since &&
          n.method === 'roomEvent' &&
          n.data.type === 'activeSpeaker' &&
          n.data.user === user,
      ) >= 0;
    const mark = otherPod.notifications.length;
    await redis.publish(roomKeys(ROOM).events, JSON.stringify({ type: 'mute', user: 'speaker-1' }));
    await waitFor(() => named('speaker-2', mark), {
      what: 'speaker-2 named active speaker after speaker-1 was muted',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    // Unmuted and alone again, speaker-1 is the active speaker once more.
    const back = otherPod.notifications.length;
    second.close();
    await redis.publish(
      roomKeys(ROOM).events,
      JSON.stringify({ type: 'unmute', user: 'speaker-1' }),
    );
    await waitFor(() => named('speaker-1', back), {
      what: 'speaker-1 active again after the unmute',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
  }, 60_000);

  test('a killed worker is noticed and reported in the heartbeat and metrics', async () => {
    const before = await heartbeatOf('media-b');
    const pid = before!.workers[0]!.pid!;
    expect(before!.workers[0]!.alive).toBe(true);
    process.kill(pid, 'SIGKILL');
    const after = await waitFor(
      async () => {
        const hb = await heartbeatOf('media-b');
        return hb && !hb.workers[0]!.alive && hb;
      },
      { what: 'media-b reports worker 0 dead', timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(after.shards.find((s) => s.shard === 'e2')).toMatchObject({ state: 'Failed' });
    await waitFor(() => otherPod.notifications.find((n) => n.method === 'rejoin'), {
      what: 'client told to rejoin',
      timeoutMs: 10_000,
    });
    const metrics = await (
      await fetch(urlB.replace('ws://', 'http://').replace('/ws', '/metrics'))
    ).text();
    expect(metrics).toMatch(/amphi_media_worker_deaths_total\{worker="0"\} 1/);
    expect(metrics).toMatch(/amphi_media_workers_alive 0/);
    expect(podB.running).toBe(true);
    const ready = await fetch(urlB.replace('ws://', 'http://').replace('/ws', '/readyz'));
    expect(ready.status).toBe(503);
  });

  test('a drain request: readiness off, clients told to rejoin, the pod stops once empty', async () => {
    await registry.requestDrain('media-a', {
      reason: 'scale-down',
      requestedAt: Date.now(),
      deadline: Date.now() + 60_000,
    });
    await waitFor(() => speaker.notifications.find((n) => n.method === 'rejoin'), {
      what: 'rejoin hint',
      timeoutMs: 10_000,
    });
    const hint = speaker.notifications.find((n) => n.method === 'rejoin')!.data;
    expect(hint.reason).toBe('draining');
    expect(typeof hint.backoffMs).toBe('number');
    const ready = await fetch(`http://127.0.0.1:${configA.signalingPort}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${configA.signalingPort}/healthz`)).status).toBe(200);
    const late = await client(podA.signalingUrl);
    expect(await code(late.join(await token({ sub: 'late' })))).toBe('draining');
    await waitFor(async () => (await heartbeatOf('media-a'))?.draining, {
      what: 'heartbeat says draining',
      timeoutMs: 10_000,
    });
    // The preStop hook's GET /drain waits while clients remain, and answers once the pod is empty.
    let answered = false;
    const drained = fetch(`http://127.0.0.1:${configA.signalingPort}/drain`).then(async (r) => {
      answered = true;
      return [r.status, await r.text()];
    });
    await new Promise((r) => setTimeout(r, 750));
    expect(answered).toBe(false);
    for (const c of clients) if (c.socket.url.includes(String(configA.signalingPort))) c.close();
    expect(await drained).toEqual([200, 'drained\n']);
    await Promise.race([
      podA.stopped,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('media-a did not stop once empty')), 30_000),
      ),
    ]);
    expect(await heartbeatOf('media-a')).toBeUndefined();
  });

  test('a pod killed without a word: its restarted self, then the sweep, report its sessions ended', async () => {
    const ended = async (reason: string) =>
      (await redis.xrange(presenceKeys.ended, '-', '+'))
        .map(([, fields]) => decodeSessionEnded(fields))
        .filter((e) => e.node === 'media-b' && e.reason === reason)
        .map((e) => e.user);
    const held = async () =>
      Object.values(await redis.hgetall(presenceKeys.sessions('media-b'))).map(
        (json) => (JSON.parse(json) as { user: string }).user,
      );
    // media-b recorded the session of the listener that joined it.
    expect(await held()).toContain('l-edge-b');

    // SIGKILL: the process reports nothing. Its restart under the same name reports for it.
    await podB.kill();
    expect(await ended('media pod restarted')).toEqual([]);
    podB = startPodB('media-pod-b-restarted');
    await waitFor(async () => (await ended('media pod restarted')).includes('l-edge-b'), {
      what: "the restarted media-b to report its predecessor's sessions",
      timeoutMs: 30_000,
      intervalMs: 250,
      abortIf: () => podB.exitReason(),
    });
    expect(await held()).not.toContain('l-edge-b');

    // A listener joins the restarted pod (a room of its own: media-a, the first room's origin, has
    // drained away); then the pod is killed for good. The sweep reports the session once the
    // heartbeat has been missing longer than lostAfterMs, and only then.
    const room = 'default/after-restart';
    await new RoutingTable(redis).assign('media-b', {
      room,
      shard: {
        id: 'o9',
        role: 'origin',
        region: 'eu-west',
        node: 'media-b',
        worker: 0,
        listeners: 0,
        state: 'Pending',
      },
      speakerLimit: 10,
      assignedAt: Date.now(),
    });
    await waitFor(
      async () =>
        (await heartbeatOf('media-b'))?.shards.find((x) => x.shard === 'o9' && x.state === 'Ready'),
      { what: 'restarted media-b serves o9', timeoutMs: 30_000, intervalMs: 250 },
    );
    const late = await client(urlB);
    await late.join(await token({ sub: 'l-after-restart', room, shard: 'o9', node: 'media-b' }));
    await waitFor(async () => (await held()).includes('l-after-restart'), {
      what: 'the session recorded',
      timeoutMs: 10_000,
    });
    await podB.kill();
    const sweeper = new LostPodSweeper(redis, registry, pino({ level: 'silent' }), {
      lostAfterMs: 2_000,
    });
    expect(await sweeper.pass()).toEqual([]); // the last heartbeat is still live (TTL 3 s)
    const missing = await waitFor(
      async () => {
        const now = Date.now();
        return (await sweeper.pass(now)).includes('media-b') && now;
      },
      { what: 'the sweep to find media-b lost', timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(await ended('media pod lost')).toEqual(['l-after-restart']);
    expect(await held()).toEqual([]);
    expect(await redis.sismember(presenceKeys.nodes, 'media-b')).toBe(0);
    // Another replica's sweep finds nothing left to report.
    expect(await reportAllSessionsEnded(redis, 'media-b', 'media pod lost')).toBe(0);
    expect(sweeper.swept).toBe(1);
    expect(missing).toBeGreaterThan(0);
  }, 120_000);
});
