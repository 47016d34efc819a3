// Local mode (`npm start` = scripts/start.sh) as a child process on free ports, for the e2e tests
// and the join bench, plus what they do with its page in Chromium.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ManagedProcess } from './managed-process.js';
import { repoRoot } from './paths.js';
import { waitFor } from './wait.js';

export interface LocalModeOptions {
  /** ManagedProcess name (log file name). Default 'local-mode'. */
  name?: string;
  /** MEDIA_WORKERS. Default 2. */
  workers?: number;
  /** AMPHI_STATE_DIR; default a temporary directory, removed by stop(). */
  stateDir?: string;
  /** Where the process log goes (ManagedProcess logDir). */
  logDir?: string;
  /** Extra environment. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the page's URL. Default 90 s. */
  timeoutMs?: number;
}

export interface LocalMode {
  /** The page, as printed in `AMPHI_LOCAL_URL=`. */
  url: string;
  process: ManagedProcess;
  /** AMPHI_STATE_DIR (Redis and the durable store live under it). */
  stateDir: string;
  /** The first capture group of `pattern` in the log (pino JSON), e.g. the pod's signalling URL. */
  logged(pattern: RegExp): string;
  /** SIGTERM, then SIGKILL after 15 s; removes the temporary state directory. */
  stop(): Promise<void>;
}

export async function startLocalMode(options: LocalModeOptions = {}): Promise<LocalMode> {
  const ownStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'amphi-local-'));
  const proc = new ManagedProcess({
    name: options.name ?? 'local-mode',
    command: 'bash',
    args: [join(repoRoot, 'scripts/start.sh')],
    cwd: repoRoot,
    ...(options.logDir ? { logDir: options.logDir } : {}),
    env: {
      ...process.env,
      ...options.env,
      AMPHI_PORT: '0',
      AMPHI_STATE_DIR: stateDir,
      MEDIA_WORKERS: String(options.workers ?? 2),
    },
  });
  const stop = async (): Promise<void> => {
    await proc.stop(15_000);
    if (ownStateDir) rmSync(stateDir, { recursive: true, force: true });
  };
  const log = (): string => readFileSync(proc.logFile, 'utf8');
  let url = '';
  try {
    await waitFor(
      () => {
        const m = /AMPHI_LOCAL_URL=(\S+)/.exec(log());
        if (m) url = m[1]!;
        return m !== null;
      },
      {
        what: 'local mode to print its URL',
        timeoutMs: options.timeoutMs ?? 90_000,
        intervalMs: 200,
        abortIf: () => proc.exitReason(),
      },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    process: proc,
    stateDir,
    logged(pattern) {
      const m = pattern.exec(log());
      if (!m) throw new Error(`local mode did not log ${pattern}`);
      return m[1]!;
    },
    stop,
  };
}

/** Opens the local-mode page as `name` (typed into the name field); page errors go to `errors`. */
export async function openAs(
  context: BrowserContext,
  name: string,
  address: string,
  errors: string[],
): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  await page.goto(address);
  await page.fill('#name', name);
  return page;
}

/** The page's peak incoming audio level (RMS) over the next `ms` (window.amphi.peakSince). */
export async function peakOver(page: Page, ms: number): Promise<number> {
  const since = await page.evaluate(() => performance.now());
  await new Promise((r) => setTimeout(r, ms));
  return page.evaluate(
    (t) =>
      (globalThis as unknown as { amphi: { peakSince(t: number): number } }).amphi.peakSince(t),
    since,
  );
}
