// Local mode end to end: `bash scripts/start.sh` as a child process on free ports, two headless
// Chromium pages (fake microphone) on the page it serves. The host creates a room and speaks; the
// listener opens the share link and hears the tone (WebAudio RMS above a threshold); hand raise →
// invitation → the listener speaks; the host's mute stops its audio. Prints join-to-first-audio.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../env/chromium.js';
import { ManagedProcess } from '../env/managed-process.js';
import { repoRoot } from '../env/paths.js';
import { waitFor } from '../env/wait.js';

const MIN_RMS = 0.02;

interface Amphi {
  joinStartedAt?: number;
  firstAudioAt?: number;
  user?: string;
  role?: string;
  state?: string;
  peakSince(t: number): number;
}

const debug = (page: Page): Promise<Omit<Amphi, 'peakSince'>> =>
  page.evaluate(() => {
    const a = (globalThis as unknown as { amphi: Amphi }).amphi;
    return { ...a, peakSince: undefined };
  });

async function peakOver(page: Page, ms: number): Promise<number> {
  const since = await page.evaluate(() => performance.now());
  await new Promise((r) => setTimeout(r, ms));
  return page.evaluate(
    (t) => (globalThis as unknown as { amphi: Amphi }).amphi.peakSince(t),
    since,
  );
}

describe('local mode (npm start) with two Chromium pages', () => {
  let proc: ManagedProcess;
  let browser: LaunchedChromium | undefined;
  let url = '';
  const stateDir = mkdtempSync(join(tmpdir(), 'amphi-local-'));

  beforeAll(async () => {
    proc = new ManagedProcess({
      name: 'local-mode',
      command: 'bash',
      args: [join(repoRoot, 'scripts/start.sh')],
      cwd: repoRoot,
      env: { ...process.env, AMPHI_PORT: '0', AMPHI_STATE_DIR: stateDir, MEDIA_WORKERS: '2' },
    });
    await waitFor(
      () => {
        const m = /AMPHI_LOCAL_URL=(\S+)/.exec(readFileSync(proc.logFile, 'utf8'));
        if (m) url = m[1]!;
        return m !== null;
      },
      {
        what: 'local mode to print its URL',
        timeoutMs: 90_000,
        intervalMs: 200,
        abortIf: () => proc.exitReason(),
      },
    );
    browser = await launchChromium({ extraArgs: ['--autoplay-policy=no-user-gesture-required'] });
  });

  afterAll(async () => {
    await browser?.close();
    await proc?.stop(15_000);
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('speak, listen, hand → stage → speak, mute; clean stop', async () => {
    const errors: string[] = [];
    const host = await browser!.context.newPage();
    host.on('pageerror', (e) => errors.push(`host: ${e.message}`));
    await host.goto(url);
    await host.fill('#name', 'Host');
    await host.click('#create');
    await host.waitForFunction(
      () => (globalThis as unknown as { amphi: Amphi }).amphi.state === 'connected',
      undefined,
      { timeout: 30_000 },
    );
    const link = await host.getAttribute('#share', 'href');
    expect(link).toContain('/?room=');

    const listener = await browser!.context.newPage();
    listener.on('pageerror', (e) => errors.push(`listener: ${e.message}`));
    await listener.goto(link!);
    await listener.fill('#name', 'Lis');
    await listener.click('#join');
    await listener.waitForFunction(
      () => (globalThis as unknown as { amphi: Amphi }).amphi.firstAudioAt !== undefined,
      undefined,
      { timeout: 30_000 },
    );
    const seen = await debug(listener);
    const joinToAudio = seen.firstAudioAt! - seen.joinStartedAt!;
    process.stdout.write(
      `join-to-first-audio (listener, Chromium, local mode): ${Math.round(joinToAudio)} ms\n`,
    );
    expect(await peakOver(listener, 3_000)).toBeGreaterThan(MIN_RMS);
    expect(seen.role).toBe('listener');

    // Hand raise → the host brings the listener on stage → the listener accepts and speaks.
    await listener.click('#raise');
    await host.waitForSelector('button.invite', { timeout: 15_000 });
    await host.click('button.invite');
    await listener.waitForSelector('#accept:not([hidden])', { timeout: 15_000 });
    await listener.click('#accept');
    await listener.waitForFunction(
      () => (globalThis as unknown as { amphi: Amphi }).amphi.role === 'speaker',
      undefined,
      { timeout: 30_000 },
    );
    // The host hears the new speaker.
    await waitFor(async () => (await peakOver(host, 1_000)) > MIN_RMS, {
      what: 'the host to hear the promoted listener',
      timeoutMs: 20_000,
      intervalMs: 100,
    });

    // The new speaker mutes: the host hears nothing any more.
    await listener.click('#mute');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await peakOver(host, 3_000)).toBeLessThan(MIN_RMS);
    expect(errors).toEqual([]);

    // Ctrl-C stops everything: no redis-server or mediasoup worker of this run is left.
    const pid = proc.pid!;
    await proc.stop(15_000);
    expect(readFileSync(proc.logFile, 'utf8')).toContain('amphi local mode stopped');
    const { execFileSync } = await import('node:child_process');
    const leftovers = execFileSync('ps', ['-eo', 'pid,ppid,args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(stateDir) || new RegExp(`^\\s*\\d+\\s+${pid}\\s`).test(l));
    expect(leftovers).toEqual([]);
  });
});
