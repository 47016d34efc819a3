// The media pod: worker pool, shard host, pipes, signalling, heartbeat, room events, drain, HTTP
// (/healthz, /readyz, /metrics, /drain for the preStop hook, /ws).
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import type * as Mediasoup from 'mediasoup';
import {
  DecodeError,
  NodeRegistry,
  RoutingTable,
  nodeKeys,
  roomKeys,
  type DrainRequest,
  type NodeHeartbeat,
} from '../../common/src/contract/index.js';
import { ModerationEvent } from '../../common/src/contract/signaling.js';
import { decodeValue } from '../../common/src/contract/codec.js';
import {
  recordSessionStarted,
  reportAllSessionsEnded,
  reportSessionEnded,
} from '../../common/src/contract/presence.js';
import { createLogger, type Logger } from '../../common/src/logger.js';
import type { MediaPodConfig } from './config.js';
import { MediaMetrics } from './metrics.js';
import { PipeServer, remoteFeedFactory } from './pipes.js';
import { Session, jitter } from './signaling.js';
import { ShardHost, type Shard } from './shards.js';
import { WorkerPool } from './workers.js';

export class MediaPod {
  readonly log: Logger;
  readonly metrics = new MediaMetrics();
  readonly pool: WorkerPool;
  readonly host: ShardHost;
  readonly sessions = new Set<Session>();
  readonly startedAt = Date.now();
  draining: DrainRequest | undefined;
  #redis: Redis;
  #subscriber: Redis;
  #registry: NodeRegistry;
  #routing: RoutingTable;
  #pipes: PipeServer;
  #http: Server | undefined;
  #wss: WebSocketServer | undefined;
  #timers: NodeJS.Timeout[] = [];
  #seq = 0;
  #beating = false;
  #beatAgain = false;
  #rooms = new Map<string, number>();
  /** Last active-speaker event per room, replayed to clients that join later. */
  #activeSpeaker = new Map<string, unknown>();
  #stopping: Promise<void> | undefined;
  /** GET /drain requests waiting for the drain to end (answered when the pod stops). */
  #drainWaiters: Array<() => void> = [];
  /** Resolves when the pod has stopped (drained, or stop() called). */
  readonly stopped: Promise<void>;
  #resolveStopped!: () => void;

  constructor(readonly config: MediaPodConfig) {
    this.log = createLogger('media-pod', { base: { component: 'media-pod', node: config.nodeId } });
    this.pool = new WorkerPool(config, this.log, this.metrics);
    this.host = new ShardHost(config, this.pool, this.log);
    this.#redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
    this.#subscriber = new Redis(config.redisUrl);
    for (const client of [this.#redis, this.#subscriber])
      client.on('error', (error: Error) => this.log.warn({ err: error.message }, 'redis error'));
    this.#registry = new NodeRegistry(this.#redis);
    this.#routing = new RoutingTable(this.#redis);
    this.#pipes = new PipeServer(config, this.host, this.log);
    this.host.remoteFeed = remoteFeedFactory(config, this.#registry, this.log);
    this.host.onDominantSpeaker = (shard, speaker) => {
      const event = {
        type: 'activeSpeaker',
        user: speaker.user,
        shard: shard.id,
        node: config.nodeId,
      };
      this.#redis.publish(roomKeys(shard.room).events, JSON.stringify(event)).catch(() => {});
    };
    this.host.onShardOpened = (shard) => this.#watchRoom(shard.room, +1);
    this.host.onShardClosed = (shard) => this.#watchRoom(shard.room, -1);
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
  }

  get signalingUrl(): string {
    return `ws://${this.config.announcedAddress}:${this.config.signalingPort}/ws`;
  }

  async start(mediasoup: typeof Mediasoup): Promise<void> {
    await this.#endPredecessorSessions();
    await this.pool.start(mediasoup);
    await this.#pipes.listen();
    await this.#listenHttp();
    this.#subscriber.on('message', (channel: string, message: string) =>
      this.#onPubSub(channel, message),
    );
    await this.#subscriber.subscribe(nodeKeys(this.config.nodeId).assignmentsChanged);
    await this.#beat(); // announce pipeUrl before edges elsewhere look for it
    await this.resync();
    this.#every(this.config.heartbeatIntervalMs, () => this.#beat());
    this.#every(this.config.resyncIntervalMs, () => this.resync());
    // A pending shard (origin not here yet) is retried soon, not at the next resync.
    this.#every(1_000, async () => {
      if (this.host.report().some((s) => s.state === 'Pending')) await this.resync();
    });
    this.#every(this.config.countsIntervalMs, () => this.#sendCounts());
    this.log.info(
      { workers: this.pool.workers.length, signaling: this.signalingUrl, pipe: this.#pipeUrl() },
      'media pod started',
    );
  }

  /**
   * A pod restarted under the same name (a StatefulSet pod after a crash or SIGKILL) first reports
   * the sessions its predecessor held as ended: that process could not. Before the signalling
   * server listens, so none of this process's own sessions are among them.
   */
  async #endPredecessorSessions(): Promise<void> {
    try {
      const ended = await reportAllSessionsEnded(
        this.#redis,
        this.config.nodeId,
        'media pod restarted',
      );
      if (ended > 0)
        this.log.info({ sessions: ended }, "reported the previous process's sessions as ended");
    } catch (error) {
      this.log.warn(
        { err: (error as Error).message },
        "could not report the previous process's sessions as ended",
      );
    }
  }

