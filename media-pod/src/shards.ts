// The shard host: realises this pod's assignments from the routing table. One Router per assigned
// shard on the assigned worker; an edge receives every producer of its origin — through
// pipeToRouter when the origin is on this pod, through SRTP PipeTransports negotiated with the
// origin's pod (pipes.ts) otherwise. Level-triggered: reconcile() compares what is with what should
// be, whatever the notice that woke it.
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import {
  shardKey,
  type HostedShard,
  type ShardAssignmentRecord,
} from '../../common/src/contract/index.js';
import type { Logger } from '../../common/src/logger.js';
import type { MediaPodConfig } from './config.js';
import type { PoolWorker, WorkerPool } from './workers.js';

export const OPUS: types.RouterRtpCodecCapability = {
  kind: 'audio',
  mimeType: 'audio/opus',
  clockRate: 48000,
  channels: 2,
  preferredPayloadType: 111,
};

export interface SpeakerInfo {
  user: string;
  name?: string;
}

/** A producer listeners of a shard consume: a speaker's own (origin) or a pipe's (edge). */
export interface ShardProducer {
  producer: types.Producer;
  speaker: SpeakerInfo;
}

/** What the signalling layer counts per shard. */
export interface ShardMember {
  role: 'listener' | 'speaker';
  /** Told when the shard goes away (unassigned, worker died, drain). */
  shardClosed(reason: string): void;
}

export interface EdgeFeed {
  close(): void;
  readonly ready: boolean;
}

export class Shard extends EventEmitter<{
  producer: [ShardProducer];
  producerclose: [string];
  closed: [string];
}> {
  readonly key: string;
  readonly producers = new Map<string, ShardProducer>();
  readonly members = new Set<ShardMember>();
  state: HostedShard['state'] = 'Pending';
  message: string | undefined;
  feed: EdgeFeed | undefined;
  closed = false;
  observer: types.ActiveSpeakerObserver | undefined;

  constructor(
    readonly record: ShardAssignmentRecord,
    readonly worker: PoolWorker,
    readonly router: types.Router,
  ) {
    super();
    this.key = shardKey(record.room, record.shard.id);
  }

  get room(): string {
    return this.record.room;
  }
  get id(): string {
    return this.record.shard.id;
  }
  get role(): 'origin' | 'edge' {
    return this.record.shard.role;
  }

  addProducer(producer: types.Producer, speaker: SpeakerInfo): void {
    const entry = { producer, speaker };
    this.producers.set(producer.id, entry);
    producer.observer.once('close', () => {
      if (this.producers.get(producer.id) === entry) {
        this.producers.delete(producer.id);
        this.emit('producerclose', producer.id);
      }
    });
    this.#observe(producer);
    this.emit('producer', entry);
  }

  /**
   * A paused (muted) producer leaves the active speaker observer and comes back on resume. Left in,
   * a muted dominant speaker stays dominant: the algorithm only replaces it when another speaker
   * clearly out-talks it, and a steady voice whose level has become its noise floor never does.
   */
  #observe(producer: types.Producer): void {
    const observer = this.observer;
    if (!observer) return;
    const add = (): void => void observer.addProducer({ producerId: producer.id }).catch(() => {});
    const remove = (): void =>
      void observer.removeProducer({ producerId: producer.id }).catch(() => {});
    producer.observer.on('pause', remove);
    producer.observer.on('resume', add);
    if (!producer.paused) add();
  }

  count(role: ShardMember['role']): number {
    let n = 0;
    for (const member of this.members) if (member.role === role) n += 1;
    return n;
  }

  report(): HostedShard {
    return {
      room: this.room,
      shard: this.id,
      role: this.role,
      worker: this.worker.index,
      state: this.state,
      listeners: this.count('listener'),
      speakers: this.role === 'origin' ? this.count('speaker') : this.producers.size,
      ...(this.message ? { message: this.message.slice(0, 1024) } : {}),
    };
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.feed?.close();
    for (const member of [...this.members]) member.shardClosed(reason);
    this.router.close();
    this.emit('closed', reason);
  }
}

/** Opens the feed of an edge whose origin is on another pod (pipes.ts). */
export type RemoteFeedFactory = (edge: Shard) => EdgeFeed;

