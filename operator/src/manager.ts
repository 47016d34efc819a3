// The operator process: health server, Lease leader election, and — only while leading — the
// controllers (AudioRoom; MediaRegion when its module is present). stop() ends leadership (the
// controllers drain, the lease is released) and closes everything.
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { NodeRegistry } from '../../common/src/contract/node-registry.js';
import { RoutingTable } from '../../common/src/contract/routing-table.js';
import type { Logger } from '../../common/src/logger.js';
import { HealthServer } from './runtime/health.js';
import { LeaderElector } from './runtime/leader-election.js';
import { createAudioRoomController } from './controllers/audio-room/controller.js';
import type { OperatorConfig } from './config.js';

/** What a controller module gives the manager. */
interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface MediaRegionModule {
  createMediaRegionController(deps: {
    kubeConfig: KubeConfig;
    registry: NodeRegistry;
    metrics: Registry;
    log: Logger;
    namespace?: string;
    resyncMs?: number;
    mediaPod?: OperatorConfig['mediaPod'];
  }): Runnable;
}

/**
 * The MediaRegion controller is built by another change; it is wired when its module exists
 * (operator/src/controllers/media-region/controller.ts exporting createMediaRegionController).
 */
async function loadMediaRegion(log: Logger): Promise<MediaRegionModule | undefined> {
  try {
    const path = './controllers/media-region/controller.js';
    const mod = (await import(path)) as Partial<MediaRegionModule>;
    if (typeof mod.createMediaRegionController === 'function') return mod as MediaRegionModule;
    log.warn('media-region module has no createMediaRegionController: MediaRegion controller off');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'MediaRegion controller not available yet: off');
  }
  return undefined;
}

export interface Manager {
  readonly identity: string;
  readonly healthPort: number;
  isLeader(): boolean;
  /** Resolves when leadership ends (stopped, or lost → the caller exits non-zero). */
  done: Promise<'stopped' | 'lost'>;
  stop(): Promise<void>;
}

export async function startManager(config: OperatorConfig, log: Logger): Promise<Manager> {
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromCluster();
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });

  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
  await redis.connect();
  const registry = new NodeRegistry(redis);
  const routing = new RoutingTable(redis);
  const mediaRegion = await loadMediaRegion(log);
  if (mediaRegion && !config.mediaPod.joinTokenSecret && !config.mediaPod.joinTokenPublicKeySecret)
    log.warn(
      'neither AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_NAME nor AMPHI_JOIN_TOKEN_SECRET_NAME is set: media pods get no JOIN_TOKEN_PUBLIC_KEY or JOIN_TOKEN_SECRET and will not start',
    );
  if (mediaRegion && config.mediaPod.joinTokenSecret && config.mediaPod.joinTokenPublicKeySecret)
    log.warn(
      'AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_NAME and AMPHI_JOIN_TOKEN_SECRET_NAME are both set: media pods get JOIN_TOKEN_PUBLIC_KEY only, the HS256 secret is ignored',
    );
  if (
    mediaRegion &&
    !config.mediaPod.redisUrlSecret &&
    /\/\/[^/@]*:[^/@]+@/.test(config.mediaPod.redisUrl)
  )
    log.warn(
      'the media pods’ Redis URL carries a password, which would be written into their StatefulSets: use $(REDIS_PASSWORD) with AMPHI_MEDIA_REDIS_PASSWORD_SECRET_NAME',
    );

  let running:
    { audioRoom: ReturnType<typeof createAudioRoomController>; others: Runnable[] } | undefined;
  const health = new HealthServer({ port: config.healthPort, registry: metrics })
    .addHealthzCheck('ping', () => true)
    .addReadyzCheck('redis', () => redis.status === 'ready')
    .addReadyzCheck('informers', () => {
      if (!running) return true; // a standby is ready: it waits for the lease
      const { rooms, regions } = running.audioRoom.informers;
      return rooms.hasSynced() && regions.hasSynced();
    });
  const healthPort = await health.start();

  let resolveDone!: (r: 'stopped' | 'lost') => void;
  const done = new Promise<'stopped' | 'lost'>((r) => (resolveDone = r));
  const elector = new LeaderElector({
    api: kubeConfig.makeApiClient(CoordinationV1Api),
    name: config.lease.name,
    namespace: config.lease.namespace,
    identity: config.identity,
    leaseDurationMs: config.lease.durationMs,
    renewDeadlineMs: config.lease.renewDeadlineMs,
    retryPeriodMs: config.lease.retryPeriodMs,
    registry: metrics,
    logger: log,
    onStartedLeading: async (signal) => {
      log.info({ identity: config.identity }, 'leading: starting controllers');
      const audioRoom = createAudioRoomController({
        kubeConfig,
        registry,
        routing,
        metrics,
        log,
        ...(config.namespace ? { namespace: config.namespace } : {}),
        resyncMs: config.resyncMs,
        heartbeatPollMs: config.heartbeatPollMs,
        nodeGraceMs: config.nodeGraceMs,
        minEdgeAgeMs: config.minEdgeAgeMs,
        identity: config.identity,
      });
      const others: Runnable[] = [];
      if (mediaRegion) {
        others.push(
          mediaRegion.createMediaRegionController({
            kubeConfig,
            registry,
            metrics,
            log,
            ...(config.namespace ? { namespace: config.namespace } : {}),
            resyncMs: config.resyncMs,
            mediaPod: config.mediaPod,
          }),
        );
      }
      running = { audioRoom, others };
      if (!signal.aborted) {
        await Promise.all([audioRoom.start(), ...others.map((c) => c.start())]);
        await new Promise<void>((r) => {
          if (signal.aborted) r();
          else signal.addEventListener('abort', () => r(), { once: true });
        });
      }
      log.info('leadership ending: stopping controllers');
      await Promise.all([audioRoom.stop(), ...others.map((c) => c.stop())]);
      running = undefined;
    },
    onStoppedLeading: (reason) => resolveDone(reason),
    onNewLeader: (leader) => log.info({ leader }, 'leader'),
  });
  const run = elector.run().then(() => resolveDone('stopped'));

  let stopping: Promise<void> | undefined;
  return {
    identity: config.identity,
    healthPort,
    isLeader: () => elector.isLeader(),
    done,
    stop() {
      stopping ??= (async () => {
        await elector.stop();
        await run;
        await health.stop();
        redis.disconnect();
      })();
      return stopping;
    },
  };
}
