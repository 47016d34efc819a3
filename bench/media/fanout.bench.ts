// Fan-out benchmark: one Opus speaker (20 ms packets, 80 byte payloads) into mediasoup, out to
// listener streams on loopback UDP, measured at the receiving socket.
//
//   npm run bench:media -- [steps=500,1000,2000,3000,4000] [seconds=8] [hopSeconds=12] [hopConsumers=10]
//                          [sockets=4] [waitLoad=1]
//
// The worker binary: MEDIASOUP_WORKER_BIN, else media-pod/worker-build/build.sh --print-path.
//
// Phases (one process, two mediasoup workers W0/W1, one Node receiver):
//  1. Hop latency at light load (hopConsumers plain-RTP consumers per phase, a fresh producer each):
//     baseline (the sender thread sends the same packets straight to the receive sockets, no SFU),
//     same worker (producer and consumers on one router of W0), cross-worker (pipeToRouter W0 → W1),
//     cross-pod (an SRTP PipeTransport pair W0 ↔ W1 over 127.0.0.1, as pipes.ts connects two pods).
//     The send time (CLOCK_MONOTONIC ns) is in the payload, which the SFU does not touch; latency =
//     receive − send at the consumer socket. "first" = the earliest copy of each packet (the hop
//     alone), "all" = every copy (adds the fan-out's serialisation over hopConsumers sends).
//  2. Load steps: N SRTP (AES_CM_128_HMAC_SHA1_80) PlainTransport consumers, half on a router of W0
//     (the producer's), half on a router of W1 fed by pipeToRouter. The payload is encrypted, but the
//     RTP header is clear: packets are counted per consumer by SSRC and RTP timestamp (mediasoup
//     forwards a simple stream's timestamp unchanged, so timestamp / 960 = the sender's packet index);
//     expected = packets the sender sent in the window, received = distinct indexes seen per consumer.
//     Worker CPU = Δ(ru_utime + ru_stime) from worker.getResourceUsage() (milliseconds, per
//     mediasoup's Worker.cpp: tv_sec * 1000 + tv_usec / 1000), checked against /proc/<pid>/stat.
//
// The sender runs in its own thread and paces by absolute schedule (packet i at t0 + 20 ms · i), so
// the rate is exactly 50 pps; late timers are counted. The receiver (this process's main thread) and
// the sender share the machine with both workers: their CPU is measured and printed. Nothing is
// written to disk.
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Worker as Thread } from 'node:worker_threads';
import type { types } from 'mediasoup';
import { OPUS } from '../../media-pod/src/shards.js';
import { useProjectMediasoupWorker } from '../../test/env/mediasoup.js';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.split('=');
    return [k ?? '', v ?? ''] as const;
  }),
);
const num = (key: string, fallback: number): number => {
  const value = args.get(key);
  const parsed = value === undefined ? fallback : Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`bad ${key}=${value}`);
  return parsed;
};
const STEPS = (args.get('steps') ?? '500,1000,2000,3000,4000').split(',').map(Number);
const SECONDS = num('seconds', 8);
const HOP_SECONDS = num('hopSeconds', 12);
const HOP_CONSUMERS = num('hopConsumers', 10);
const SOCKETS = num('sockets', 4);
const WAIT_LOAD = num('waitLoad', 1) !== 0;
const WARMUP_MS = 2_000;
const GRACE_MS = 400;
const LIVEKIT_PER_VCPU = 1_500;
const CEILING_LOW = 6_600;
const CEILING_HIGH = 10_000;
const PT = 111;
const TS_STEP = 960;
const RING = 1 << 16;
const MAGIC = 0x414d5048; // 'AMPH'

