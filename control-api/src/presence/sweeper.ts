// The lost-pod sweep: a media pod that died without a word (SIGKILL, lost node, scaled away before
// it could drain) reported none of its sessions as ended, so their participants would stay in their
// rooms. Every replica looks, each `intervalMs`, for pods that hold recorded sessions but have no
// live heartbeat; once one has been missing for `lostAfterMs` (far beyond a heartbeat hiccup), its
// sessions are reported ended in one atomic script (a second replica finds none), and the presence
// consumer removes the participants after its grace unless they rejoined elsewhere.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { PeriodicTask } from '../../../common/src/periodic.js';
import type { NodeRegistry } from '../../../common/src/contract/node-registry.js';
import {
  nodesWithSessions,
  reportAllSessionsEnded,
} from '../../../common/src/contract/presence.js';

export interface LostPodSweepOptions {
  /** A pod missing from the registry this long is gone. Default 30 s (heartbeat TTL: 3 s). */
  lostAfterMs?: number;
  /** How often to look. Default 5 s. */
  intervalMs?: number;
}

export class LostPodSweeper {
  readonly #missingSince = new Map<string, number>();
  readonly #lostAfterMs: number;
  readonly #task: PeriodicTask;
  /** Sessions reported ended on behalf of lost pods. */
  swept = 0;

  constructor(
    private readonly redis: Redis,
    private readonly registry: NodeRegistry,
    private readonly logger: Logger,
    options: LostPodSweepOptions = {},
  ) {
    this.#lostAfterMs = options.lostAfterMs ?? 30_000;
    this.#task = new PeriodicTask(
      'lost-pod sweep',
      options.intervalMs ?? 5_000,
      () => this.pass(),
      logger,
    );
  }

  start(): void {
    this.#task.start();
  }

  stop(): Promise<void> {
    return this.#task.stop();
  }

  /** One look; returns the nodes whose sessions it reported ended. */
  async pass(now = Date.now()): Promise<string[]> {
    const [holding, live] = await Promise.all([
      nodesWithSessions(this.redis),
      this.registry.live(now),
    ]);
    const alive = new Set([
      ...live.nodes.map((n) => n.node),
      // A heartbeat that fails validation is still a pod that beats.
      ...live.invalid.map((n) => n.node),
    ]);
    for (const node of this.#missingSince.keys())
      if (alive.has(node) || !holding.includes(node)) this.#missingSince.delete(node);
    const swept: string[] = [];
    for (const node of holding) {
      if (alive.has(node)) continue;
      const since = this.#missingSince.get(node) ?? now;
      this.#missingSince.set(node, since);
      if (now - since < this.#lostAfterMs) continue;
      const sessions = await reportAllSessionsEnded(this.redis, node, 'media pod lost');
      this.#missingSince.delete(node);
      this.swept += sessions;
      swept.push(node);
      if (sessions > 0)
        this.logger.warn(
          { node, sessions, missingMs: now - since },
          'media pod lost: its sessions are reported ended',
        );
    }
    return swept;
  }
}
