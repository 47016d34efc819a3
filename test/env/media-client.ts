// A signalling + WebRTC client for media pod tests: the `ws` WebSocket speaking the protocol of
// common/src/contract/signaling.ts, mediasoup-client on libwebrtc (@roamhq/wrtc). A speaker sends a
// sine tone through wrtc's RTCAudioSource; a listener decodes what it receives with RTCAudioSink and
// keeps the RMS of every 10 ms frame, so tests judge decoded audio, not packet counts.
import wrtc from '@roamhq/wrtc';
import { Device } from 'mediasoup-client';
import type { types as clientTypes } from 'mediasoup-client';
import WebSocket from 'ws';

Object.assign(globalThis, {
  RTCPeerConnection: wrtc.RTCPeerConnection,
  RTCSessionDescription: wrtc.RTCSessionDescription,
  RTCIceCandidate: wrtc.RTCIceCandidate,
  RTCRtpSender: wrtc.RTCRtpSender,
  RTCRtpReceiver: wrtc.RTCRtpReceiver,
  RTCRtpTransceiver: wrtc.RTCRtpTransceiver,
  MediaStream: wrtc.MediaStream,
  MediaStreamTrack: wrtc.MediaStreamTrack,
});

const SAMPLE_RATE = 48_000;
const FRAME_SAMPLES = SAMPLE_RATE / 100;

export interface SignalingErrorReply {
  code: string;
  message: string;
}

export class SignalingRequestError extends Error {
  constructor(readonly reply: SignalingErrorReply) {
    super(`${reply.code}: ${reply.message}`);
  }
}

export interface DecodedFrame {
  at: number;
  rms: number;
}

interface Notification {
  method: string;
  data: Record<string, unknown>;
}

export class MediaClient {
  readonly device = new Device({ handlerName: 'Chrome111' });
  readonly notifications: Notification[] = [];
  /** Replies as received, for tests of raw messages. */
  readonly replies: Array<Record<string, unknown>> = [];
  readonly frames: DecodedFrame[] = [];
  #nextId = 1;
  #pending = new Map<
    string | number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #cleanups: Array<() => void> = [];
  #recv: clientTypes.Transport | undefined;
  closed = false;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as Record<string, unknown>;
      if ('ok' in message) {
        this.replies.push(message);
        const waiter = this.#pending.get(message.id as string | number);
        if (!waiter) return;
        this.#pending.delete(message.id as string | number);
        if (message.ok) waiter.resolve(message.data);
        else waiter.reject(new SignalingRequestError(message.error as SignalingErrorReply));
      } else {
        const notification = message as unknown as Notification;
        this.notifications.push(notification);
        if (notification.method === 'newConsumer') void this.#onNewConsumer(notification.data);
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.#pending.values()) waiter.reject(new Error('socket closed'));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<MediaClient> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new MediaClient(socket);
  }

  /** Sends a raw text frame (for malformed-message tests). */
  sendRaw(text: string): void {
    this.socket.send(text);
  }

  request<T = Record<string, unknown>>(method: string, data: unknown = {}): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.send(JSON.stringify({ id, method, data }));
    });
  }

  async join(token: string): Promise<Record<string, unknown>> {
    const reply = await this.request<Record<string, unknown>>('join', { token });
    await this.device.load({
      routerRtpCapabilities: reply.routerRtpCapabilities as clientTypes.RtpCapabilities,
    });
    return reply;
  }

  async #transport(direction: 'send' | 'recv'): Promise<clientTypes.Transport> {
    const params = await this.request<clientTypes.TransportOptions>('createTransport', {
      direction,
    });
    const transport =
      direction === 'send'
        ? this.device.createSendTransport(params)
        : this.device.createRecvTransport(params);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.request('connectTransport', { transportId: transport.id, dtlsParameters }).then(
        () => callback(),
        errback,
      );
    });
    if (direction === 'send')
      transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
        this.request<{ id: string }>('produce', {
          transportId: transport.id,
          kind,
          rtpParameters,
        }).then(callback, errback);
      });
    this.#cleanups.push(() => transport.close());
    return transport;
  }

  /** Receives every speaker, now and later; decoded frames land in `frames`. */
  async listen(): Promise<void> {
    this.#recv = await this.#transport('recv');
    await this.request('consume', { rtpCapabilities: this.device.rtpCapabilities });
  }

  async #onNewConsumer(data: Record<string, unknown>): Promise<void> {
    if (!this.#recv) return;
    const consumer = await this.#recv.consume({
      id: data.id as string,
      producerId: data.producerId as string,
      kind: 'audio',
      rtpParameters: data.rtpParameters as clientTypes.RtpParameters,
    });
    const sink = new wrtc.nonstandard.RTCAudioSink(consumer.track);
    sink.ondata = (frame: { samples: Int16Array; channelCount?: number }) => {
      this.frames.push({ at: Date.now(), rms: rms(frame.samples, frame.channelCount ?? 1) });
    };
    this.#cleanups.push(() => sink.stop());
    this.#cleanups.push(() => consumer.close());
    await this.request('resumeConsumer', { consumerId: consumer.id });
  }

  /** Frames decoded since `since` with RMS above `threshold`. */
  loudFramesSince(since: number, threshold = 1000): number {
    let n = 0;
    for (const frame of this.frames) if (frame.at >= since && frame.rms > threshold) n += 1;
    return n;
  }

  /** Starts sending a sine tone; resolves with the producer id. */
  async speak(hz = 440, amplitude = 0.3 * 32767): Promise<string> {
    const transport = await this.#transport('send');
    const source = new wrtc.nonstandard.RTCAudioSource();
    const track = source.createTrack();
    let sent = 0;
    const started = Date.now();
    const feeder = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * SAMPLE_RATE);
      while (sent <= due) {
        const samples = new Int16Array(FRAME_SAMPLES);
        for (let i = 0; i < FRAME_SAMPLES; i += 1)
          samples[i] = Math.round(
            amplitude * Math.sin((2 * Math.PI * hz * (sent + i)) / SAMPLE_RATE),
          );
        source.onData({ samples, sampleRate: SAMPLE_RATE, bitsPerSample: 16, channelCount: 1 });
        sent += FRAME_SAMPLES;
      }
    }, 10);
    this.#cleanups.push(() => clearInterval(feeder));
    this.#cleanups.push(() => track.stop());
    const producer = await transport.produce({ track });
    this.#cleanups.push(() => producer.close());
    return producer.id;
  }

  close(): void {
    for (const cleanup of this.#cleanups.reverse()) {
      try {
        cleanup();
      } catch {
        // best effort
      }
    }
    this.#cleanups = [];
    this.socket.close();
  }
}

function rms(samples: Int16Array, channelCount: number): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < samples.length; i += channelCount) {
    sum += samples[i]! * samples[i]!;
    count += 1;
  }
  return count === 0 ? 0 : Math.sqrt(sum / count);
}
