// The worker pool: one mediasoup worker per core, each with one WebRtcServer on one UDP and one TCP
// port (basePort + index). A dead worker is noticed, logged, counted and reported, never silent.
import type * as Mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from '../../common/src/logger.js';
import type { MediaPodConfig } from './config.js';
import type { MediaMetrics } from './metrics.js';

export interface PoolWorker {
  index: number;
  worker: types.Worker;
  webRtcServer: types.WebRtcServer;
  port: number;
  pid: number;
  alive: boolean;
  /** CPU ms (user + system) at the last sample, for the delta. */
  lastCpuMs: number;
  lastSampleAt: number;
  cpuPercent: number;
}

export class WorkerPool {
  readonly workers: PoolWorker[] = [];
  /** Called once per worker death (the shard host marks its shards failed). */
  onDeath: (worker: PoolWorker, error: Error) => void = () => {};

  constructor(
    private readonly config: MediaPodConfig,
    private readonly log: Logger,
    private readonly metrics: MediaMetrics,
  ) {}

  async start(mediasoup: typeof Mediasoup): Promise<void> {
    for (let index = 0; index < this.config.workers; index += 1) {
      const worker = await mediasoup.createWorker({
        logLevel: this.config.workerLogLevel,
        appData: { index },
      });
      const port = this.config.basePort + index;
      let webRtcServer: types.WebRtcServer;
      try {
        webRtcServer = await worker.createWebRtcServer({
          listenInfos: [
            {
              protocol: 'udp',
              ip: this.config.listenIp,
              announcedAddress: this.config.announcedAddress,
              port,
            },
            {
              protocol: 'tcp',
              ip: this.config.listenIp,
              announcedAddress: this.config.announcedAddress,
              port,
            },
          ],
        });
      } catch (error) {
        worker.close();
        throw new Error(
          `worker ${index}: cannot listen on UDP+TCP ${this.config.listenIp}:${port}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const entry: PoolWorker = {
        index,
        worker,
        webRtcServer,
        port,
        pid: worker.pid,
        alive: true,
        lastCpuMs: 0,
        lastSampleAt: Date.now(),
        cpuPercent: 0,
      };
      worker.on('died', (error: Error) => {
        entry.alive = false;
        entry.cpuPercent = 0;
        this.metrics.workerDeaths.inc({ worker: String(index) });
        this.metrics.workersAlive.set(this.aliveCount());
        this.log.error(
          { worker: index, pid: entry.pid, err: error.message },
          'mediasoup worker died; its shards are failed and reported',
        );
        this.onDeath(entry, error);
      });
      this.workers.push(entry);
      this.log.info({ worker: index, pid: worker.pid, port }, 'mediasoup worker started');
    }
    this.metrics.workersAlive.set(this.aliveCount());
  }

  aliveCount(): number {
    return this.workers.filter((w) => w.alive).length;
  }

  get(index: number): PoolWorker | undefined {
    return this.workers[index];
  }

  /** Samples every live worker's CPU since the previous sample (percent of one core). */
  async sampleCpu(): Promise<void> {
    await Promise.all(
      this.workers.map(async (entry) => {
        if (!entry.alive) return;
        try {
          const usage = await entry.worker.getResourceUsage();
          const now = Date.now();
          const cpuMs = usage.ru_utime + usage.ru_stime;
          const elapsed = now - entry.lastSampleAt;
          if (entry.lastCpuMs > 0 && elapsed > 0)
            entry.cpuPercent = Math.max(0, ((cpuMs - entry.lastCpuMs) / elapsed) * 100);
          entry.lastCpuMs = cpuMs;
          entry.lastSampleAt = now;
          this.metrics.workerCpu.set({ worker: String(entry.index) }, entry.cpuPercent);
        } catch (error) {
          if (entry.alive)
            this.log.warn({ worker: entry.index, err: (error as Error).message }, 'no CPU sample');
        }
      }),
    );
  }

  close(): void {
    for (const entry of this.workers) {
      entry.alive = false;
      entry.worker.close();
    }
  }
}