export class ShardHost {
  readonly shards = new Map<string, Shard>();
  /** Assignments that could not be realised (dead worker, bad index), reported as Failed. */
  readonly failed = new Map<string, HostedShard>();
  draining = false;
  onDominantSpeaker: (shard: Shard, speaker: SpeakerInfo) => void = () => {};
  onShardOpened: (shard: Shard) => void = () => {};
  onShardClosed: (shard: Shard) => void = () => {};
  remoteFeed: RemoteFeedFactory | undefined;
  #chain: Promise<void> = Promise.resolve();
  #latest: ShardAssignmentRecord[] = [];

  constructor(
    private readonly config: MediaPodConfig,
    private readonly pool: WorkerPool,
    private readonly log: Logger,
  ) {
    pool.onDeath = (worker) => this.#workerDied(worker);
  }

  get(room: string, shardId: string): Shard | undefined {
    return this.shards.get(shardKey(room, shardId));
  }

  report(): HostedShard[] {
    return [...[...this.shards.values()].map((s) => s.report()), ...this.failed.values()];
  }

  /** Serialised: a reconcile in flight is followed by at most one more with the newest records. */
  reconcile(records: ShardAssignmentRecord[]): Promise<void> {
    this.#latest = records;
    const run = this.#chain.then(() => this.#reconcile(this.#latest));
    this.#chain = run.catch((error: unknown) =>
      this.log.error({ err: (error as Error).message }, 'reconcile failed'),
    );
    return this.#chain;
  }

  async #reconcile(records: ShardAssignmentRecord[]): Promise<void> {
    const desired = new Map<string, ShardAssignmentRecord>();
    for (const record of records)
      if (record.shard.node === this.config.nodeId)
        desired.set(shardKey(record.room, record.shard.id), record);

    for (const [key, shard] of this.shards) {
      const want = desired.get(key);
      if (!want || want.shard.worker !== shard.worker.index || want.shard.role !== shard.role) {
        this.log.info({ room: shard.room, shard: shard.id }, 'shard unassigned: closing');
        this.#close(shard, want ? 'shard moved' : 'shard unassigned');
      } else if (shard.role === 'edge' && !sameOrigin(want, shard.record)) {
        this.#close(shard, 'origin moved');
      }
    }
    for (const key of this.failed.keys()) if (!desired.has(key)) this.failed.delete(key);

    // Origins first: local edges feed from them.
    const ordered = [...desired.values()].sort(
      (a, b) => Number(a.shard.role === 'edge') - Number(b.shard.role === 'edge'),
    );
    for (const record of ordered) {
      const key = shardKey(record.room, record.shard.id);
      let shard = this.shards.get(key);
      if (!shard) {
        if (this.draining) continue; // no new shards while draining
        shard = await this.#open(record);
        if (!shard) continue;
      }
      if (shard.role === 'edge') this.#ensureFeed(shard);
    }
  }

  async #open(record: ShardAssignmentRecord): Promise<Shard | undefined> {
    const key = shardKey(record.room, record.shard.id);
    const worker = this.pool.get(record.shard.worker);
    const fail = (message: string): undefined => {
      if (this.failed.get(key)?.message !== message)
        this.log.warn({ room: record.room, shard: record.shard.id }, message);
      this.failed.set(key, {
        room: record.room,
        shard: record.shard.id,
        role: record.shard.role,
        worker: record.shard.worker,
        state: 'Failed',
        listeners: 0,
        speakers: 0,
        message,
      });
      return undefined;
    };
    if (!worker) return fail(`no worker ${record.shard.worker} on ${this.config.nodeId}`);
    if (!worker.alive) return fail(`worker ${record.shard.worker} is dead`);
    let router: types.Router;
    try {
      router = await worker.worker.createRouter({
        mediaCodecs: [OPUS],
        appData: { room: record.room, shard: record.shard.id },
      });
    } catch (error) {
      return fail(`cannot create router: ${(error as Error).message}`);
    }
    this.failed.delete(key);
    const shard = new Shard(record, worker, router);
    if (record.shard.role === 'origin') {
      shard.state = 'Ready';
      try {
        const observer = await router.createActiveSpeakerObserver({ interval: 300 });
        shard.observer = observer;
        observer.on('dominantspeaker', ({ producer }) => {
          const entry = shard.producers.get(producer.id);
          if (entry) this.onDominantSpeaker(shard, entry.speaker);
        });
      } catch (error) {
        this.log.warn({ err: (error as Error).message }, 'no active speaker observer');
      }
    }
    router.observer.once('close', () => {
      if (shard.closed) return;
      // mediasoup closes a dead worker's routers before it emits 'died': report the shard as
      // Failed here, or the next heartbeat would simply not list it.
      if (worker.worker.died) this.#fail(shard, `worker ${worker.index} died`);
      else this.#close(shard, 'router closed');
    });
    this.shards.set(key, shard);
    this.log.info(
      { room: record.room, shard: record.shard.id, role: shard.role, worker: worker.index },
      'shard opened',
    );
    this.onShardOpened(shard);
    return shard;
  }

  #ensureFeed(edge: Shard): void {
    if (edge.feed || edge.closed) return;
    const origin = edge.record.origin;
    if (!origin) {
      edge.state = 'Failed';
      edge.message = 'edge assignment without an origin';
      return;
    }
    if (origin.node === this.config.nodeId) {
      const source = this.get(edge.room, origin.shard);
      if (!source) {
        edge.state = 'Pending';
        edge.message = `origin ${origin.shard} not hosted here yet`;
        return;
      }
      edge.feed = localFeed(source, edge, this.log);
      edge.state = 'Ready';
      edge.message = undefined;
    } else if (this.remoteFeed) {
      edge.feed = this.remoteFeed(edge);
    }
  }

  #close(shard: Shard, reason: string): void {
    this.shards.delete(shard.key);
    shard.close(reason);
    this.onShardClosed(shard);
    // Local edges fed by this origin lose their feed; the next reconcile reopens it.
    for (const other of this.shards.values()) {
      if (
        other.role === 'edge' &&
        other.room === shard.room &&
        other.record.origin?.node === this.config.nodeId &&
        other.record.origin.shard === shard.id
      ) {
        other.feed?.close();
        other.feed = undefined;
        other.state = 'Pending';
      }
    }
  }

  #workerDied(worker: PoolWorker): void {
    for (const shard of [...this.shards.values()])
      if (shard.worker === worker) this.#fail(shard, `worker ${worker.index} died`);
  }

  /** Closes a shard that broke under us and keeps reporting it as Failed. */
  #fail(shard: Shard, message: string): void {
    const report = shard.report();
    this.#close(shard, message);
    this.failed.set(shard.key, { ...report, state: 'Failed', listeners: 0, speakers: 0, message });
  }

  closeAll(reason: string): void {
    for (const shard of [...this.shards.values()]) this.#close(shard, reason);
  }
}

