// Headless Chromium from Debian (package chromium), driven by playwright-core, for WebRTC tests.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { NotProvisionedError } from './errors.js';

/** Debian's launcher script; AMPHI_CHROMIUM overrides it. */
export function chromiumPath(): string {
  const path = process.env.AMPHI_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) throw new NotProvisionedError('Chromium (Debian package chromium)', path);
  return path;
}

/**
 * Headless, no network chatter of its own (no QUIC, updates, sync or first-run work), and a fake
 * microphone and camera that getUserMedia grants without asking.
 */
export const chromiumFlags: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

export interface LaunchedChromium {
  /** The browser's only context (a persistent one, on the fresh profile below). */
  context: BrowserContext;
  userDataDir: string;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

export interface LaunchChromiumOptions {
  /** More command-line flags, after chromiumFlags. */
  extraArgs?: readonly string[];
}

/** Starts a headless Chromium on a fresh user-data-dir. */
export async function launchChromium(
  options: LaunchChromiumOptions = {},
): Promise<LaunchedChromium> {
  const executablePath = chromiumPath();
  const userDataDir = mkdtempSync(join(tmpdir(), 'amphi-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [...chromiumFlags, ...(options.extraArgs ?? [])],
      timeout: 60_000,
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    userDataDir,
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}