  #every(ms: number, fn: () => Promise<void>): void {
    const timer = setInterval(() => {
      fn().catch((error: unknown) =>
        this.log.warn({ err: (error as Error).message }, 'periodic task failed'),
      );
    }, ms);
    this.#timers.push(timer);
  }

  #pipeUrl(): string {
    return `http://${this.config.pipeAddress}:${this.config.pipePort}`;
  }

  /** Level-triggered: read every assignment, make the routers match. */
  async resync(): Promise<void> {
    const { records, invalid } = await this.#routing.assignments(this.config.nodeId);
    for (const { field, error } of invalid)
      this.log.warn({ field, err: error.message }, 'ignoring an invalid assignment');
    await this.host.reconcile(records);
    this.#updateGauges();
  }

  #onPubSub(channel: string, message: string): void {
    if (channel === nodeKeys(this.config.nodeId).assignmentsChanged) {
      this.resync().catch((error: unknown) =>
        this.log.warn({ err: (error as Error).message }, 'resync failed'),
      );
      return;
    }
    const prefix = 'amphi:{r:';
    if (!channel.startsWith(prefix) || !channel.endsWith('}:events')) return;
    const room = channel.slice(prefix.length, -'}:events'.length);
    let event: unknown;
    try {
      event = JSON.parse(message);
    } catch {
      this.log.warn({ room }, 'room event is not JSON');
      return;
    }
    if ((event as { type?: unknown } | null)?.type === 'activeSpeaker')
      this.#activeSpeaker.set(room, event);
    const members = [...this.sessions].filter((s) => s.claims?.room === room);
    let moderation: ModerationEvent | undefined;
    try {
      moderation = decodeValue(ModerationEvent, event, 'moderation event');
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
    }
    if (moderation) {
      const { type, user } = moderation;
      for (const session of members) {
        if (session.user !== user) continue;
        if (type === 'demote') session.demote();
        else
          session
            .setServerMuted(type === 'mute', 'moderator')
            .catch((error: unknown) =>
              this.log.warn({ err: (error as Error).message, user }, 'mute failed'),
            );
      }
    }
    for (const session of members) session.notify({ method: 'roomEvent', data: event });
  }

  #watchRoom(room: string, delta: number): void {
    const count = (this.#rooms.get(room) ?? 0) + delta;
    const channel = roomKeys(room).events;
    if (count <= 0) {
      this.#rooms.delete(room);
      this.#activeSpeaker.delete(room);
      this.#subscriber.unsubscribe(channel).catch(() => {});
    } else {
      if (!this.#rooms.has(room)) this.#subscriber.subscribe(channel).catch(() => {});
      this.#rooms.set(room, count);
    }
  }

  /** Room-wide counts from the registry (every pod's hosted shards): one read per period. */
  async #sendCounts(): Promise<void> {
    if (this.sessions.size === 0) return;
    const live = await this.#registry.live();
    const totals = new Map<string, { listeners: number; speakers: number }>();
    for (const node of live.nodes)
      for (const shard of node.shards) {
        const total = totals.get(shard.room) ?? { listeners: 0, speakers: 0 };
        total.listeners += shard.listeners;
        if (shard.role === 'origin') total.speakers += shard.speakers;
        totals.set(shard.room, total);
      }
    for (const session of this.sessions) {
      const total = session.claims && totals.get(session.claims.room);
      if (total) session.notify({ method: 'counts', data: total });
    }
  }

  heartbeat(): NodeHeartbeat {
    const routers = new Map<number, number>();
    for (const shard of this.host.shards.values())
      routers.set(shard.worker.index, (routers.get(shard.worker.index) ?? 0) + 1);
    return {
      node: this.config.nodeId,
      region: this.config.region,
      zone: this.config.zone,
      k8sNode: this.config.k8sNode,
      announcedAddress: this.config.announcedAddress,
      signalingUrl: this.signalingUrl,
      pipeUrl: this.#pipeUrl(),
      draining: this.draining !== undefined,
      startedAt: this.startedAt,
      sentAt: Date.now(),
      seq: this.#seq++,
      workers: this.pool.workers.map((w) => {
        const tally = this.#tallies.get(w.index);
        return {
          index: w.index,
          alive: w.alive,
          pid: w.pid,
          port: w.port,
          consumers: w.alive ? (tally?.consumers ?? 0) : 0,
          producers: w.alive ? (tally?.producers ?? 0) : 0,
          routers: w.alive ? (routers.get(w.index) ?? 0) : 0,
          cpuPercent: Math.round(w.cpuPercent * 10) / 10,
        };
      }),
      shards: this.host.report(),
    };
  }

  #tallies = new Map<number, { consumers: number; producers: number; transports: number }>();

  #updateGauges(): void {
    this.metrics.routers.set(this.host.shards.size);
    let consumers = 0;
    let producers = 0;
    let transports = 0;
    for (const [index, tally] of this.#tallies) {
      if (!this.pool.get(index)?.alive) continue;
      consumers += tally.consumers;
      producers += tally.producers;
      transports += tally.transports;
    }
    this.metrics.consumers.set(consumers);
    this.metrics.producers.set(producers);
    this.metrics.transports.set(transports);
    this.metrics.draining.set(this.draining ? 1 : 0);
  }

  /** Counts every transport, producer and consumer of every router, through mediasoup observers. */
  #observeWorkers(): void {
    for (const entry of this.pool.workers) {
      const tally = { consumers: 0, producers: 0, transports: 0 };
      this.#tallies.set(entry.index, tally);
      entry.worker.observer.on('newrouter', (router) => {
        router.observer.on('newtransport', (transport) => {
          tally.transports += 1;
          transport.observer.once('close', () => (tally.transports -= 1));
          transport.observer.on('newproducer', (producer) => {
            tally.producers += 1;
            producer.observer.once('close', () => (tally.producers -= 1));
          });
          transport.observer.on('newconsumer', (consumer) => {
            tally.consumers += 1;
            consumer.observer.once('close', () => (tally.consumers -= 1));
          });
        });
      });
    }
  }

  async #beat(): Promise<void> {
    if (this.#beating) {
      this.#beatAgain = true; // e.g. the drain flag changed during a beat: report it at once
      return;
    }
    this.#beating = true;
    this.#beatAgain = false;
    try {
      await this.pool.sampleCpu();
      this.#updateGauges();
      await this.#sampleBytes();
      const request = await this.#registry.beat(this.heartbeat());
      if (request && !this.draining) this.drain(request);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'heartbeat failed');
    } finally {
      this.#beating = false;
    }
    if (this.#beatAgain && !this.#stopping) await this.#beat();
  }

  async #sampleBytes(): Promise<void> {
    let bytesIn = 0;
    let bytesOut = 0;
    const transports = new Set<{
      getStats(): Promise<Array<{ bytesReceived?: number; bytesSent?: number }>>;
    }>();
    for (const shard of this.host.shards.values())
      for (const t of this.#transportsOf(shard)) transports.add(t);
    await Promise.all(
      [...transports].map(async (t) => {
        try {
          for (const stats of await t.getStats()) {
            bytesIn += stats.bytesReceived ?? 0;
            bytesOut += stats.bytesSent ?? 0;
          }
        } catch {
          // closed meanwhile
        }
      }),
    );
    this.metrics.bytesIn.set(bytesIn);
    this.metrics.bytesOut.set(bytesOut);
  }

  #transportsOf(
    shard: Shard,
  ): Array<{ getStats(): Promise<Array<{ bytesReceived?: number; bytesSent?: number }>> }> {
    return this.#routerTransports.get(shard.router.id) ?? [];
  }

  #routerTransports = new Map<
    string,
    Array<{ getStats(): Promise<Array<{ bytesReceived?: number; bytesSent?: number }>> }>
  >();

  async #listenHttp(): Promise<void> {
    this.#observeWorkers();
    for (const entry of this.pool.workers)
      entry.worker.observer.on('newrouter', (router) => {
        const list: Array<{
          getStats(): Promise<Array<{ bytesReceived?: number; bytesSent?: number }>>;
        }> = [];
        this.#routerTransports.set(router.id, list);
        router.observer.once('close', () => this.#routerTransports.delete(router.id));
        router.observer.on('newtransport', (transport) => {
          const stats = transport as unknown as (typeof list)[number];
          list.push(stats);
          transport.observer.once('close', () => list.splice(list.indexOf(stats), 1));
        });
      });

    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') {
        // Liveness: the process answers. Never tied to load or drain.
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const ready = !this.draining && this.pool.aliveCount() > 0;
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
          .end(this.draining ? 'draining\n' : ready ? 'ready\n' : 'no live worker\n');
      } else if (path === '/drain') {
        // The preStop hook: start the drain (as SIGTERM does) and answer once the pod is empty or
        // the drain deadline passed; the kubelet sends SIGTERM after the answer.
        if (!this.draining)
          this.drain({
            reason: 'preStop',
            requestedAt: Date.now(),
            deadline: Date.now() + this.config.drainDeadlineMs,
          });
        const answer = (): void => {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('drained\n');
        };
        if (this.#stopping) answer();
        else this.#drainWaiters.push(answer);
      } else if (path === '/metrics') {
        this.#updateGauges();
        this.metrics.registry
          .metrics()
          .then((text) =>
            res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
          )
          .catch((error: unknown) => res.writeHead(500).end(String(error)));
      } else {
        res.writeHead(404).end();
      }
    });
    const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
    server.on('upgrade', (req, socket, head) => {
      if ((req.url ?? '').split('?')[0] !== '/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        new Session(ws, {
          config: this.config,
          host: this.host,
          metrics: this.metrics,
          log: this.log,
          isDraining: () => this.draining !== undefined,
          sessions: this.sessions,
          // The dominant speaker is announced only when it changes: tell newcomers the current one.
          onJoined: (session) => {
            const claims = session.claims;
            if (claims?.jti)
              recordSessionStarted(this.#redis, {
                room: claims.room,
                user: claims.sub,
                join: claims.jti,
                node: this.config.nodeId,
              }).catch((error: Error) =>
                this.log.warn(
                  { err: error.message, room: claims.room, user: claims.sub },
                  'could not record a session',
                ),
              );
            const last = session.claims && this.#activeSpeaker.get(session.claims.room);
            if (last) session.notify({ method: 'roomEvent', data: last });
          },
          // Presence: the control API removes the participant after a grace unless they rejoined.
          onEnded: (session, reason) => {
            const claims = session.claims;
            if (!claims?.jti) return;
            reportSessionEnded(this.#redis, {
              room: claims.room,
              user: claims.sub,
              join: claims.jti,
              node: this.config.nodeId,
              reason: reason.slice(0, 120),
            }).catch((error: Error) =>
              this.log.warn(
                { err: error.message, room: claims.room, user: claims.sub },
                'could not report the end of a session',
              ),
            );
          },
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.signalingPort, this.config.listenIp, () => resolve());
    });
    this.#http = server;
    this.#wss = wss;
  }

  /** Drain: readiness off, no new shards or joins, clients told to rejoin; stop when empty. */
  drain(request: DrainRequest): void {
    if (this.draining) return;
    const deadline = Math.min(
      request.deadline || Infinity,
      Date.now() + this.config.drainDeadlineMs,
    );
    this.draining = { ...request, deadline };
    this.host.draining = true;
    this.metrics.draining.set(1);
    this.log.info({ reason: request.reason, deadline }, 'draining');
    for (const session of this.sessions)
      session.notify({
        method: 'rejoin',
        data: { reason: 'draining', backoffMs: jitter(0, 5_000) },
      });
    const check = setInterval(() => {
      if (this.sessions.size === 0 || Date.now() >= deadline) {
        clearInterval(check);
        this.log.info({ sessions: this.sessions.size }, 'drain done');
        void this.stop();
      }
    }, 250);
    this.#timers.push(check);
    void this.#beat();
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    for (const answer of this.#drainWaiters.splice(0)) answer();
    for (const timer of this.#timers) clearInterval(timer);
    for (const session of [...this.sessions]) session.close('media pod stopping');
    this.#wss?.close();
    await new Promise<void>((resolve) =>
      this.#http ? this.#http.close(() => resolve()) : resolve(),
    );
    this.#http?.closeAllConnections();
    await this.#pipes.close();
    this.host.closeAll('media pod stopping');
    this.pool.close();
    // A heartbeat still in flight would write the node back after leave().
    while (this.#beating) await new Promise((r) => setTimeout(r, 10));
    try {
      await this.#registry.leave(this.config.nodeId);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'could not leave the registry');
    }
    this.#subscriber.disconnect();
    this.#redis.disconnect();
    this.log.info('media pod stopped');
    this.#resolveStopped();
  }
}