function sameOrigin(a: ShardAssignmentRecord, b: ShardAssignmentRecord): boolean {
  return (
    a.origin?.node === b.origin?.node &&
    a.origin?.shard === b.origin?.shard &&
    a.origin?.worker === b.origin?.worker
  );
}

/** Same pod: every producer of the origin piped into the edge's router (pipeToRouter). */
function localFeed(origin: Shard, edge: Shard, log: Logger): EdgeFeed {
  let closed = false;
  const piped = new Map<string, types.Producer>();
  const pipe = async (entry: ShardProducer): Promise<void> => {
    if (closed || piped.has(entry.producer.id)) return;
    try {
      const { pipeProducer } = await origin.router.pipeToRouter({
        producerId: entry.producer.id,
        router: edge.router,
        keepId: origin.worker !== edge.worker,
        enableSctp: false,
      });
      if (!pipeProducer) return;
      if (closed || entry.producer.closed) {
        pipeProducer.close();
        return;
      }
      piped.set(entry.producer.id, pipeProducer);
      pipeProducer.observer.once('close', () => piped.delete(entry.producer.id));
      edge.addProducer(pipeProducer, entry.speaker);
    } catch (error) {
      if (!closed && !entry.producer.closed)
        log.warn({ err: (error as Error).message, edge: edge.id }, 'pipeToRouter failed');
    }
  };
  const onProducer = (entry: ShardProducer): void => void pipe(entry);
  // pipeToRouter ties the pipe producer's life and pause state to the origin producer's.
  origin.on('producer', onProducer);
  for (const entry of origin.producers.values()) void pipe(entry);
  return {
    ready: true,
    close() {
      closed = true;
      origin.off('producer', onProducer);
      for (const producer of piped.values()) producer.close();
      piped.clear();
    },
  };
}
