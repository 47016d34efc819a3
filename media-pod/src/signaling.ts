// WebSocket signalling: one Session per socket. The join token comes first; then the mediasoup dance
// (router capabilities → WebRTC transport on the worker's WebRtcServer → connect → consume every
// speaker, new ones as they come → produce, for producing roles only). Every request is validated
// against the shared schemas and answered exactly once; a bad message gets an error reply and
// nothing else happens — no other client, transport or worker is touched.
import type { types } from 'mediasoup';
import type { WebSocket } from 'ws';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import {
  JoinTokenError,
  canProduce,
  verifyJoinToken,
  type ParticipantRole,
  type VerifiedJoin,
} from '../../common/src/contract/index.js';
import {
  SIGNALING_METHODS,
  SignalingRequest,
  type MethodData,
  type SignalingErrorCode,
  type SignalingMethod,
  type SignalingNotification,
} from '../../common/src/contract/signaling.js';
import type { Logger } from '../../common/src/logger.js';
import type { MediaPodConfig } from './config.js';
import type { MediaMetrics } from './metrics.js';
import type { Shard, ShardHost, ShardMember, ShardProducer } from './shards.js';

export class SignalingError extends Error {
  constructor(
    readonly code: SignalingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SignalingError';
  }
}

const envelope = TypeCompiler.Compile(SignalingRequest);
const methodChecks = new Map<string, TypeCheck<TSchema>>(
  Object.entries(SIGNALING_METHODS).map(([method, schema]) => [
    method,
    TypeCompiler.Compile(schema as TSchema),
  ]),
);

const MAX_MESSAGE_BYTES = 64 * 1024;

export interface SessionContext {
  config: MediaPodConfig;
  host: ShardHost;
  metrics: MediaMetrics;
  log: Logger;
  isDraining(): boolean;
  sessions: Set<Session>;
  /** Called once a session has joined (after its reply is queued): room state for newcomers. */
  onJoined?(session: Session): void;
  /** Called once when a joined session ends, whatever the reason (presence). */
  onEnded?(session: Session, reason: string): void;
}

