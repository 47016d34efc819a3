// Fan-out benchmark: one Opus speaker (20 ms packets, ~80 byte payloads, as a 32 kbit/s voice) to N
// SRTP listener streams (PlainTransport consumers with AES_CM_128_HMAC_SHA1_80 — a fair stand-in for
// WebRTC consumers at scale) spread over every worker: the origin worker's router feeds the others
// through pipeToRouter, as a media pod's edges are fed. Measures worker CPU (getResourceUsage deltas)
// per 1,000 streams, streams per core, and loss at a loopback UDP sink.
//
//   MEDIASOUP_WORKER_BIN=$(bash media-pod/worker-build/build.sh --print-path) \
//     npx tsx bench/media/fanout.bench.ts [streams=1000] [seconds=10]
//
// Anchors: LiveKit ≈ 1,500 Opus streams per vCPU; physical ceiling ≈ 6,600–10,000 per core.
// On loopback the kernel's receive path is charged to the sending worker, so figures understate
// what a real NIC allows; compare runs on one machine.
import { createSocket } from 'node:dgram';
import { availableParallelism } from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { OPUS } from '../../media-pod/src/shards.js';

const STREAMS = Number(process.argv[2] ?? 1000);
const SECONDS = Number(process.argv[3] ?? 10);
const WORKERS = Number(process.env.MEDIA_WORKERS ?? availableParallelism());
const LIVEKIT_PER_VCPU = 1_500;
const CEILING_LOW = 6_600;
const CEILING_HIGH = 10_000;
const SSRC = 11111111;

async function main(): Promise<void> {
  const workers = await Promise.all(
    Array.from({ length: WORKERS }, () => mediasoup.createWorker({ logLevel: 'error' })),
  );
  const routers = await Promise.all(workers.map((w) => w.createRouter({ mediaCodecs: [OPUS] })));
  const origin = routers[0]!;

  // The speaker: plain RTP into the origin (comedia), from a Node UDP socket.
  const ingest = await origin.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: true,
    comedia: true,
  });
  const producer = await ingest.produce({
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: SSRC }],
    },
  });
  for (const router of routers.slice(1))
    await origin.pipeToRouter({ producerId: producer.id, router, enableSctp: false });

  // The listeners: N SRTP PlainTransports, round-robin over workers, all sending to one sink.
  const sink = createSocket('udp4');
  let received = 0;
  // RTP only (the header's payload type is in clear under SRTP); RTCP sender reports are not streams.
  sink.on('message', (msg: Buffer) => {
    if (msg.length > 12 && (msg[1]! & 0x7f) === 111) received += 1;
  });
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', () => resolve()));
  sink.setRecvBufferSize(8 * 1024 * 1024);
  const sinkPort = sink.address().port;
  const consumerCaps: types.RtpCapabilities = {
    codecs: [
      {
        kind: 'audio',
        mimeType: 'audio/opus',
        clockRate: 48000,
        channels: 2,
        preferredPayloadType: 111,
      },
    ],
  };
  for (let i = 0; i < STREAMS; i += 1) {
    const router = routers[i % routers.length]!;
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: true,
      comedia: false,
      enableSrtp: true,
      srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
    });
    await transport.connect({
      ip: '127.0.0.1',
      port: sinkPort,
      srtpParameters: transport.srtpParameters!,
    });
    await transport.consume({ producerId: producer.id, rtpCapabilities: consumerCaps });
  }

  const sender = createSocket('udp4');
  await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', () => resolve()));
  const target = ingest.tuple.localPort;
  let seq = 0;
  let sent = 0;
  const payload = Buffer.alloc(80, 0x5a);
  const sendOne = (): void => {
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = 111;
    header.writeUInt16BE(seq & 0xffff, 2);
    header.writeUInt32BE((seq * 960) >>> 0, 4);
    header.writeUInt32BE(SSRC, 8);
    seq += 1;
    sent += 1;
    sender.send(Buffer.concat([header, payload]), target, '127.0.0.1');
  };
  const started = Date.now();
  const pacer = setInterval(() => {
    const due = Math.floor((Date.now() - started) / 20);
    while (seq <= due) sendOne();
  }, 5);

  // Warm-up, then measure.
  await new Promise((r) => setTimeout(r, 2_000));
  const cpu = async () =>
    Promise.all(
      workers.map(async (w) => {
        const u = await w.getResourceUsage();
        return u.ru_utime + u.ru_stime;
      }),
    );
  const cpu0 = await cpu();
  const received0 = received;
  const sent0 = sent;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1_000));
  const cpu1 = await cpu();
  const elapsed = Date.now() - t0;
  const receivedN = received - received0;
  const sentN = sent - sent0;
  clearInterval(pacer);

  const cpuMs = cpu1.reduce((s, v, i) => s + v - cpu0[i]!, 0);
  const cores = cpuMs / elapsed; // cores busy, all workers together
  const expected = sentN * STREAMS;
  const loss = expected > 0 ? Math.max(0, 1 - receivedN / expected) : 0;
  const perCore = cores > 0 ? STREAMS / cores : Infinity;
  const usPerPacket = (cpuMs * 1000) / Math.max(1, receivedN);
  const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
  console.log(
    `fan-out: 1 Opus speaker → ${STREAMS} SRTP streams on ${WORKERS} workers, ${round(elapsed / 1000)} s`,
  );
  console.log(
    `  worker CPU: ${round(cores * 100)}% of one core in all (${round((cores * 100 * 1000) / STREAMS)}% per 1,000 streams)`,
  );
  console.log(`  ${round(usPerPacket, 2)} µs of worker CPU per forwarded packet`);
  console.log(`  loss at the sink: ${round(loss * 100, 3)}% (${receivedN} of ${expected} packets)`);
  console.log(`  streams per core: ${Math.round(perCore)}`);
  console.log(
    `  ratio to LiveKit (${LIVEKIT_PER_VCPU}/vCPU): ${round(perCore / LIVEKIT_PER_VCPU, 2)}×`,
  );
  console.log(
    `  ratio to the ceiling (${CEILING_LOW}–${CEILING_HIGH}/core): ${round(perCore / CEILING_HIGH, 2)}–${round(perCore / CEILING_LOW, 2)}`,
  );
  sender.close();
  sink.close();
  for (const w of workers) w.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
