// Local mode end to end: `bash scripts/start.sh` as a child process on free ports, two headless
// Chromium pages (fake microphone) on the page it serves. The host creates a room and speaks; the
// listener opens the share link and hears the tone (WebAudio RMS above a threshold); hand raise →
// invitation → the listener speaks; the host's mute stops its audio. Prints join-to-first-audio.
// The page's displays, read from its DOM: the active speaker (by name) and the listener count as
// listeners join, leave, close their tab and go on stage.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../env/chromium.js';
import { openAs, peakOver, startLocalMode, type LocalMode } from '../env/local-mode.js';
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

describe('local mode (npm start) with Chromium pages', () => {
  let local: LocalMode;
  let browser: LaunchedChromium | undefined;

  beforeAll(async () => {
    // A short presence grace: a closed tab leaves the control API's room within the test.
    local = await startLocalMode({ env: { PRESENCE_GRACE_MS: '1000' } });
    browser = await launchChromium({ extraArgs: ['--autoplay-policy=no-user-gesture-required'] });
  });

  afterAll(async () => {
    await browser?.close();
    await local?.stop();
  });

  // What the page shows, read from the DOM as a person would see it.
  const shown = async (page: Page, selector: string): Promise<string> =>
    ((await page.textContent(selector)) ?? '').trim();
  const shows = async (page: Page, selector: string, expected: string, what: string) => {
    let last = '';
    await waitFor(async () => (last = await shown(page, selector)) === expected, {
      what: `${what} (${selector} = ${JSON.stringify(expected)})`,
      timeoutMs: 30_000,
      intervalMs: 250,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; it shows ${JSON.stringify(last)}`);
    });
  };

  /**
   * After `shows`: the display keeps the value through the next updates (local mode sends counts
   * every second and the page polls the room every second): every change the page makes to the
   * element over 3 s, seen by a MutationObserver, leaves it at `expected`. Two sources that
   * disagree would flip it back and forth.
   */
  const stays = async (page: Page, selector: string, expected: string, what: string) => {
    await shows(page, selector, expected, what);
    const values = await page.evaluate(
      async ([sel, ms]) => {
        const el = document.querySelector(sel as string)!;
        const seen: string[] = [];
        const observer = new MutationObserver(() => seen.push((el.textContent ?? '').trim()));
        observer.observe(el, { childList: true, characterData: true, subtree: true });
        await new Promise((r) => setTimeout(r, ms as number));
        observer.disconnect();
        seen.push((el.textContent ?? '').trim());
        return seen;
      },
      [selector, 3_000] as const,
    );
    expect({ what, values: [...new Set(values)] }).toEqual({ what, values: [expected] });
  };

  test('the page shows the active speaker and the listener count as listeners come and go', async () => {
    const errors: string[] = [];
    const open = (name: string, address: string): Promise<Page> =>
      openAs(browser!.context, name, address, errors);
    const host = await open('Ada', local.url);
    await host.click('#create');
    await host.waitForSelector('#mute:not([hidden])', { timeout: 30_000 });
    const link = (await host.getAttribute('#share', 'href'))!;
    // The host speaks alone: every page names her as the active speaker.
    await shows(host, '#active', 'Ada', 'the host sees herself speaking');
    await shows(host, '#listeners', '0', 'no listener yet');

    const first = await open('Bob', link);
    await first.click('#join');
    await shows(first, '#active', 'Ada', 'a listener sees who is speaking');
    for (const page of [host, first]) await stays(page, '#listeners', '1', 'one listener');

    const second = await open('Cy', link);
    await second.click('#join');
    for (const page of [host, first, second])
      await shows(page, '#listeners', '2', 'a second listener joined');
    await shows(second, '#active', 'Ada', 'a late listener sees who is speaking');

    // Leaving with the button, then closing the tab without leaving: the count follows both.
    await second.click('#leave');
    for (const page of [host, first]) await stays(page, '#listeners', '1', 'a listener left');
    await second.close();

    // Bob comes on stage and speaks; Ada mutes: the active speaker becomes Bob on both pages.
    await first.click('#raise');
    await host.waitForSelector('button.invite', { timeout: 15_000 });
    await host.click('button.invite');
    await first.waitForSelector('#accept:not([hidden])', { timeout: 15_000 });
    await first.click('#accept');
    await first.waitForSelector('#mute:not([hidden])', { timeout: 30_000 });
    await shows(host, '#listeners', '0', 'the listener went on stage');
    await host.click('#mute');
    for (const page of [host, first]) await shows(page, '#active', 'Bob', 'the new speaker');

    // A listener who closes the tab without leaving drops out of the count too.
    const third = await open('Dee', link);
    await third.click('#join');
    for (const page of [host, first, third])
      await shows(page, '#listeners', '1', 'a listener joined');
    await third.close();
    for (const page of [host, first]) await stays(page, '#listeners', '0', 'the tab was closed');
    // The control API lets Dee go too: the media pod reported her session's end and, the grace
    // over, the presence consumer removed her (Cy left with the button; Ada and Bob remain).
    const roomId = new URL(link).searchParams.get('room')!;
    const session = (await (
      await fetch(new URL('/local/session', local.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'probe' }),
      })
    ).json()) as { token: string };
    const counts = async () =>
      (
        (await (
          await fetch(new URL(`/v1/rooms/${encodeURIComponent(roomId)}`, local.url), {
            headers: { authorization: `Bearer ${session.token}` },
          })
        ).json()) as { counts: { participants: number; listeners: number } }
      ).counts;
    let last = await counts();
    await waitFor(async () => (last = await counts()).participants === 2, {
      what: 'the control API to drop the listener whose tab closed',
      timeoutMs: 20_000,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; counts ${JSON.stringify(last)}`);
    });
    expect(last).toMatchObject({ participants: 2, listeners: 0 });
    // Everything above went through join tokens as in production: signed with an Ed25519 key the
    // media pod only knows the public half of.
    const probe = (await (
      await fetch(new URL(`/v1/rooms/${encodeURIComponent(roomId)}/join`, local.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as { token: string };
    const header = JSON.parse(Buffer.from(probe.token.split('.')[0]!, 'base64url').toString());
    expect(header).toMatchObject({ alg: 'EdDSA' });
    expect(errors).toEqual([]);
    await host.close();
    await first.close();
  });

  test('speak, listen, hand → stage → speak, mute; clean stop', async () => {
    const errors: string[] = [];
    const host = await openAs(browser!.context, 'Host', local.url, errors);
    await host.click('#create');
    await host.waitForFunction(
      () => (globalThis as unknown as { amphi: Amphi }).amphi.state === 'connected',
      undefined,
      { timeout: 30_000 },
    );
    const link = await host.getAttribute('#share', 'href');
    expect(link).toContain('/?room=');

    const listener = await openAs(browser!.context, 'Lis', link!, errors);
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
    const pid = local.process.pid!;
    const stateDir = local.stateDir;
    await local.stop();
    expect(readFileSync(local.process.logFile, 'utf8')).toContain('amphi local mode stopped');
    const { execFileSync } = await import('node:child_process');
    const leftovers = execFileSync('ps', ['-eo', 'pid,ppid,args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(stateDir) || new RegExp(`^\\s*\\d+\\s+${pid}\\s`).test(l));
    expect(leftovers).toEqual([]);
  });
});
