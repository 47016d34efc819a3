// Pipes between media pods: an edge on this pod whose origin is on another pod asks the origin's pod
// (its pipeUrl, from the node registry) for an SRTP PipeTransport on the origin router, connects
// both ends, then syncs the producer list every second: the origin consumes every producer through
// the pipe, the edge produces the same ids on its side and closes those that went away.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { types } from 'mediasoup';
import { decodeValue, type NodeRegistry } from '../../common/src/contract/index.js';
import type { Logger } from '../../common/src/logger.js';
import type { MediaPodConfig } from './config.js';
import type { EdgeFeed, Shard, ShardHost, SpeakerInfo } from './shards.js';

const Srtp = Type.Object({ cryptoSuite: Type.String(), keyBase64: Type.String() });
const OpenPipe = Type.Object({
  room: Type.String({ minLength: 1 }),
  originShard: Type.String({ minLength: 1 }),
  edgeNode: Type.String({ minLength: 1 }),
  edgeShard: Type.String({ minLength: 1 }),
});
const ConnectPipe = Type.Object({
  ip: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  srtpParameters: Srtp,
});
const PipeEndSchema = Type.Object({
  pipeId: Type.String(),
  ip: Type.String(),
  port: Type.Integer(),
  srtpParameters: Srtp,
});
const PipedProducer = Type.Object({
  producerId: Type.String(),
  kind: Type.Literal('audio'),
  rtpParameters: Type.Object({}, { additionalProperties: true }),
  paused: Type.Boolean(),
  user: Type.String(),
  name: Type.Optional(Type.String()),
});
const SyncReply = Type.Object({ producers: Type.Array(PipedProducer) });
type PipeEnd = Static<typeof PipeEndSchema>;
type SyncReply = Static<typeof SyncReply>;

/** A pipe whose edge stopped syncing this long ago is closed by the origin. */
const PIPE_IDLE_MS = 30_000;
const SYNC_INTERVAL_MS = 1_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface OriginPipe {
  id: string;
  shard: Shard;
  transport: types.PipeTransport;
  consumers: Map<string, types.Consumer>;
  lastSyncAt: number;
}

