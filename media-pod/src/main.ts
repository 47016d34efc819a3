// Entry point: `node --import tsx media-pod/src/main.ts`. Configuration from the environment (see
// media-pod/README.md); MEDIASOUP_WORKER_BIN must point at the worker built by worker-build/build.sh.
import { AnnounceError, kubeNodeReader, resolveNodeFacts } from './announce.js';
import { ConfigError, loadConfig, type MediaPodConfig } from './config.js';
import { MediaPod } from './pod.js';

async function main(): Promise<void> {
  let config: MediaPodConfig;
  let warnings: string[];
  try {
    ({ config, warnings } = await resolveNodeFacts(loadConfig(), kubeNodeReader()));
  } catch (error) {
    if (error instanceof ConfigError || error instanceof AnnounceError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const mediasoup = await import('mediasoup');
  const pod = new MediaPod(config);
  for (const warning of warnings) pod.log.warn(warning);
  pod.log.info(
    { policy: config.announcePolicy, announcedAddress: config.announcedAddress, zone: config.zone },
    'announce address resolved',
  );
  const onSignal = (signal: string): void => {
    pod.log.info({ signal }, 'signal: draining');
    if (pod.draining) void pod.stop();
    else
      pod.drain({
        reason: signal,
        requestedAt: Date.now(),
        deadline: Date.now() + config.drainDeadlineMs,
      });
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    await pod.start(mediasoup);
  } catch (error) {
    pod.log.fatal({ err: (error as Error).message }, 'media pod failed to start');
    await pod.stop();
    process.exit(1);
  }
  await pod.stopped;
  process.exit(0);
}

void main();
