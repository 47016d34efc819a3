// One participant in one room: the control API join (room-not-placed is retried), the media pod
// signalling and mediasoup-client transports, speaking, stage actions, and events. When the socket
// drops or the pod says `rejoin`, the client goes back through the control API with jittered
// exponential backoff and restores what it had (receiving, and its microphone if it speaks).
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import { ApiError, type ControlApi, type JoinResponse } from './api.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { SignalingSocket, type JoinReply, type SignalingNotification } from './signaling.js';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface RemoteAudio {
  consumerId: string;
  producerId: string;
  user: string;
  name: string | undefined;
  track: MediaStreamTrack;
}

export interface RoomEventData {
  type: string;
  room?: string;
  actor?: string;
  target?: string;
  role?: string;
  user?: string;
  at?: number;
}

export interface RoomClientEvents {
  state: ConnectionState;
  joined: JoinResponse;
  track: RemoteAudio;
  trackEnded: { consumerId: string; producerId: string };
  counts: { listeners: number; speakers: number };
  roomEvent: RoomEventData;
  activeSpeaker: { user: string };
  /** The user was invited on stage (accept with acceptInvitation()). */
  invited: { by: string };
  producerPaused: { paused: boolean; by: string };
  /**
   * A reconnect attempt starts now, after a jittered backoff of `delayMs` (attempt 0 is the first
   * after the cut; `hintMs` is the pod's rejoin hint, 0 when the socket just dropped).
   */
  reconnectAttempt: { attempt: number; delayMs: number; hintMs: number; reason: string };
  error: Error;
}

export interface RoomClientOptions {
  api: ControlApi;
  room: string;
  /** Display name sent with the join. */
  name?: string;
  /** mediasoup-client handler; detected when omitted. */
  handlerName?: types.BuiltinHandlerName;
  backoff?: BackoffOptions;
  /** Give up reconnecting after this many attempts. Default: never. */
  maxAttempts?: number;
}

export class RoomClient extends Emitter<RoomClientEvents> {
  readonly #o: RoomClientOptions;
  state: ConnectionState = 'idle';
  join: JoinResponse | undefined;
  #socket: SignalingSocket | undefined;
  #device: Device | undefined;
  #recv: types.Transport | undefined;
  #send: types.Transport | undefined;
  #producer: types.Producer | undefined;
  #micTrack: MediaStreamTrack | undefined;
  #muted = false;
  readonly #consumers = new Map<string, types.Consumer>();
  #reconnecting: Promise<void> | undefined;
  #leaving = false;

  constructor(options: RoomClientOptions) {
    super();
    this.#o = options;
  }

  get user(): string | undefined {
    return this.join?.user;
  }
  get role(): string | undefined {
    return this.join?.role;
  }
  get muted(): boolean {
    return this.#muted;
  }
  get speaking(): boolean {
    return this.#producer !== undefined && !this.#producer.closed;
  }

  #setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  /** Joins and starts receiving every speaker; resolves once media signalling is up. */
  async connect(): Promise<JoinResponse> {
    this.#leaving = false;
    this.#setState('connecting');
    await this.#session(0);
    this.#setState('connected');
    return this.join!;
  }