/** The origin's half: an HTTP API on the pipe port. */
export class PipeServer {
  readonly pipes = new Map<string, OriginPipe>();
  #server: Server | undefined;
  #reaper: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: MediaPodConfig,
    private readonly host: ShardHost,
    private readonly log: Logger,
  ) {}

  async listen(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(this.config.pipePort, this.config.listenIp, () => resolve());
    });
    this.#reaper = setInterval(() => {
      const now = Date.now();
      for (const pipe of this.pipes.values())
        if (now - pipe.lastSyncAt > PIPE_IDLE_MS) this.#closePipe(pipe, 'edge stopped syncing');
    }, 5_000);
    this.#reaper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#reaper);
    for (const pipe of this.pipes.values()) this.#closePipe(pipe, 'pod stopping');
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
    this.#server?.closeAllConnections();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://pipe');
      const parts = url.pathname.split('/').filter(Boolean);
      if (req.method !== 'POST' || parts[0] !== 'pipes') throw new HttpError(404, 'not found');
      const body = await readJson(req);
      let reply: unknown;
      if (parts.length === 1) reply = await this.#open(decodeValue(OpenPipe, body, 'pipe request'));
      else {
        const pipe = this.pipes.get(parts[1] ?? '');
        if (!pipe) throw new HttpError(404, `no pipe ${parts[1]}`);
        if (parts[2] === 'connect')
          reply = await this.#connect(pipe, decodeValue(ConnectPipe, body, 'pipe connect'));
        else if (parts[2] === 'sync') reply = await this.#sync(pipe);
        else if (parts[2] === 'close') {
          this.#closePipe(pipe, 'edge closed it');
          reply = {};
        } else throw new HttpError(404, 'not found');
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    } catch (error) {
      const status =
        error instanceof HttpError
          ? error.status
          : (error as Error).name === 'DecodeError'
            ? 400
            : 500;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: (error as Error).message }));
    }
  }

  async #open(request: Static<typeof OpenPipe>): Promise<PipeEnd> {
    const shard = this.host.get(request.room, request.originShard);
    if (!shard || shard.role !== 'origin' || shard.closed)
      throw new HttpError(404, `origin ${request.room}#${request.originShard} is not hosted here`);
    const transport = await shard.router.createPipeTransport({
      listenInfo: {
        protocol: 'udp',
        ip: this.config.listenIp,
        announcedAddress: this.config.pipeAddress,
      },
      enableSrtp: true,
      enableRtx: false,
      appData: { edgeNode: request.edgeNode, edgeShard: request.edgeShard },
    });
    const pipe: OriginPipe = {
      id: randomUUID(),
      shard,
      transport,
      consumers: new Map(),
      lastSyncAt: Date.now(),
    };
    this.pipes.set(pipe.id, pipe);
    transport.observer.once('close', () => this.pipes.delete(pipe.id));
    this.log.info(
      { room: request.room, origin: shard.id, edge: `${request.edgeNode}/${request.edgeShard}` },
      'pipe opened',
    );
    return {
      pipeId: pipe.id,
      ip: this.config.pipeAddress,
      port: transport.tuple.localPort,
      srtpParameters: transport.srtpParameters!,
    };
  }

  async #connect(pipe: OriginPipe, request: Static<typeof ConnectPipe>): Promise<object> {
    await pipe.transport.connect({
      ip: request.ip,
      port: request.port,
      srtpParameters: request.srtpParameters as types.SrtpParameters,
    });
    return {};
  }

  async #sync(pipe: OriginPipe): Promise<SyncReply> {
    pipe.lastSyncAt = Date.now();
    if (pipe.shard.closed) throw new HttpError(410, 'origin closed');
    for (const [producerId, consumer] of pipe.consumers)
      if (consumer.closed || !pipe.shard.producers.has(producerId)) {
        consumer.close();
        pipe.consumers.delete(producerId);
      }
    for (const { producer } of pipe.shard.producers.values()) {
      if (pipe.consumers.has(producer.id) || producer.closed) continue;
      const consumer = await pipe.transport.consume({ producerId: producer.id });
      pipe.consumers.set(producer.id, consumer);
    }
    const producers: SyncReply['producers'] = [];
    for (const [producerId, consumer] of pipe.consumers) {
      const entry = pipe.shard.producers.get(producerId);
      if (!entry || consumer.closed) continue;
      producers.push({
        producerId,
        kind: 'audio',
        rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>,
        paused: consumer.producerPaused,
        user: entry.speaker.user,
        ...(entry.speaker.name !== undefined ? { name: entry.speaker.name } : {}),
      });
    }
    return { producers };
  }

  #closePipe(pipe: OriginPipe, reason: string): void {
    this.pipes.delete(pipe.id);
    pipe.transport.close();
    this.log.info({ pipe: pipe.id, reason }, 'pipe closed');
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1 << 20) throw new HttpError(413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

/** The edge's half: a feed that (re)opens the pipe until the edge closes. */
export function remoteFeedFactory(
  config: MediaPodConfig,
  registry: NodeRegistry,
  log: Logger,
): (edge: Shard) => EdgeFeed {
  return (edge) => {
    const origin = edge.record.origin!;
    let closed = false;
    let ready = false;
    let transport: types.PipeTransport | undefined;
    let remote: { base: string; pipeId: string } | undefined;
    const producers = new Map<string, types.Producer>();
    let timer: NodeJS.Timeout | undefined;

    const teardown = (): void => {
      ready = false;
      for (const producer of producers.values()) producer.close();
      producers.clear();
      transport?.close();
      transport = undefined;
      if (remote) {
        const { base, pipeId } = remote;
        post(`${base}/pipes/${pipeId}/close`, {}).catch(() => {});
      }
      remote = undefined;
    };

    const open = async (): Promise<void> => {
      const live = await registry.live();
      const node = live.nodes.find((n) => n.node === origin.node);
      if (!node) throw new Error(`origin node ${origin.node} has no live heartbeat`);
      const base = node.pipeUrl.replace(/\/$/, '');
      const end = decodeValue(
        PipeEndSchema,
        await post<unknown>(`${base}/pipes`, {
          room: edge.room,
          originShard: origin.shard,
          edgeNode: config.nodeId,
          edgeShard: edge.id,
        }),
        'pipe end',
      );
      remote = { base, pipeId: end.pipeId };
      transport = await edge.router.createPipeTransport({
        listenInfo: { protocol: 'udp', ip: config.listenIp, announcedAddress: config.pipeAddress },
        enableSrtp: true,
        enableRtx: false,
      });
      await transport.connect({
        ip: end.ip,
        port: end.port,
        srtpParameters: end.srtpParameters as types.SrtpParameters,
      });
      await post(`${base}/pipes/${end.pipeId}/connect`, {
        ip: config.pipeAddress,
        port: transport.tuple.localPort,
        srtpParameters: transport.srtpParameters,
      });
      log.info(
        { room: edge.room, edge: edge.id, origin: `${origin.node}/${origin.shard}` },
        'pipe to origin up',
      );
    };

    const sync = async (): Promise<void> => {
      if (!remote || !transport) return;
      const reply = decodeValue(
        SyncReply,
        await post<unknown>(`${remote.base}/pipes/${remote.pipeId}/sync`, {}),
        'pipe sync reply',
      );
      const wanted = new Set(reply.producers.map((p) => p.producerId));
      for (const [id, producer] of producers)
        if (!wanted.has(id)) {
          producer.close();
          producers.delete(id);
        }
      for (const p of reply.producers) {
        const existing = producers.get(p.producerId);
        if (existing) {
          if (existing.paused !== p.paused) await (p.paused ? existing.pause() : existing.resume());
          continue;
        }
        const producer = await transport.produce({
          id: p.producerId,
          kind: 'audio',
          rtpParameters: p.rtpParameters as unknown as types.RtpParameters,
          paused: p.paused,
        });
        producers.set(p.producerId, producer);
        const speaker: SpeakerInfo = {
          user: p.user,
          ...(p.name !== undefined ? { name: p.name } : {}),
        };
        edge.addProducer(producer, speaker);
      }
    };

    const tick = async (): Promise<void> => {
      if (closed) return;
      try {
        if (!remote) await open();
        await sync();
        if (!ready) {
          ready = true;
          edge.state = 'Ready';
          edge.message = undefined;
        }
      } catch (error) {
        if (closed) return;
        const message = `pipe from ${origin.node}/${origin.shard}: ${(error as Error).message}`;
        if (edge.message !== message) log.warn({ room: edge.room, edge: edge.id }, message);
        edge.state = 'Pending';
        edge.message = message;
        teardown();
      } finally {
        if (!closed) timer = setTimeout(() => void tick(), SYNC_INTERVAL_MS);
      }
    };
    void tick();
    return {
      get ready() {
        return ready;
      },
      close() {
        closed = true;
        clearTimeout(timer);
        teardown();
      },
    };
  };
}
