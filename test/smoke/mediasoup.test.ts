// The project's own mediasoup-worker forwards real RTP: Opus-shaped packets go into a
// PlainTransport producer over UDP and come out of a consumer on another PlainTransport, in clear
// and with SRTP (checked against an SRTP implementation of our own, not libsrtp).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { types } from 'mediasoup';
import { createTestWorker, opusCodec } from '../env/mediasoup.js';
import { SrtpAesCm80 } from '../env/srtp.js';
import { waitFor } from '../env/wait.js';

const PRODUCER_SSRC = 0x1234abcd;
const PRODUCER_PAYLOAD_TYPE = 111;
const PACKETS = 100;

/** An RTP packet (RFC 3550) carrying one 20 ms Opus frame. */
function rtpPacket(seq: number, timestamp: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80; // V=2, no padding, no extension, no CSRC
  header[1] = PRODUCER_PAYLOAD_TYPE; // marker clear
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(PRODUCER_SSRC, 8);
  return Buffer.concat([header, payload]);
}

/** An Opus frame: TOC byte for CELT-only fullband 20 ms mono, one frame (code 0), then data. */
function opusFrame(index: number): Buffer {
  const data = randomBytes(60 + (index % 40));
  return Buffer.concat([Buffer.from([0xf8]), data]);
}

interface ParsedRtp {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

function parseRtp(packet: Buffer): ParsedRtp {
  const version = packet[0]! >> 6;
  if (version !== 2) throw new Error(`not RTP (version ${version})`);
  const padding = (packet[0]! & 0x20) !== 0;
  const extension = (packet[0]! & 0x10) !== 0;
  const csrcCount = packet[0]! & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (extension) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  const end = padding ? packet.length - packet[packet.length - 1]! : packet.length;
  return {
    payloadType: packet[1]! & 0x7f,
    marker: (packet[1]! & 0x80) !== 0,
    seq: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

async function bindUdp(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}

const LOCALHOST = { protocol: 'udp', ip: '127.0.0.1' } as const;
const SRTP_SUITE = 'AES_CM_128_HMAC_SHA1_80' as const;

/** RTCP shares the port (rtcp-mux): RFC 5761 demultiplexing by the second byte. */
const isRtcp = (packet: Buffer): boolean => packet[1]! >= 192 && packet[1]! <= 223;

describe('mediasoup worker (project build) forwards RTP between PlainTransports', () => {
  let worker: types.Worker;
  let router: types.Router;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    worker = await createTestWorker();
    router = await worker.createRouter({ mediaCodecs: [opusCodec] });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    worker?.close();
  });

  /**
   * Sends PACKETS Opus packets into a comedia PlainTransport producer, consumes them on a
   * PlainTransport connected to a local UDP sink, and checks what arrives and the stats. With
   * `srtp`, both transports use SRTP: we encrypt what we send with our key and decrypt what the
   * worker sends with its key.
   */
  async function forward(srtp: boolean): Promise<void> {
    const srtpOptions = srtp ? { enableSrtp: true, srtpCryptoSuite: SRTP_SUITE } : {};
    // Ingest: comedia, so the worker learns our address from the first packet.
    const ingest = await router.createPlainTransport({
      listenInfo: LOCALHOST,
      rtcpMux: true,
      comedia: true,
      ...srtpOptions,
    });
    const ourKey = new SrtpAesCm80();
    if (srtp) {
      await ingest.connect({
        srtpParameters: { cryptoSuite: SRTP_SUITE, keyBase64: ourKey.keyBase64 },
      });
    }
    const producer = await ingest.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [
          {
            mimeType: 'audio/opus',
            clockRate: 48000,
            channels: 2,
            payloadType: PRODUCER_PAYLOAD_TYPE,
            parameters: { useinbandfec: 1, minptime: 10 },
          },
        ],
        encodings: [{ ssrc: PRODUCER_SSRC }],
      },
    });

    // Egress: the worker sends to our sink socket.
    const sink = await bindUdp();
    sockets.push(sink);
    const egress = await router.createPlainTransport({
      listenInfo: LOCALHOST,
      rtcpMux: true,
      comedia: false,
      ...srtpOptions,
    });
    await egress.connect({
      ip: '127.0.0.1',
      port: sink.address().port,
      ...(srtp && {
        srtpParameters: { cryptoSuite: SRTP_SUITE, keyBase64: new SrtpAesCm80().keyBase64 },
      }),
    });
    const workerKey = srtp ? new SrtpAesCm80(egress.srtpParameters!.keyBase64) : undefined;
    const consumer = await egress.consume({
      producerId: producer.id,
      rtpCapabilities: router.rtpCapabilities,
    });
    expect(consumer.kind).toBe('audio');
    expect(consumer.paused).toBe(false);
    const consumerPayloadType = consumer.rtpParameters.codecs[0]!.payloadType;
    const consumerSsrc = consumer.rtpParameters.encodings![0]!.ssrc!;
    expect(consumerSsrc).not.toBe(PRODUCER_SSRC);

