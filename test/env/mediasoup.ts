// The project's own mediasoup-worker build (media-pod/worker-build/build.sh) for tests.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as Mediasoup from 'mediasoup';
import type { RouterRtpCodecCapability, WorkerSettings } from 'mediasoup/types';
import { NotProvisionedError, TestBedError } from './errors.js';
import { repoRoot } from './paths.js';
import { freePort } from './ports.js';

export const workerBuildScript = join(repoRoot, 'media-pod/worker-build/build.sh');

let resolvedPath: string | undefined;

/** Where build.sh puts the worker for the installed mediasoup (`build.sh --print-path`). */
export function mediasoupWorkerPath(): string {
  if (resolvedPath === undefined) {
    let output: string;
    try {
      output = execFileSync('bash', [workerBuildScript, '--print-path'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new TestBedError(
        `${workerBuildScript} --print-path failed: ${stderr || String(error)}`,
      );
    }
    resolvedPath = output.trim().split('\n').at(-1) ?? '';
  }
  return resolvedPath;
}

/** The built worker binary; throws NotProvisionedError when it has not been built yet. */
export function mediasoupWorkerBin(): string {
  const path = mediasoupWorkerPath();
  if (!existsSync(path)) throw new NotProvisionedError('mediasoup-worker', path);
  return path;
}

/**
 * Points mediasoup at the project's worker. mediasoup reads MEDIASOUP_WORKER_BIN when its module
 * loads, so call this before the first import of 'mediasoup' (or use importMediasoup()). A value
 * already set (scripts/test.sh exports it) is kept, provided the file exists.
 */
export function useProjectMediasoupWorker(): string {
  const configured = process.env.MEDIASOUP_WORKER_BIN;
  if (configured) {
    if (!existsSync(configured)) {
      throw new NotProvisionedError('mediasoup-worker (MEDIASOUP_WORKER_BIN)', configured);
    }
    return configured;
  }
  const bin = mediasoupWorkerBin();
  process.env.MEDIASOUP_WORKER_BIN = bin;
  return bin;
}

/** `import('mediasoup')` after useProjectMediasoupWorker(). */
export async function importMediasoup(): Promise<typeof Mediasoup> {
  useProjectMediasoupWorker();
  return import('mediasoup');
}

/** A worker running the project's binary, whatever mediasoup's module-load default was. */
export async function createTestWorker(
  settings: WorkerSettings = {},
): Promise<Mediasoup.types.Worker> {
  const workerBin = useProjectMediasoupWorker();
  const mediasoup = await importMediasoup();
  return mediasoup.createWorker({ logLevel: 'warn', ...settings, workerBin });
}

/** The audio codec of an amphi room: Opus, 48 kHz, stereo-capable (as browsers offer it). */
export const opusCodec: RouterRtpCodecCapability = {
  kind: 'audio',
  mimeType: 'audio/opus',
  clockRate: 48000,
  channels: 2,
  preferredPayloadType: 111,
};

async function udpPortFree(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolveFree) => {
    socket.once('error', () => {
      socket.close();
      resolveFree(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolveFree(true)));
  });
}

/** A port number free for both TCP and UDP on 127.0.0.1 (a WebRtcServer listens on both). */
export async function freeUdpTcpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await freePort();
    if (await udpPortFree(port)) return port;
  }
  throw new TestBedError('found no port free for both TCP and UDP on 127.0.0.1');
}

/** What a mediasoup-client Device needs to create a transport that mirrors a server one. */
export interface ClientTransportParams {
  id: string;
  iceParameters: Mediasoup.types.IceParameters;
  iceCandidates: Mediasoup.types.IceCandidate[];
  dtlsParameters: Mediasoup.types.DtlsParameters;
}

/**
 * The server half of mediasoup-client's signalling for smoke tests: WebRtcTransports on one
 * WebRtcServer, producers and consumers, all addressed by id. Every argument and result is JSON,
 * so a browser page can call it through Playwright's exposeFunction as well as Node code directly.
 */
export class SmokeSignalling {
  readonly transports = new Map<string, Mediasoup.types.WebRtcTransport>();
  readonly producers = new Map<string, Mediasoup.types.Producer>();
  readonly consumers = new Map<string, Mediasoup.types.Consumer>();

  constructor(
    readonly router: Mediasoup.types.Router,
    readonly webRtcServer: Mediasoup.types.WebRtcServer,
  ) {}

  routerRtpCapabilities(): Mediasoup.types.RouterRtpCapabilities {
    return this.router.rtpCapabilities;
  }

  async createTransport(): Promise<ClientTransportParams> {
    const transport = await this.router.createWebRtcTransport({
      webRtcServer: this.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
    });
    this.transports.set(transport.id, transport);
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connect(
    transportId: string,
    dtlsParameters: Mediasoup.types.DtlsParameters,
  ): Promise<void> {
    await this.#transport(transportId).connect({ dtlsParameters });
  }

  async produce(
    transportId: string,
    kind: Mediasoup.types.MediaKind,
    rtpParameters: Mediasoup.types.RtpParameters,
  ): Promise<{ id: string }> {
    const producer = await this.#transport(transportId).produce({ kind, rtpParameters });
    this.producers.set(producer.id, producer);
    return { id: producer.id };
  }

  /** A paused consumer (resume() it once the client side is ready, as mediasoup advises). */
  async consume(
    transportId: string,
    producerId: string,
    rtpCapabilities: Mediasoup.types.RtpCapabilities,
  ): Promise<{
    id: string;
    producerId: string;
    kind: Mediasoup.types.MediaKind;
    rtpParameters: Mediasoup.types.RtpParameters;
  }> {
    if (!this.router.canConsume({ producerId, rtpCapabilities })) {
      throw new TestBedError(`the client cannot consume producer ${producerId}`);
    }
    const consumer = await this.#transport(transportId).consume({
      producerId,
      rtpCapabilities,
      paused: true,
    });
    this.consumers.set(consumer.id, consumer);
    return {
      id: consumer.id,
      producerId,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
    };
  }

  async resume(consumerId: string): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) throw new TestBedError(`no consumer ${consumerId}`);
    await consumer.resume();
  }

  close(): void {
    for (const transport of this.transports.values()) transport.close();
  }

  #transport(id: string): Mediasoup.types.WebRtcTransport {
    const transport = this.transports.get(id);
    if (!transport) throw new TestBedError(`no transport ${id}`);
    return transport;
  }
}

/** A worker with a router for Opus and a WebRtcServer on one UDP+TCP port of 127.0.0.1. */
export async function createWebRtcTestBed(): Promise<{
  worker: Mediasoup.types.Worker;
  router: Mediasoup.types.Router;
  webRtcServer: Mediasoup.types.WebRtcServer;
  port: number;
  signalling: SmokeSignalling;
}> {
  const worker = await createTestWorker();
  try {
    const router = await worker.createRouter({ mediaCodecs: [opusCodec] });
    const port = await freeUdpTcpPort();
    const webRtcServer = await worker.createWebRtcServer({
      listenInfos: [
        { protocol: 'udp', ip: '127.0.0.1', port },
        { protocol: 'tcp', ip: '127.0.0.1', port },
      ],
    });
    return {
      worker,
      router,
      webRtcServer,
      port,
      signalling: new SmokeSignalling(router, webRtcServer),
    };
  } catch (error) {
    worker.close();
    throw error;
  }
}
