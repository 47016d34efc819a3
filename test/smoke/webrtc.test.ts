// A real WebRTC stack (libwebrtc through @roamhq/wrtc) completes ICE + DTLS with the project's
// mediasoup worker on a WebRtcServer port, sends a 440 Hz tone and another client decodes it.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import wrtc from '@roamhq/wrtc';
import { Device } from 'mediasoup-client';
import type { types as clientTypes } from 'mediasoup-client';
import type { types } from 'mediasoup';
import { createWebRtcTestBed, type SmokeSignalling } from '../env/mediasoup.js';
import { waitFor } from '../env/wait.js';

// mediasoup-client's Chrome111 handler uses the browser's WebRTC globals.
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
const FRAME_SAMPLES = SAMPLE_RATE / 100; // wrtc's RTCAudioSource takes 10 ms frames
const TONE_HZ = 440;
const TONE_AMPLITUDE = 0.3 * 32767; // RMS of the tone: amplitude / sqrt(2), about 6950
const RMS_THRESHOLD = 1000;
const LOUD_FRAMES_WANTED = 150; // 1.5 s of decoded audio with energy

interface AudioSinkFrame {
  samples: Int16Array;
  sampleRate: number;
  channelCount?: number;
}

/** One libwebrtc peer speaking mediasoup-client to the server half in SmokeSignalling. */
class WrtcClient {
  readonly device = new Device({ handlerName: 'Chrome111' });

  constructor(private readonly signalling: SmokeSignalling) {}

  async load(): Promise<void> {
    // Server and client type the same JSON a little differently: it crosses as JSON.
    const routerRtpCapabilities =
      this.signalling.routerRtpCapabilities() as clientTypes.RtpCapabilities;
    await this.device.load({ routerRtpCapabilities });
  }

  async sendTransport(): Promise<clientTypes.Transport> {
    const params = await this.signalling.createTransport();
    const transport = this.device.createSendTransport(params);
    this.#wireConnect(transport);
    transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
      this.signalling.produce(transport.id, kind, rtpParameters).then(callback, errback);
    });
    return transport;
  }

  async recvTransport(): Promise<clientTypes.Transport> {
    const params = await this.signalling.createTransport();
    const transport = this.device.createRecvTransport(params);
    this.#wireConnect(transport);
    return transport;
  }

  #wireConnect(transport: clientTypes.Transport): void {
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.signalling.connect(transport.id, dtlsParameters).then(callback, errback);
    });
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