    const received: ParsedRtp[] = [];
    const wire: Buffer[] = [];
    const errors: string[] = [];
    sink.on('message', (message) => {
      if (isRtcp(message)) return;
      wire.push(message);
      try {
        received.push(parseRtp(workerKey ? workerKey.unprotect(message) : message));
      } catch (error) {
        errors.push((error as Error).message);
      }
    });

    const sender = await bindUdp();
    sockets.push(sender);
    const sent: Buffer[] = [];
    const startSeq = 4242;
    const startTimestamp = 0x10000000;
    for (let i = 0; i < PACKETS; i += 1) {
      const payload = opusFrame(i);
      sent.push(payload);
      const packet = rtpPacket(startSeq + i, startTimestamp + i * 960, payload);
      sender.send(srtp ? ourKey.protect(packet) : packet, ingest.tuple.localPort, '127.0.0.1');
      // 20 ms of audio per packet; a little faster than real time is fine for the worker.
      await new Promise((resolveSleep) => setTimeout(resolveSleep, 5));
    }

    await waitFor(() => received.length + errors.length >= PACKETS, {
      what: `${PACKETS} forwarded RTP packets (got ${received.length})`,
      timeoutMs: 10_000,
    });
    expect(errors).toEqual([]);

    for (const packet of received) {
      expect(packet.payloadType).toBe(consumerPayloadType);
      expect(packet.ssrc).toBe(consumerSsrc);
    }
    // Every payload arrives byte for byte, in order (loopback does not reorder).
    expect(received.map((packet) => packet.payload.toString('hex'))).toEqual(
      sent.map((payload) => payload.toString('hex')),
    );
    // With SRTP the wire carries ciphertext plus the 10-byte tag, not the payload.
    if (srtp) {
      for (const [i, packet] of wire.entries()) {
        expect(packet.includes(sent[i]!.subarray(1, 17))).toBe(false);
      }
    }
    // Consecutive sequence numbers and timestamps advancing by 960 samples (20 ms at 48 kHz).
    for (let i = 1; i < received.length; i += 1) {
      expect(received[i]!.seq).toBe((received[i - 1]!.seq + 1) & 0xffff);
      expect((received[i]!.timestamp - received[i - 1]!.timestamp) >>> 0).toBe(960);
    }

    // comedia learnt our address from the first packet.
    expect(ingest.tuple.remotePort).toBe(sender.address().port);

    // The worker decrypted (with SRTP) and counted every packet we sent.
    const producerStats = await producer.getStats();
    const inbound = producerStats.find((stats) => stats.type === 'inbound-rtp');
    expect(inbound).toBeDefined();
    expect(inbound!.ssrc).toBe(PRODUCER_SSRC);
    expect(inbound!.packetCount).toBe(PACKETS);
    expect(inbound!.byteCount).toBe(sent.reduce((sum, payload) => sum + 12 + payload.length, 0));
    expect(inbound!.mimeType).toBe('audio/opus');
    expect(inbound!.packetsLost).toBe(0);

    const consumerStats = await consumer.getStats();
    const outbound = consumerStats.find((stats) => stats.type === 'outbound-rtp');
    expect(outbound).toBeDefined();
    expect(outbound!.ssrc).toBe(consumerSsrc);
    expect(outbound!.packetCount).toBe(PACKETS);
    expect(outbound!.byteCount).toBeGreaterThan(0);

    const [egressStats] = await egress.getStats();
    expect(egressStats!.rtpBytesSent).toBeGreaterThan(0);
    expect(egressStats!.tuple.remotePort).toBe(sink.address().port);

    consumer.close();
    producer.close();
    egress.close();
    ingest.close();
  }

  test('Opus RTP in via a comedia PlainTransport, out via a consumer to a UDP socket', async () => {
    await forward(false);
  });

  test('the same with SRTP (AES_CM_128_HMAC_SHA1_80) in both directions', async () => {
    await forward(true);
  });
});
