// The operator's entry point: `node --import tsx operator/src/main.ts` (or the built JS).
// Config from the environment; SIGTERM/SIGINT → stop the controllers, release the lease, exit 0.
import { createLogger } from '../../common/src/logger.js';
import { ConfigError, loadConfig } from './config.js';
import { startManager } from './manager.js';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger('operator', { level: config.logLevel }).child({
    identity: config.identity,
  });
  const manager = await startManager(config, log);
  log.info({ healthPort: manager.healthPort, lease: config.lease }, 'operator started');

  let signalled = false;
  const shutdown = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down');
    void manager.stop();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  const reason = await manager.done;
  await manager.stop();
  if (reason === 'lost' && !signalled) {
    log.error('leader election lost: exiting so a fresh process campaigns again');
    return 1;
  }
  log.info('operator stopped');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`operator failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