describe('WebRTC (libwebrtc in Node) through the project mediasoup worker', () => {
  let bed: Awaited<ReturnType<typeof createWebRtcTestBed>>;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    bed = await createWebRtcTestBed();
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        cleanup();
      } catch {
        // best effort: everything below is closed anyway
      }
    }
    bed?.signalling.close();
    bed?.worker.close();
  });

  test('a 440 Hz tone from one client is decoded by another', async () => {
    const { signalling } = bed;

    // Speaker: a PCM tone fed into a libwebrtc audio track.
    const speaker = new WrtcClient(signalling);
    await speaker.load();
    expect(speaker.device.handlerName).toBe('Chrome111');
    expect(speaker.device.canProduce('audio')).toBe(true);
    const sendTransport = await speaker.sendTransport();
    cleanups.push(() => sendTransport.close());

    const source = new wrtc.nonstandard.RTCAudioSource();
    const track = source.createTrack();
    cleanups.push(() => track.stop());
    let samplesSent = 0;
    const started = Date.now();
    const feeder = setInterval(() => {
      // Catch up with the wall clock: timers are late under load.
      const due = Math.floor(((Date.now() - started) / 1000) * SAMPLE_RATE);
      while (samplesSent <= due) {
        const samples = new Int16Array(FRAME_SAMPLES);
        for (let i = 0; i < FRAME_SAMPLES; i += 1) {
          const t = (samplesSent + i) / SAMPLE_RATE;
          samples[i] = Math.round(TONE_AMPLITUDE * Math.sin(2 * Math.PI * TONE_HZ * t));
        }
        source.onData({ samples, sampleRate: SAMPLE_RATE, bitsPerSample: 16, channelCount: 1 });
        samplesSent += FRAME_SAMPLES;
      }
    }, 10);
    cleanups.push(() => clearInterval(feeder));

    const producer = await sendTransport.produce({ track });
    cleanups.push(() => producer.close());
    const serverProducer = signalling.producers.get(producer.id)!;
    expect(serverProducer.kind).toBe('audio');

    // Listener: consumes the speaker's producer and decodes it.
    const listener = new WrtcClient(signalling);
    await listener.load();
    const recvTransport = await listener.recvTransport();
    cleanups.push(() => recvTransport.close());
    const consumerInfo = await signalling.consume(
      recvTransport.id,
      producer.id,
      listener.device.rtpCapabilities as types.RtpCapabilities,
    );
    const consumer = await recvTransport.consume({
      ...consumerInfo,
      rtpParameters: consumerInfo.rtpParameters as clientTypes.RtpParameters,
    });
    cleanups.push(() => consumer.close());

    const frames: { rms: number; samples: Int16Array; channelCount: number }[] = [];
    const sink = new wrtc.nonstandard.RTCAudioSink(consumer.track);
    cleanups.push(() => sink.stop());
    sink.ondata = (frame: AudioSinkFrame) => {
      const channelCount = frame.channelCount ?? 1;
      frames.push({
        rms: rms(frame.samples, channelCount),
        samples: frame.samples.slice(),
        channelCount,
      });
    };
    await signalling.resume(consumerInfo.id);

    const loud = await waitFor(
      () => {
        const loudFrames = frames.filter((frame) => frame.rms > RMS_THRESHOLD);
        return loudFrames.length >= LOUD_FRAMES_WANTED && loudFrames;
      },
      {
        what: `${LOUD_FRAMES_WANTED} decoded 10 ms frames with RMS > ${RMS_THRESHOLD}`,
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );

    // The decoded audio is the tone: about as loud as sent, and 440 Hz by its zero crossings.
    const steady = loud.slice(-100);
    const meanRms = steady.reduce((sum, frame) => sum + frame.rms, 0) / steady.length;
    expect(meanRms).toBeGreaterThan(TONE_AMPLITUDE / Math.SQRT2 / 3);
    let crossings = 0;
    let sampleCount = 0;
    for (const frame of steady) {
      for (let i = frame.channelCount; i < frame.samples.length; i += frame.channelCount) {
        if (frame.samples[i - frame.channelCount]! < 0 !== frame.samples[i]! < 0) crossings += 1;
        sampleCount += 1;
      }
    }
    const frequency = (crossings / 2) * (SAMPLE_RATE / sampleCount);
    expect(frequency).toBeGreaterThan(TONE_HZ * 0.9);
    expect(frequency).toBeLessThan(TONE_HZ * 1.1);

    // Server side: both transports finished ICE and DTLS through the WebRtcServer's port.
    for (const transport of signalling.transports.values()) {
      expect(transport.dtlsState).toBe('connected');
      expect(['connected', 'completed']).toContain(transport.iceState);
      expect(transport.iceSelectedTuple?.localPort).toBe(bed.port);
    }
    const [producerStats] = await serverProducer.getStats();
    expect(producerStats?.mimeType).toBe('audio/opus');
    expect(producerStats?.packetCount).toBeGreaterThan(LOUD_FRAMES_WANTED / 2);
    const serverConsumer = signalling.consumers.get(consumerInfo.id)!;
    const consumerStats = await serverConsumer.getStats();
    const outbound = consumerStats.find((stats) => stats.type === 'outbound-rtp');
    expect(outbound?.packetCount).toBeGreaterThan(LOUD_FRAMES_WANTED / 2);
  });
});
