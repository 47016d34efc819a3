// Local mode's hot state: Debian's redis-server as a child process on a free loopback port, its data
// (append-only file) under the state directory, so rooms survive a restart of `npm start`.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeTcpPort } from './ports.js';

export class LocalRedisError extends Error {}

export function redisServerBin(): string {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin']);
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new LocalRedisError(
    'redis-server not found: install the Debian package redis-server ' +
      '(bash test/env/provision/apt.sh), or give REDIS_URL',
  );
}

export interface LocalRedis {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function startLocalRedis(stateDir: string, host = '127.0.0.1'): Promise<LocalRedis> {
  const dir = join(stateDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freeTcpPort(host);
  const log = openSync(join(stateDir, 'redis.log'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      redisServerBin(),
      [
        '--bind',
        host,
        '--port',
        String(port),
        '--protected-mode',
        'yes',
        '--daemonize',
        'no',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--save',
        '',
        '--logfile',
        '',
      ],
      // Own process group: a terminal's Ctrl-C reaches only local/main.ts, which stops Redis last.
      { stdio: ['ignore', log, log], detached: true },
    );
  } finally {
    closeSync(log);
  }
  let exited = false;
  const exit = once(child, 'exit').then(() => {
    exited = true;
  });
  const url = `redis://${host}:${port}`;
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exit;
    clearTimeout(timer);
  };
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: null });
  probe.on('error', () => {});
  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      if (exited) throw new LocalRedisError(`redis-server exited; see ${stateDir}/redis.log`);
      try {
        await probe.connect();
        // AOF loading answers LOADING: wait for PONG.
        if ((await probe.ping()) === 'PONG') break;
      } catch {
        probe.disconnect();
      }
      if (Date.now() > deadline)
        throw new LocalRedisError(`redis-server did not answer on ${url} within 15 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    probe.disconnect();
  }
  return { url, pid: child.pid, stop };
}
