// The SDK's reconnect on real parts: local mode (`bash scripts/start.sh`) as a child process and
// headless Chromium pages (fake microphone) running the page's SDK client.
// 1. Every signalling WebSocket of a room (a host and three listeners) is cut at the same instant by
//    aborting its TCP connections in the kernel (`ss -K`: the pod sees a reset, Chromium an
//    abnormal close), as a network failure would. Each client goes reconnecting → connected through
//    the control API again; the listeners hear the host's tone again, which needs the host's
//    microphone restored (the host was cut too); and the clients, cut together, come back at
//    spread-out times (full-jitter backoff) instead of all at once.
// 2. The mediasoup worker hosting a room is killed (SIGKILL): the pod fails the shard and asks its
//    clients to rejoin with a hint; the placement moves the room to the surviving worker; host and
//    listener rejoin no earlier than the hint, and the listener hears the host again.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { NodeRegistry } from '../../common/src/contract/node-registry.js';
import { launchChromium, type LaunchedChromium } from '../env/chromium.js';
import { openAs, peakOver, startLocalMode, type LocalMode } from '../env/local-mode.js';
import { waitFor } from '../env/wait.js';

const MIN_RMS = 0.02;
const LISTENERS = 3;
/** The pages' first reconnect backoff ceiling: attempt 0 waits a random 0..2000 ms. */
const BASE_MS = 2_000;

interface Amphi {
  firstAudioAt?: number;
  room?: string;
  role?: string;
  state?: string;
  speaking?: boolean;
  states: Array<[number, string]>;
  reconnects: Array<{ at: number; attempt: number; delayMs: number; hintMs: number }>;
  peakSince(t: number): number;
}
type Seen = Omit<Amphi, 'peakSince'>;

const debug = (page: Page): Promise<Seen> =>
  page.evaluate(() => {
    const a = (globalThis as unknown as { amphi: Amphi }).amphi;
    return {
      firstAudioAt: a.firstAudioAt,
      room: a.room,
      role: a.role,
      state: a.state,
      speaking: a.speaking,
      states: a.states,
      reconnects: a.reconnects,
    };
  });

/**
 * Aborts every established TCP connection to or from `port`; returns how many sockets it aborted
 * (an aborted end resets its peer, which is then no longer established: one per connection).
 */