export class Session implements ShardMember {
  role: ShardMember['role'] = 'listener';
  claims: VerifiedJoin | undefined;
  shard: Shard | undefined;
  #joining = false;
  #closed = false;
  #send: types.WebRtcTransport | undefined;
  #recv: types.WebRtcTransport | undefined;
  #rtpCapabilities: types.RtpCapabilities | undefined;
  readonly #consumers = new Map<string, types.Consumer>();
  #producer: types.Producer | undefined;
  /** A moderator's mute; the speaker cannot lift it by unmuting itself. */
  #serverMuted = false;
  #selfMuted = false;
  #detach: (() => void) | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: WebSocket,
    private readonly ctx: SessionContext,
  ) {
    socket.on('message', (raw, isBinary) => {
      // Requests run one at a time, in order: a client cannot race its own transport setup.
      this.#queue = this.#queue.then(() => this.#onMessage(raw as Buffer, isBinary));
    });
    socket.on('close', () => this.close('socket closed'));
    socket.on('error', () => this.close('socket error'));
  }

  get user(): string | undefined {
    return this.claims?.sub;
  }

  get participantRole(): ParticipantRole | undefined {
    return this.claims?.role;
  }

  notify(notification: SignalingNotification): void {
    if (this.#closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(notification));
  }

  shardClosed(reason: string): void {
    this.notify({ method: 'rejoin', data: { reason, backoffMs: jitter(250, 2_000) } });
    this.#closeMedia();
    this.shard = undefined;
  }

  /** Server-side mute (moderator) or its lift. */
  async setServerMuted(muted: boolean, by: string): Promise<void> {
    this.#serverMuted = muted;
    await this.#applyPause(by);
  }

  /** Demotion: the producer is closed and the session may no longer produce. */
  demote(): void {
    if (this.claims) this.claims = { ...this.claims, role: 'listener' };
    this.#setRole('listener');
    if (this.#producer) {
      const id = this.#producer.id;
      this.#producer.close();
      this.#producer = undefined;
      this.notify({ method: 'producerClosed', data: { producerId: id, reason: 'demoted' } });
    }
    this.#send?.close();
    this.#send = undefined;
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeMedia();
    this.ctx.sessions.delete(this);
    this.ctx.metrics.sessions.set(this.ctx.sessions.size);
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(1000, reason.slice(0, 120));
    if (this.claims) this.ctx.onEnded?.(this, reason);
  }

  #closeMedia(): void {
    this.#detach?.();
    this.#detach = undefined;
    this.shard?.members.delete(this);
    this.#producer?.close();
    this.#producer = undefined;
    this.#send?.close();
    this.#recv?.close();
    this.#send = this.#recv = undefined;
    this.#consumers.clear();
  }

  async #onMessage(raw: Buffer, isBinary: boolean): Promise<void> {
    let id: string | number | null = null;
    try {
      if (isBinary || raw.length > MAX_MESSAGE_BYTES)
        throw new SignalingError('bad-request', 'messages are JSON text up to 64 KiB');
      let message: unknown;
      try {
        message = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new SignalingError('bad-request', 'not JSON');
      }
      if (typeof message === 'object' && message !== null) {
        const candidate = (message as { id?: unknown }).id;
        if (typeof candidate === 'number' || typeof candidate === 'string') id = candidate;
      }
      if (!envelope.Check(message))
        throw new SignalingError(
          'bad-request',
          `expected {id, method, data}: ${firstError(envelope, message)}`,
        );
      const { method, data } = message;
      const check = methodChecks.get(method);
      if (!check)
        throw new SignalingError('bad-request', `unknown method ${JSON.stringify(method)}`);
      const payload = data ?? {};
      if (!check.Check(payload))
        throw new SignalingError('bad-request', `${method}: ${firstError(check, payload)}`);
      const result = await this.#dispatch(method as SignalingMethod, payload);
      this.#reply({ id, ok: true, data: result ?? {} });
      if (method === 'leave') this.close('left');
    } catch (error) {
      const known = error instanceof SignalingError;
      // mediasoup throws TypeError for parameters it rejects: the client's fault, not ours.
      const invalid = !known && error instanceof TypeError;
      const code: SignalingErrorCode = known ? error.code : invalid ? 'bad-request' : 'internal';
      const message = known ? error.message : `request failed: ${(error as Error).message}`;
      if (!known && !invalid)
        this.ctx.log.warn({ err: (error as Error).message, user: this.user }, 'request failed');
      this.ctx.metrics.signalingErrors.inc({ code });
      this.#reply({ id, ok: false, error: { code, message } });
    }
  }

  #reply(response: object): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(response));
  }

  async #dispatch(method: SignalingMethod, data: unknown): Promise<unknown> {
    if (method === 'join') return this.#join(data as MethodData<'join'>);
    if (!this.claims || !this.shard) {
      throw new SignalingError(
        this.claims ? 'no-shard' : 'out-of-order',
        this.claims ? 'the shard is gone: rejoin' : 'join first',
      );
    }
    switch (method) {
      case 'createTransport':
        return this.#createTransport(this.shard, data as MethodData<'createTransport'>);
      case 'connectTransport': {
        const { transportId, dtlsParameters } = data as MethodData<'connectTransport'>;
        await this.#transport(transportId).connect({
          dtlsParameters: dtlsParameters as unknown as types.DtlsParameters,
        });
        return {};
      }
      case 'consume':
        return this.#startConsuming(this.shard, data as MethodData<'consume'>);
      case 'resumeConsumer': {
        const consumer = this.#consumers.get((data as MethodData<'resumeConsumer'>).consumerId);
        if (!consumer) throw new SignalingError('not-found', 'no such consumer');
        await consumer.resume();
        return {};
      }
      case 'produce':
        return this.#produce(this.shard, data as MethodData<'produce'>);
      case 'setMuted':
        this.#selfMuted = (data as MethodData<'setMuted'>).muted;
        await this.#applyPause('self');
        return {};
      case 'leave':
        return {};
    }
  }

  async #join({ token }: MethodData<'join'>): Promise<unknown> {
    if (this.claims || this.#joining) throw new SignalingError('out-of-order', 'already joined');
    if (this.ctx.isDraining()) throw new SignalingError('draining', 'this media pod is draining');
    this.#joining = true;
    try {
      const { config, host } = this.ctx;
      let claims: VerifiedJoin;
      try {
        claims = await verifyJoinToken(token, config.joinTokenKey, {
          issuer: config.joinTokenIssuer,
        });
      } catch (error) {
        if (error instanceof JoinTokenError)
          throw new SignalingError(
            error.problem === 'expired' ? 'token-expired' : 'unauthorized',
            error.message,
          );
        throw error;
      }
      if (claims.node !== config.nodeId)
        throw new SignalingError(
          'wrong-node',
          `the token is for ${claims.node}, not ${config.nodeId}`,
        );
      const shard = host.get(claims.room, claims.shard);
      if (!shard || shard.closed)
        throw new SignalingError(
          'no-shard',
          `shard ${claims.shard} of ${claims.room} is not hosted here`,
        );
      if (shard.state !== 'Ready')
        throw new SignalingError(
          'no-shard',
          `shard ${claims.shard} is ${shard.state}: ${shard.message ?? ''}`,
        );
      if (this.#closed) return {};
      this.claims = claims;
      this.shard = shard;
      this.#setRole(canProduce(claims.role) ? 'speaker' : 'listener');
      this.ctx.sessions.add(this);
      this.ctx.metrics.sessions.set(this.ctx.sessions.size);
      const onJoined = this.ctx.onJoined;
      if (onJoined) setImmediate(() => !this.#closed && onJoined(this));
      return {
        room: claims.room,
        shard: claims.shard,
        role: claims.role,
        user: claims.sub,
        routerRtpCapabilities: shard.router.rtpCapabilities,
      };
    } finally {
      this.#joining = false;
    }
  }

  #setRole(role: ShardMember['role']): void {
    this.role = role;
    this.shard?.members.delete(this);
    this.shard?.members.add(this);
  }

  async #createTransport(
    shard: Shard,
    { direction }: MethodData<'createTransport'>,
  ): Promise<unknown> {
    if (direction === 'send' && !canProduce(this.claims!.role))
      throw new SignalingError('forbidden', `a ${this.claims!.role} cannot send audio`);
    if ((direction === 'send' ? this.#send : this.#recv) !== undefined)
      throw new SignalingError('out-of-order', `a ${direction} transport exists already`);
    const transport = await shard.router.createWebRtcTransport({
      webRtcServer: shard.worker.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      appData: { user: this.user, direction },
    });
    if (this.#closed || this.shard !== shard) {
      transport.close();
      throw new SignalingError('no-shard', 'session closed');
    }
    if (direction === 'send') this.#send = transport;
    else this.#recv = transport;
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  #transport(id: string): types.WebRtcTransport {
    if (this.#send?.id === id) return this.#send;
    if (this.#recv?.id === id) return this.#recv;
    throw new SignalingError('not-found', `no transport ${id} in this session`);
  }

  async #startConsuming(
    shard: Shard,
    { rtpCapabilities }: MethodData<'consume'>,
  ): Promise<unknown> {
    if (!this.#recv) throw new SignalingError('out-of-order', 'create the recv transport first');
    if (this.#rtpCapabilities) throw new SignalingError('out-of-order', 'already consuming');
    this.#rtpCapabilities = rtpCapabilities as unknown as types.RtpCapabilities;
    const onProducer = (entry: ShardProducer): void => void this.#consume(entry);
    shard.on('producer', onProducer);
    this.#detach = () => shard.off('producer', onProducer);
    let count = 0;
    for (const entry of shard.producers.values()) if (await this.#consume(entry)) count += 1;
    return { consumers: count };
  }

  async #consume(entry: ShardProducer): Promise<boolean> {
    const transport = this.#recv;
    const shard = this.shard;
    if (!transport || !shard || !this.#rtpCapabilities || entry.producer.id === this.#producer?.id)
      return false;
    try {
      if (
        !shard.router.canConsume({
          producerId: entry.producer.id,
          rtpCapabilities: this.#rtpCapabilities,
        })
      )
        return false;
      const consumer = await transport.consume({
        producerId: entry.producer.id,
        rtpCapabilities: this.#rtpCapabilities,
        paused: true,
      });
      this.#consumers.set(consumer.id, consumer);
      consumer.observer.once('close', () => {
        this.#consumers.delete(consumer.id);
        this.notify({
          method: 'consumerClosed',
          data: { consumerId: consumer.id, producerId: entry.producer.id },
        });
      });
      this.notify({
        method: 'newConsumer',
        data: {
          id: consumer.id,
          producerId: entry.producer.id,
          kind: 'audio',
          rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>,
          user: entry.speaker.user,
          ...(entry.speaker.name !== undefined ? { name: entry.speaker.name } : {}),
        },
      });
      return true;
    } catch (error) {
      if (!entry.producer.closed && !transport.closed)
        this.ctx.log.warn({ err: (error as Error).message, user: this.user }, 'consume failed');
      return false;
    }
  }

  async #produce(
    shard: Shard,
    { transportId, rtpParameters }: MethodData<'produce'>,
  ): Promise<unknown> {
    const claims = this.claims!;
    if (!canProduce(claims.role))
      throw new SignalingError('forbidden', `a ${claims.role} cannot send audio`);
    if (shard.role !== 'origin')
      throw new SignalingError('forbidden', 'speakers send to the origin shard only');
    if (this.#send?.id !== transportId)
      throw new SignalingError(
        this.#send ? 'not-found' : 'out-of-order',
        'produce on your send transport',
      );
    if (this.#producer) throw new SignalingError('out-of-order', 'one audio producer per session');
    const producer = await this.#send.produce({
      kind: 'audio',
      rtpParameters: rtpParameters as unknown as types.RtpParameters,
      paused: this.#serverMuted,
      appData: { user: claims.sub },
    });
    if (this.#closed || this.shard !== shard) {
      producer.close();
      throw new SignalingError('no-shard', 'session closed');
    }
    this.#producer = producer;
    shard.addProducer(producer, {
      user: claims.sub,
      ...(claims.name ? { name: claims.name } : {}),
    });
    return { id: producer.id };
  }

  async #applyPause(by: string): Promise<void> {
    const producer = this.#producer;
    if (!producer || producer.closed) return;
    const paused = this.#serverMuted || this.#selfMuted;
    if (producer.paused === paused) return;
    await (paused ? producer.pause() : producer.resume());
    this.notify({ method: 'producerPaused', data: { producerId: producer.id, paused, by } });
  }
}

function firstError(check: TypeCheck<TSchema>, value: unknown): string {
  const error = check.Errors(value).First();
  return error ? `${error.path || '/'} ${error.message}` : 'invalid';
}

export function jitter(min: number, max: number): number {
  return Math.round(min + Math.random() * (max - min));
}
