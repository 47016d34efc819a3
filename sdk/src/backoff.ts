// Reconnect delays: exponential backoff with full jitter (a random delay in [0, min(cap, base·2^n)]).
// Without jitter every client of a room that lost its pod comes back in the same instant and the
// herd knocks the next pod over (livekit client-sdk-js #1852: 658 listeners down to 6 in 30 s).

export interface BackoffOptions {
  /** First ceiling, ms. Default 250. */
  baseMs?: number;
  /** Largest ceiling, ms. Default 15 000. */
  maxMs?: number;
}

/** The delay before retry number `attempt` (0-based); never below `floorMs` (a server's hint). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  floorMs = 0,
  random: () => number = Math.random,
): number {
  const base = options.baseMs ?? 250;
  const max = options.maxMs ?? 15_000;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.max(floorMs, Math.round(random() * ceiling));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