// ---------------------------------------------------------------------------------------------
// Sender thread (plain JS, eval'd: no loader needed). Packet i: seq i, timestamp i·960, payload
// [send ns u64][magic u32][i u32][pad] = 80 bytes. One send-time stamp per tick for all targets.
const SENDER_JS = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const sendNs = new Float64Array(workerData.sendNs);
const state = new Int32Array(workerData.state);
const sock = dgram.createSocket('udp4');
let targets = [];
let index = 0;
let lateMax = 0, late5 = 0, catchUp = 0, sent = 0;
const base = process.hrtime.bigint();
parentPort.on('message', (m) => {
  if (m.type === 'targets') targets = m.targets;
  else if (m.type === 'pacing') { parentPort.postMessage({ lateMax, late5, catchUp, sent }); lateMax = 0; late5 = 0; catchUp = 0; sent = 0; }
  else if (m.type === 'stop') { clearTimeout(timer); sock.close(); }
});
let timer;
function sendOne(i) {
  const stamp = process.hrtime.bigint();
  sendNs[i % ${RING}] = Number(stamp);
  for (const t of targets) {
    const b = Buffer.alloc(92);
    b[0] = 0x80; b[1] = ${PT};
    b.writeUInt16BE(i & 0xffff, 2);
    b.writeUInt32BE((i * ${TS_STEP}) >>> 0, 4);
    b.writeUInt32BE(t.ssrc >>> 0, 8);
    b.writeBigUInt64BE(stamp, 12);
    b.writeUInt32BE(${MAGIC}, 20);
    b.writeUInt32BE(i, 24);
    sock.send(b, t.port, '127.0.0.1');
    sent += 1;
  }
}
function tick() {
  const now = process.hrtime.bigint();
  let burst = 0;
  while (base + BigInt(index) * 20000000n <= now) {
    const lateMs = Number(now - (base + BigInt(index) * 20000000n)) / 1e6;
    if (lateMs > lateMax) lateMax = lateMs;
    if (lateMs > 5) late5 += 1;
    if (burst > 0) catchUp += 1;
    sendOne(index);
    index += 1;
    burst += 1;
    Atomics.store(state, 0, index);
  }
  const next = base + BigInt(index) * 20000000n;
  timer = setTimeout(tick, Math.max(0, Number(next - process.hrtime.bigint()) / 1e6 - 0.2));
}
sock.bind(0, '127.0.0.1', () => tick());
`;

interface Pacing {
  lateMax: number;
  late5: number;
  catchUp: number;
  sent: number;
}

class Sender {
  readonly sendNs = new Float64Array(new SharedArrayBuffer(RING * 8));
  readonly state = new Int32Array(new SharedArrayBuffer(4));
  readonly thread: Thread;
  constructor() {
    this.thread = new Thread(SENDER_JS, {
      eval: true,
      workerData: { sendNs: this.sendNs.buffer, state: this.state.buffer },
    });
  }
  /** The index of the next packet to be sent. */
  get next(): number {
    return Atomics.load(this.state, 0);
  }
  setTargets(targets: { port: number; ssrc: number }[]): void {
    this.thread.postMessage({ type: 'targets', targets });
  }
  async pacing(): Promise<Pacing> {
    const reply = new Promise<Pacing>((resolve) => this.thread.once('message', resolve));
    this.thread.postMessage({ type: 'pacing' });
    return reply;
  }
  async stop(): Promise<void> {
    this.thread.postMessage({ type: 'stop' });
    await this.thread.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// Receiver: a few sockets, consumers addressed by SSRC → slot.
interface WindowResult {
  received: Int32Array; // per slot in [s0, s1)
  expected: number;
  latAll: Float64Array; // µs
  latFirst: Float64Array; // µs, earliest copy per packet index
  badStamp: number;
}

class Receiver {
  readonly sockets: Socket[] = [];
  readonly slots = new Map<number, number>();
  readonly plain: boolean[] = [];
  #w0 = 0;
  #w1 = 0;
  #s0 = 0;
  #s1 = 0;
  #bits = new Uint8Array(0);
  #received = new Int32Array(0);
  #lat = new Float64Array(0);
  #latN = 0;
  #first = new Float64Array(0);
  #badStamp = 0;
  #open = false;

  constructor(private readonly sendNs: Float64Array) {}

  async bind(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const socket = createSocket('udp4');
      socket.on('message', (msg: Buffer) => this.#onMessage(msg));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      socket.setRecvBufferSize(8 * 1024 * 1024);
      this.sockets.push(socket);
    }
  }

  port(i: number): number {
    return this.sockets[i % this.sockets.length]!.address().port;
  }

  add(ssrc: number, plain: boolean): number {
    const slot = this.plain.length;
    this.plain.push(plain);
    this.slots.set(ssrc >>> 0, slot);
    return slot;
  }

  /** Count packets with index in [w0, w1) for slots [s0, s1). */
  open(w0: number, w1: number, s0: number, s1: number): void {
    const len = w1 - w0;
    const n = s1 - s0;
    this.#w0 = w0;
    this.#w1 = w1;
    this.#s0 = s0;
    this.#s1 = s1;
    this.#bits = new Uint8Array(len * n);
    this.#received = new Int32Array(n);
    this.#lat = new Float64Array(len * n);
    this.#latN = 0;
    this.#first = new Float64Array(len).fill(Infinity);
    this.#badStamp = 0;
    this.#open = true;
  }

  close(): WindowResult {
    this.#open = false;
    return {
      received: this.#received,
      expected: this.#w1 - this.#w0,
      latAll: this.#lat.subarray(0, this.#latN),
      latFirst: this.#first.filter((v) => Number.isFinite(v)),
      badStamp: this.#badStamp,
    };
  }

  #onMessage(msg: Buffer): void {
    const now = Number(process.hrtime.bigint());
    if (!this.#open || msg.length < 12 || (msg[1]! & 0x7f) !== PT) return;
    const slot = this.slots.get(msg.readUInt32BE(8));
    if (slot === undefined || slot < this.#s0 || slot >= this.#s1) return;
    const index = msg.readUInt32BE(4) / TS_STEP;
    if (index < this.#w0 || index >= this.#w1) return;
    const k = index - this.#w0;
    const bit = (slot - this.#s0) * (this.#w1 - this.#w0) + k;
    if (this.#bits[bit] === 1) return;
    this.#bits[bit] = 1;
    this.#received[slot - this.#s0]! += 1;
    let sentAt: number;
    if (this.plain[slot]) {
      // The payload's own stamp (the SFU never touches it); cross-checked with the index.
      // The SFU may add header extensions: find the payload after CSRCs and the extension block.
      let off = 12 + 4 * (msg[0]! & 0x0f);
      if ((msg[0]! & 0x10) !== 0 && msg.length >= off + 4) off += 4 + 4 * msg.readUInt16BE(off + 2);
      if (
        msg.length < off + 16 ||
        msg.readUInt32BE(off + 8) !== MAGIC ||
        msg.readUInt32BE(off + 12) !== index
      ) {
        this.#badStamp += 1;
        return;
      }
      sentAt = Number(msg.readBigUInt64BE(off));
    } else sentAt = this.sendNs[index % RING]!; // SRTP: payload encrypted, use the sender's table
    const us = (now - sentAt) / 1000;
    this.#lat[this.#latN++] = us;
    if (us < this.#first[k]!) this.#first[k] = us;
  }
}

// ---------------------------------------------------------------------------------------------
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: Float64Array, p: number): number =>
  sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const sorted = (a: Float64Array): Float64Array => Float64Array.from(a).sort();
const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : '—');
const load1 = (): number => loadavg()[0]!;

function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  const v = cpu.map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((s, x) => s + x, 0);
  return { busy: total - idle, total };
}
function procTicksMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime+stime, USER_HZ=100
}
function udpErrors(): { rcvbuf: number; inErrors: number } {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const keys = lines[0]!.split(/\s+/);
  const vals = lines[1]!.split(/\s+/).map(Number);
  return {
    rcvbuf: vals[keys.indexOf('RcvbufErrors')]!,
    inErrors: vals[keys.indexOf('InErrors')]!,
  };
}

/** Before phases only, while this bench sends nothing (its own load would count otherwise). */
async function waitForQuiet(): Promise<void> {
  if (!WAIT_LOAD) return;
  const deadline = Date.now() + 10 * 60_000;
  while (load1() > 2.5 && Date.now() < deadline) {
    console.log(`  load average ${f(load1(), 2)} > 2.5: waiting 30 s (other work on the machine)`);
    await sleep(30_000);
  }
}

async function main(): Promise<void> {
  useProjectMediasoupWorker();
  const mediasoup = await import('mediasoup');
  await waitForQuiet();
  const startLoad = loadavg();
  const workers = await Promise.all(
    [0, 1].map(() => mediasoup.createWorker({ logLevel: 'error' })),
  );
  const [w0, w1] = workers as [types.Worker, types.Worker];
  const sender = new Sender();
  const receiver = new Receiver(sender.sendNs);
  await receiver.bind(SOCKETS);
  const caps: types.RtpCapabilities = {
    codecs: [
      {
        kind: 'audio',
        mimeType: 'audio/opus',
        clockRate: 48000,
        channels: 2,
        preferredPayloadType: PT,
      },
    ],
  };
  let nextSsrc = 0x10000000;

  const ingest = async (router: types.Router) => {
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: true,
      comedia: true,
    });
    const ssrc = (nextSsrc += 1);
    const producer = await transport.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: PT, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc }],
      },
    });
    return { transport, producer, target: { port: transport.tuple.localPort, ssrc } };
  };
  const listener = async (
    router: types.Router,
    producerId: string,
    srtp: boolean,
    i: number,
  ): Promise<{ transport: types.PlainTransport; slot: number }> => {
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: true,
      comedia: false,
      ...(srtp ? { enableSrtp: true, srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80' as const } : {}),
    });
    await transport.connect({
      ip: '127.0.0.1',
      port: receiver.port(i),
      ...(srtp ? { srtpParameters: transport.srtpParameters! } : {}),
    });
    const consumer = await transport.consume({ producerId, rtpCapabilities: caps });
    const slot = receiver.add(consumer.rtpParameters.encodings![0]!.ssrc!, !srtp);
    return { transport, slot };
  };

  /** Open a window from the next packet for `ms`, wait for stragglers, return the result. */
  const measure = async (ms: number, s0: number, s1: number) => {
    const w0i = sender.next + 1;
    const w1i = w0i + Math.round(ms / 20);
    receiver.open(w0i, w1i, s0, s1);
    await sender.pacing();
    while (sender.next < w1i) await sleep(20);
    await sleep(GRACE_MS);
    const pacing = await sender.pacing();
    return { result: receiver.close(), pacing };
  };

  // ------------------------------------------------------------------ 1. hop latency
  console.log(
    `amphi media fan-out bench — 2 workers, receiver: ${SOCKETS} sockets in this process; load average at start ${startLoad.map((v) => f(v, 2)).join(' ')}`,
  );
  interface HopRow {
    name: string;
    load: number;
    all: Float64Array;
    first: Float64Array;
    loss: number;
    bad: number;
  }
  const hops: HopRow[] = [];
  const hopRun = async (name: string, s0: number, s1: number) => {
    await sleep(1_000);
    const load = load1();
    const { result } = await measure(HOP_SECONDS * 1000, s0, s1);
    const got = result.received.reduce((s, v) => s + v, 0);
    hops.push({
      name,
      load,
      all: sorted(result.latAll),
      first: sorted(result.latFirst),
      loss: 1 - got / (result.expected * (s1 - s0)),
      bad: result.badStamp,
    });
  };
  {
    // Baseline: the sender thread → the receive sockets directly, hopConsumers copies per packet.
    const s0 = receiver.plain.length;
    const targets = Array.from({ length: HOP_CONSUMERS }, (_, i) => {
      const ssrc = (nextSsrc += 1);
      receiver.add(ssrc, true);
      return { port: receiver.port(i), ssrc };
    });
    sender.setTargets(targets);
    await hopRun('baseline (no SFU)', s0, receiver.plain.length);
  }
  const rA = await w0.createRouter({ mediaCodecs: [OPUS] });
  const rB = await w1.createRouter({ mediaCodecs: [OPUS] });
  const rC = await w1.createRouter({ mediaCodecs: [OPUS] });
  for (const hop of ['same worker', 'cross-worker pipe', 'cross-pod pipe (SRTP)'] as const) {
    const closers: { close(): void }[] = [];
    const src = await ingest(rA);
    closers.push(src.transport);
    let edge = rA;
    if (hop === 'cross-worker pipe') {
      await rA.pipeToRouter({ producerId: src.producer.id, router: rB, enableSctp: false });
      edge = rB;
    } else if (hop === 'cross-pod pipe (SRTP)') {
      const opts = {
        listenInfo: { protocol: 'udp' as const, ip: '127.0.0.1' },
        enableSrtp: true,
        enableRtx: false,
      };
      const [pa, pc] = await Promise.all([
        rA.createPipeTransport(opts),
        rC.createPipeTransport(opts),
      ]);
      closers.push(pa, pc);
      await pa.connect({
        ip: '127.0.0.1',
        port: pc.tuple.localPort,
        srtpParameters: pc.srtpParameters!,
      });
      await pc.connect({
        ip: '127.0.0.1',
        port: pa.tuple.localPort,
        srtpParameters: pa.srtpParameters!,
      });
      const pipeConsumer = await pa.consume({ producerId: src.producer.id });
      await pc.produce({
        id: src.producer.id,
        kind: 'audio',
        rtpParameters: pipeConsumer.rtpParameters,
      });
      edge = rC;
    }
    const s0 = receiver.plain.length;
    for (let i = 0; i < HOP_CONSUMERS; i += 1)
      closers.push((await listener(edge, src.producer.id, false, i)).transport);
    sender.setTargets([src.target]);
    await hopRun(hop, s0, receiver.plain.length);
    sender.setTargets([]);
    for (const c of closers) c.close();
  }
  rB.close();
  rC.close();

  // ------------------------------------------------------------------ 2. load steps (SRTP)
  await waitForQuiet(); // nothing of ours is sending here (the hop phases are over)
  const origin = await w0.createRouter({ mediaCodecs: [OPUS] });
  const edge = await w1.createRouter({ mediaCodecs: [OPUS] });
  const src = await ingest(origin);
  await origin.pipeToRouter({ producerId: src.producer.id, router: edge, enableSctp: false });
  sender.setTargets([src.target]);
  const loadS0 = receiver.plain.length;
  let created = 0;
  interface StepRow {
    n: number;
    load: number;
    seconds: number;
    workerPct: number[];
    procCheckPct: number[];
    nodePct: number;
    machinePct: number;
    lossPct: number;
    worstPct: number;
    lossy: number;
    rcvbufErrors: number;
    p50: number;
    p99: number;
    pacing: Pacing;
  }
  const steps: StepRow[] = [];
  for (const n of STEPS) {
    const setupStart = Date.now();
    sender.setTargets([]); // silent while consumers are created: setup does not fight the load
    while (created < n) {
      const batch = Math.min(100, n - created);
      await Promise.all(
        Array.from({ length: batch }, (_, j) => {
          const i = created + j;
          return listener(i % 2 === 0 ? origin : edge, src.producer.id, true, i);
        }),
      );
      created += batch;
    }
    const setupMs = Date.now() - setupStart;
    sender.setTargets([src.target]);
    await sleep(WARMUP_MS);
    const load = load1();
    const ru = async () =>
      Promise.all(
        workers.map(async (w) => {
          const u = await w.getResourceUsage();
          return u.ru_utime + u.ru_stime; // ms
        }),
      );
    const ru0 = await ru();
    const proc0 = workers.map((w) => procTicksMs(w.pid));
    const node0 = process.cpuUsage(); // µs
    const m0 = machineTicks();
    const udp0 = udpErrors();
    const t0 = performance.now();
    const { result, pacing } = await measure(SECONDS * 1000, loadS0, loadS0 + n);
    const ru1 = await ru();
    const elapsed = performance.now() - t0;
    const proc1 = workers.map((w) => procTicksMs(w.pid));
    const node1 = process.cpuUsage(node0);
    const m1 = machineTicks();
    const udp1 = udpErrors();
    const got = result.received.reduce((s, v) => s + v, 0);
    let worst = 0;
    let lossy = 0;
    for (const r of result.received) {
      const l = 1 - r / result.expected;
      if (l > worst) worst = l;
      if (r < result.expected) lossy += 1;
    }
    const lat = sorted(result.latAll);
    steps.push({
      n,
      load,
      seconds: elapsed / 1000,
      workerPct: ru1.map((v, i) => ((v - ru0[i]!) / elapsed) * 100),
      procCheckPct: proc1.map((v, i) => ((v - proc0[i]!) / elapsed) * 100),
      nodePct: ((node1.user + node1.system) / 1000 / elapsed) * 100,
      machinePct: ((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 * 2,
      lossPct: (1 - got / (result.expected * n)) * 100,
      worstPct: worst * 100,
      lossy,
      rcvbufErrors: udp1.rcvbuf - udp0.rcvbuf,
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      pacing,
    });
    console.log(
      `  step N=${n}: set up in ${f(setupMs / 1000)} s, measured ${f(elapsed / 1000)} s at load ${f(load, 2)}`,
    );
    if (steps.at(-1)!.lossPct > 1) {
      console.log('  loss > 1 %: larger steps skipped');
      break;
    }
  }
  await sender.stop();
  for (const s of receiver.sockets) s.close();
  for (const w of workers) w.close();

  // ------------------------------------------------------------------ report
  const base = hops[0]!;
  console.log(
    `\nHop latency, µs (receive − send at the consumer socket; ${HOP_CONSUMERS} consumers, ${HOP_SECONDS} s, 50 pps)`,
  );
  console.log(
    'hop                     load1   p50 first  p99 first   p50 all   p99 all   +p50 first  +p99 first  ×p99 first  loss%',
  );
  for (const h of hops) {
    const d50 = pct(h.first, 50) - pct(base.first, 50);
    const d99 = pct(h.first, 99) - pct(base.first, 99);
    console.log(
      [
        h.name.padEnd(22),
        f(h.load, 2).padStart(6),
        f(pct(h.first, 50)).padStart(11),
        f(pct(h.first, 99)).padStart(10),
        f(pct(h.all, 50)).padStart(9),
        f(pct(h.all, 99)).padStart(9),
        (h === base ? '' : f(d50)).padStart(12),
        (h === base ? '' : f(d99)).padStart(11),
        f(pct(h.first, 99) / pct(base.first, 99), 2).padStart(11),
        f(h.loss * 100, 3).padStart(6),
      ].join(' ') + (h.bad > 0 ? `  (${h.bad} bad stamps)` : ''),
    );
  }
  console.log(
    "  +p50/+p99 = hop minus baseline percentile (the SFU's added latency); Pion anchor: hop p99 318 µs incl. SRTP.",
  );

  console.log(
    `\nFan-out: 1 Opus speaker → N SRTP PlainTransport consumers, half on W0 (producer), half on W1 via pipeToRouter; ${SECONDS} s per step`,
  );
  console.log(
    '     N  load1  W0 %   W1 %  workers %  %/1k str  str/core  µs/pkt  recv proc %  machine %  loss %   worst %  lossy  rcvbufErr  lat p50/p99 µs  late>5ms/max',
  );
  let best: StepRow | undefined;
  for (const s of steps) {
    const cores = s.workerPct.reduce((a, b) => a + b, 0) / 100;
    const perCore = s.n / cores;
    const usPkt = (cores * s.seconds * 1e6) / (s.n * (s.seconds * 50));
    const others = Math.max(0, s.machinePct - cores * 100 - s.nodePct);
    if (s.lossPct <= 0.1) best = s;
    const check = s.workerPct.some(
      (v, i) => Math.abs(v - s.procCheckPct[i]!) > Math.max(3, v * 0.1),
    );
    console.log(
      [
        String(s.n).padStart(6),
        f(s.load, 2).padStart(5),
        f(s.workerPct[0]!).padStart(5),
        f(s.workerPct[1]!).padStart(6),
        f(cores * 100).padStart(10),
        f((cores * 100 * 1000) / s.n).padStart(9),
        f(perCore, 0).padStart(9),
        f(usPkt, 2).padStart(7),
        f(s.nodePct).padStart(12),
        f(s.machinePct).padStart(10),
        f(s.lossPct, 3).padStart(7),
        f(s.worstPct, 2).padStart(9),
        String(s.lossy).padStart(6),
        String(s.rcvbufErrors).padStart(10),
        `${f(s.p50, 0)}/${f(s.p99, 0)}`.padStart(15),
        `${s.pacing.late5}/${f(s.pacing.lateMax)}`.padStart(13),
      ].join(' ') +
        (others > 20 ? `  (contended: other processes used ${f(others, 0)} % of a core)` : '') +
        (s.lossPct > 0.1 ? '  (overloaded: CPU figures not per forwarded packet)' : '') +
        (check ? `  (/proc says ${s.procCheckPct.map((v) => f(v)).join('/')} %)` : '') +
        (s.workerPct.some((v) => v > 100) ? '  (!) a worker > 100 %' : ''),
    );
  }
  console.log(
    '  % = of one core; workers % = W0 + W1; str/core = N / (worker cores); µs/pkt = worker CPU per forwarded packet;',
  );
  console.log(
    '  recv proc % = this Node process (receiver + sender thread + mediasoup channel), on the same 2 cores;',
  );
  console.log(
    '  late>5ms/max = sender ticks more than 5 ms late / the latest (ms); the schedule is absolute, so 50 pps on average;',
  );
  console.log(
    '  machine % = all CPUs busy (of one core, 200 % max) incl. other users; lat = send → SRTP consumer socket under load.',
  );
  if (best) {
    const cores = best.workerPct.reduce((a, b) => a + b, 0) / 100;
    const perCore = best.n / cores;
    console.log(
      `\nLargest N with ≤0.1% loss: ${best.n} → ${f(perCore, 0)} listener streams per worker core` +
        ` (worker CPU ${f((cores * 100 * 1000) / best.n)} % of a core per 1,000 streams)`,
    );
    console.log(
      `  ratio to the physical ceiling (${CEILING_LOW}–${CEILING_HIGH}/core): ${f(perCore / CEILING_HIGH, 2)}–${f(perCore / CEILING_LOW, 2)}`,
    );
    console.log(
      `  ratio to LiveKit (${LIVEKIT_PER_VCPU}/vCPU): ${f(perCore / LIVEKIT_PER_VCPU, 2)}×`,
    );
    const machineCores = best.machinePct / 100;
    console.log(
      `  counting the receiver too (whole machine busy ${f(best.machinePct)} %): ${f(best.n / machineCores, 0)} streams per busy core`,
    );
  } else console.log('\nNo step met ≤0.1% loss.');
  console.log(
    `load average at end: ${loadavg()
      .map((v) => f(v, 2))
      .join(' ')}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
