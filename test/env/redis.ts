// A real Redis for tests: Debian's redis-server on loopback, a free port, no persistence.
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { NotProvisionedError } from './errors.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

const HOST = '127.0.0.1';

export interface RedisOptions {
  /** How long to wait for PING to answer. Default 15 s. */
  startTimeoutMs?: number;
  /** More `--name value` configuration, e.g. ['--maxmemory', '64mb']. */
  extraArgs?: readonly string[];
}

export interface RedisHandle {
  host: string;
  port: number;
  /** `redis://127.0.0.1:<port>`, for ioredis. */
  url: string;
  process: ManagedProcess;
  /** SIGTERM (SIGKILL after 5 s) and removal of the working directory. */
  stop(): Promise<void>;
}

/** Path of Debian's redis-server (package redis-server, listed in provision/apt-packages.txt). */
export function redisServerBin(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new NotProvisionedError(
    'redis-server (Debian package redis-server)',
    '/usr/bin/redis-server',
  );
}

/** True once the server answers PING with +PONG (it says -LOADING while starting). */
function pingAnswers(port: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = createConnection({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

/** Starts redis-server on 127.0.0.1 and resolves once it answers PING. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisHandle> {
  const command = redisServerBin();
  const port = await freePort();
  const workDir = mkdtempSync(join(tmpdir(), 'amphi-redis-'));
  const args = [
    '--bind',
    HOST,
    '--port',
    String(port),
    '--protected-mode',
    'yes',
    '--daemonize',
    'no',
    // No persistence: no RDB snapshots, no AOF; the working directory is throwaway anyway.
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    workDir,
    // Log to stdout, i.e. the ManagedProcess log.
    '--logfile',
    '',
    ...(options.extraArgs ?? []),
  ];
  const proc = new ManagedProcess({ name: `redis-${port}`, command, args, cwd: workDir });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await proc.stop(5_000);
      } finally {
        rmSync(workDir, { recursive: true, force: true });
      }
    })();
    return stopping;
  };
  try {
    await waitFor(() => pingAnswers(port), {
      what: `redis-server to answer PING on ${HOST}:${port}`,
      timeoutMs: options.startTimeoutMs ?? 15_000,
      intervalMs: 50,
      abortIf: () => proc.exitReason(),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { host: HOST, port, url: `redis://${HOST}:${port}`, process: proc, stop };
}