function cutConnections(port: number): number {
  const out = execFileSync(
    'ss',
    ['-K', '-t', '-n', 'state', 'established', `( sport = :${port} or dport = :${port} )`],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter((l) => l.includes(`:${port}`)).length;
}

describe('SDK reconnect (local mode, Chromium pages)', () => {
  let local: LocalMode;
  let browser: LaunchedChromium | undefined;
  let redis: Redis | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    local = await startLocalMode({ name: 'local-mode-reconnect' });
    browser = await launchChromium({ extraArgs: ['--autoplay-policy=no-user-gesture-required'] });
  });

  afterAll(async () => {
    redis?.disconnect();
    await browser?.close();
    await local?.stop();
  });

  const open = (name: string, address: string): Promise<Page> =>
    openAs(browser!.context, name, address, errors);

  /** A host that creates a room and speaks, and listeners who hear it. */
  async function room(listenerCount: number): Promise<{ host: Page; listeners: Page[] }> {
    const host = await open('Host', `${local.url}?reconnect-base-ms=${BASE_MS}`);
    await host.click('#create');
    await host.waitForFunction(
      () => (globalThis as unknown as { amphi: Amphi }).amphi.speaking === true,
      undefined,
      { timeout: 30_000 },
    );
    const link = await host.getAttribute('#share', 'href');
    const listeners: Page[] = [];
    for (let i = 0; i < listenerCount; i++) {
      const page = await open(`Lis${i}`, `${link}&reconnect-base-ms=${BASE_MS}`);
      await page.click('#join');
      await page.waitForFunction(
        () => (globalThis as unknown as { amphi: Amphi }).amphi.firstAudioAt !== undefined,
        undefined,
        { timeout: 30_000 },
      );
      listeners.push(page);
    }
    for (const page of listeners) expect(await peakOver(page, 1_500)).toBeGreaterThan(MIN_RMS);
    for (const page of [host, ...listeners]) expect((await debug(page)).reconnects).toEqual([]);
    return { host, listeners };
  }

  /** Waits until the page went reconnecting after `since` and is connected again. */
  const reconnected = (page: Page, since: number): Promise<Seen> =>
    waitFor(
      async () => {
        const seen = await debug(page);
        const cut = seen.states.findIndex(([at, s]) => at >= since && s === 'reconnecting');
        const back = seen.states.findIndex(([, s], i) => i > cut && s === 'connected');
        return cut >= 0 && back > cut && seen.state === 'connected' && seen;
      },
      { what: 'a page to reconnect', timeoutMs: 60_000, intervalMs: 250 },
    );

  const hearsAgain = (page: Page): Promise<boolean> =>
    waitFor(async () => (await peakOver(page, 1_000)) > MIN_RMS, {
      what: 'a listener to hear the host again after reconnecting',
      timeoutMs: 30_000,
      intervalMs: 100,
    });

  test('all signalling sockets cut at once: jittered reconnects, audio and microphone back', async () => {
    const { host, listeners } = await room(LISTENERS);
    const pages = [host, ...listeners];
    const port = Number(local.logged(/"signaling":"ws:\/\/[^"]+:(\d+)\/ws"/));

    const cutAt = Date.now();
    // The host's and each listener's connection (the pod's listening socket stays).
    expect(cutConnections(port)).toBeGreaterThanOrEqual(pages.length);

    // Every client notices, reconnects through the control API, and is connected again.
    const after: Seen[] = [];
    for (const page of pages) after.push(await reconnected(page, cutAt));

    // The host sends its microphone again, and every listener hears it.
    expect(after[0]!.speaking).toBe(true);
    for (const page of listeners) await hearsAgain(page);

    // The herd: cut in the same instant, the clients' first attempts went out at spread-out times,
    // each after its own random backoff (no pod hint: the socket just dropped). Without jitter all
    // would wait the same delay and return together. Four uniform draws in 0..2000 ms span less
    // than 100 ms with probability 4·0.05³ − 3·0.05⁴ ≈ 5·10⁻⁴.
    const first = after.map((seen) =>
      seen.reconnects.find((r) => r.attempt === 0 && r.at >= cutAt),
    );
    expect(first.every((r) => r !== undefined)).toBe(true);
    const delays = first.map((r) => r!.delayMs);
    const times = first.map((r) => r!.at);
    process.stdout.write(
      `reconnect after a simultaneous cut: backoff ${delays.join(', ')} ms; first attempts at ` +
        `${times.map((t) => t - cutAt).join(', ')} ms after the cut\n`,
    );
    expect(first.map((r) => r!.hintMs)).toEqual(pages.map(() => 0));
    expect(new Set(delays).size).toBe(pages.length);
    expect(delays.every((d) => d >= 0 && d <= BASE_MS)).toBe(true);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(100);
    expect(errors).toEqual([]);
    for (const page of pages) await page.close();
  });

  test("the room's worker is killed: the pod asks to rejoin, the room moves, audio comes back", async () => {
    const { host, listeners } = await room(1);
    const listener = listeners[0]!;
    const roomId = (await debug(host)).room!;
    redis = new Redis(local.logged(/"url":"(redis:\/\/[^"]+)"/), { maxRetriesPerRequest: 2 });
    const registry = new NodeRegistry(redis);
    const origin = async () => {
      const [node] = (await registry.live()).nodes;
      const shard = node?.shards.find(
        (s) => s.room.endsWith(`/${roomId}`) && s.role === 'origin' && s.state === 'Ready',
      );
      const worker = node?.workers.find((w) => w.index === shard?.worker);
      return shard && worker?.alive ? { shard, worker } : undefined;
    };
    const before = await waitFor(origin, {
      what: "the room's origin shard in the pod's heartbeat",
      timeoutMs: 15_000,
      intervalMs: 250,
    });

    const killedAt = Date.now();
    process.kill(before.worker.pid!, 'SIGKILL');

    // Both clients are told to rejoin (a hint > 0), wait at least the hint, and are back.
    for (const page of [host, listener]) {
      const seen = await reconnected(page, killedAt);
      const attempt = seen.reconnects.find((r) => r.attempt === 0 && r.at >= killedAt)!;
      expect(attempt.hintMs).toBeGreaterThan(0);
      expect(attempt.delayMs).toBeGreaterThanOrEqual(attempt.hintMs);
    }
    // The placement put the room on the other worker; the host speaks there and is heard.
    await waitFor(
      async () => {
        const now = await origin();
        return now && now.worker.index !== before.worker.index;
      },
      { what: 'the room placed again on the other worker', timeoutMs: 30_000, intervalMs: 250 },
    );
    expect((await debug(host)).speaking).toBe(true);
    await hearsAgain(listener);
    expect(errors).toEqual([]);
  });
});
