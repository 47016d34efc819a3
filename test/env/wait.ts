import { setTimeout as sleep } from 'node:timers/promises';
import { TestBedError } from './errors.js';

export interface WaitOptions {
  /** What we wait for, for the error message. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Checked every round: a failure here (e.g. the process exited) ends the wait at once. */
  abortIf?: () => string | undefined;
}

/** Polls `probe` until it returns a value other than undefined/false, or throws after the timeout. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = options.abortIf?.();
    if (aborted) throw new TestBedError(`${options.what}: ${aborted}`);
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new TestBedError(
        `timed out after ${options.timeoutMs} ms waiting for ${options.what}${cause}`,
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}