  /** Control API join, retried with backoff while the room is not placed yet or capacity lacks. */
  async #joinApi(): Promise<JoinResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#o.api.join(this.#o.room, {
          ...(this.#o.name ? { name: this.#o.name } : {}),
        });
      } catch (error) {
        const retryable =
          error instanceof ApiError &&
          (error.kind === 'room-not-placed' || error.kind === 'no-capacity' || error.status >= 500);
        if (!retryable || this.#leaving || attempt > 40) throw error;
        await sleep(Math.min(1_000, backoffDelay(attempt, { baseMs: 100, maxMs: 1_000 })));
      }
    }
  }

  async #session(_attempt: number): Promise<void> {
    const join = await this.#joinApi();
    const socket = await SignalingSocket.connect(join.signalingUrl);
    this.#socket = socket;
    socket.onNotification = (n) => this.#onNotification(n);
    socket.onClose = (reason) => {
      if (this.#socket === socket && !this.#leaving) this.#reconnect(`socket closed: ${reason}`, 0);
    };
    const reply = await socket.request<JoinReply>('join', { token: join.token });
    this.join = join;
    this.emit('joined', join);
    const device = new Device(this.#o.handlerName ? { handlerName: this.#o.handlerName } : {});
    await device.load({
      routerRtpCapabilities: reply.routerRtpCapabilities as unknown as types.RtpCapabilities,
    });
    this.#device = device;
    this.#recv = await this.#transport('recv', join);
    await socket.request('consume', { rtpCapabilities: device.rtpCapabilities });
    if (this.#micTrack && canProduce(join.role)) await this.#produce(this.#micTrack);
  }

  async #transport(direction: 'send' | 'recv', join: JoinResponse): Promise<types.Transport> {
    const socket = this.#socket!;
    const params = await socket.request<types.TransportOptions>('createTransport', { direction });
    const options = { ...params, iceServers: join.iceServers as RTCIceServer[] };
    const transport =
      direction === 'send'
        ? this.#device!.createSendTransport(options)
        : this.#device!.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, ok, fail) => {
      socket.request('connectTransport', { transportId: transport.id, dtlsParameters }).then(
        () => ok(),
        (e: Error) => fail(e),
      );
    });
    if (direction === 'send')
      transport.on('produce', ({ kind, rtpParameters }, ok, fail) => {
        socket
          .request<{ id: string }>('produce', { transportId: transport.id, kind, rtpParameters })
          .then(ok, (e: Error) => fail(e));
      });
    return transport;
  }

  #onNotification(n: SignalingNotification): void {
    switch (n.method) {
      case 'newConsumer':
        void this.#consume(n.data).catch((e: Error) => this.emit('error', e));
        break;
      case 'consumerClosed': {
        this.#consumers.get(n.data.consumerId)?.close();
        this.#consumers.delete(n.data.consumerId);
        this.emit('trackEnded', n.data);
        break;
      }
      case 'producerPaused':
        this.emit('producerPaused', { paused: n.data.paused, by: n.data.by });
        break;
      case 'producerClosed':
        this.#producer = undefined;
        this.#send?.close();
        this.#send = undefined;
        break;
      case 'counts':
        this.emit('counts', n.data);
        break;
      case 'roomEvent': {
        const event = n.data as RoomEventData;
        this.emit('roomEvent', event);
        if (event.type === 'activeSpeaker' && event.user)
          this.emit('activeSpeaker', { user: event.user });
        if (event.type === 'stage-invited' && event.target === this.user)
          this.emit('invited', { by: event.actor ?? '' });
        break;
      }
      case 'rejoin':
        this.#reconnect(`pod asked to rejoin: ${n.data.reason}`, n.data.backoffMs);
        break;
    }
  }

  async #consume(data: Extract<SignalingNotification, { method: 'newConsumer' }>['data']) {
    const consumer = await this.#recv!.consume({
      id: data.id,
      producerId: data.producerId,
      kind: 'audio',
      rtpParameters: data.rtpParameters as unknown as types.RtpParameters,
    });
    this.#consumers.set(consumer.id, consumer);
    await this.#socket!.request('resumeConsumer', { consumerId: consumer.id });
    this.emit('track', {
      consumerId: consumer.id,
      producerId: data.producerId,
      user: data.user,
      name: data.name,
      track: consumer.track,
    });
  }

  async #produce(track: MediaStreamTrack): Promise<void> {
    this.#send ??= await this.#transport('send', this.join!);
    this.#producer = await this.#send.produce({ track, stopTracks: false });
    if (this.#muted) await this.setMuted(true);
  }

  /** Sends the microphone (hosts, moderators, speakers); kept across reconnects. */
  async speak(track: MediaStreamTrack): Promise<void> {
    if (!canProduce(this.role)) throw new Error(`a ${this.role ?? 'guest'} cannot speak`);
    this.#micTrack = track;
    await this.#produce(track);
  }

  /** Self mute: the producer pauses at the pod (no audio reaches anyone) and the room is told. */
  async setMuted(muted: boolean): Promise<void> {
    this.#muted = muted;
    if (this.#producer) {
      if (muted) this.#producer.pause();
      else this.#producer.resume();
      await this.#socket?.request('setMuted', { muted });
    }
    if (this.user)
      await this.#o.api
        .participant(this.#o.room, this.user, muted ? 'mute' : 'unmute')
        .catch(() => undefined);
  }

  raiseHand(): Promise<unknown> {
    return this.#o.api.raiseHand(this.#o.room);
  }
  lowerHand(): Promise<unknown> {
    return this.#o.api.lowerHand(this.#o.room);
  }
  /** Moderators and hosts: bring a listener on stage. */
  invite(user: string): Promise<unknown> {
    return this.#o.api.participant(this.#o.room, user, 'invite');
  }

  /** Accepts a stage invitation: the client rejoins as a speaker (a new token with that role). */
  async acceptInvitation(): Promise<void> {
    await this.#o.api.answerInvitation(this.#o.room, 'accept');
    await this.#restart();
  }

  async #restart(): Promise<void> {
    this.#teardown();
    this.#setState('reconnecting');
    await this.#session(0);
    this.#setState('connected');
  }

  #reconnect(reason: string, hintMs: number): void {
    if (this.#reconnecting || this.#leaving) return;
    this.#teardown();
    this.#setState('reconnecting');
    this.#reconnecting = (async () => {
      for (let attempt = 0; !this.#leaving; attempt++) {
        if (this.#o.maxAttempts !== undefined && attempt >= this.#o.maxAttempts) break;
        const delayMs = backoffDelay(attempt, this.#o.backoff, attempt === 0 ? hintMs : 0);
        await sleep(delayMs);
        if (this.#leaving) return;
        this.emit('reconnectAttempt', { attempt, delayMs, hintMs, reason });
        try {
          await this.#session(attempt);
          this.#setState('connected');
          return;
        } catch (error) {
          this.#teardown();
          this.emit(
            'error',
            new Error(`reconnect (${reason}) failed: ${(error as Error).message}`),
          );
        }
      }
      this.#setState('closed');
    })().finally(() => (this.#reconnecting = undefined));
  }

  #teardown(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    for (const [id, consumer] of this.#consumers) {
      consumer.close();
      this.emit('trackEnded', { consumerId: id, producerId: consumer.producerId });
    }
    this.#consumers.clear();
    this.#producer?.close();
    this.#producer = undefined;
    this.#send?.close();
    this.#send = undefined;
    this.#recv?.close();
    this.#recv = undefined;
    socket?.close();
  }

  async leave(): Promise<void> {
    this.#leaving = true;
    await this.#socket?.request('leave').catch(() => undefined);
    this.#teardown();
    await this.#o.api.leave(this.#o.room).catch(() => undefined);
    this.#setState('closed');
  }
}

export function canProduce(role: string | undefined): boolean {
  return role === 'host' || role === 'moderator' || role === 'speaker';
}
