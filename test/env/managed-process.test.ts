import { afterEach, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import globalTeardown from './global-teardown.js';
import { ManagedProcess } from './managed-process.js';
import { waitFor } from './wait.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('ManagedProcess', () => {
  const previousRunDir = process.env.AMPHI_RUN_DIR;
  let dir = '';

  afterEach(() => {
    process.env.AMPHI_RUN_DIR = previousRunDir;
    rmSync(dir, { recursive: true, force: true });
  });

  function useTempRunDir(): void {
    dir = mkdtempSync(join(tmpdir(), 'amphi-mp-'));
    process.env.AMPHI_RUN_DIR = dir;
  }

  test('stop() ends the whole process group, grandchildren included', async () => {
    useTempRunDir();
    // The shell starts a grandchild that ignores SIGTERM; the group kill must still end it.
    const proc = new ManagedProcess({
      name: 'tree',
      command: 'bash',
      args: ['-c', 'bash -c \'trap "" TERM; echo $$ > grandchild; sleep 60\' & wait'],
      cwd: dir,
    });
    const grandchildFile = join(dir, 'grandchild');
    const grandchild = await waitFor(
      () => Number(readFileSync(grandchildFile, 'utf8')) || undefined,
      { what: 'grandchild pid', timeoutMs: 5_000 },
    );
    expect(alive(grandchild)).toBe(true);
    await proc.stop(500);
    await waitFor(() => !alive(grandchild), { what: 'grandchild to die', timeoutMs: 5_000 });
    expect(proc.running).toBe(false);
    expect(readdirSync(join(dir, 'pids'))).toEqual([]);
  });

  test('exitReason() names the exit and shows the log tail', async () => {
    useTempRunDir();
    const proc = new ManagedProcess({
      name: 'failing',
      command: 'bash',
      args: ['-c', 'echo "bad config: port" >&2; exit 3'],
    });
    const reason = await waitFor(() => proc.exitReason(), { what: 'exit', timeoutMs: 5_000 });
    expect(reason).toContain('failing exited with code 3');
    expect(reason).toContain('bad config: port');
  });

  test('a missing executable is reported, not thrown from an event', async () => {
    useTempRunDir();
    const proc = new ManagedProcess({
      name: 'ghost',
      command: '/nonexistent/amphi-ghost',
      args: [],
    });
    const reason = await waitFor(() => proc.exitReason(), {
      what: 'spawn error',
      timeoutMs: 5_000,
    });
    expect(reason).toContain('ENOENT');
  });

  test('the global teardown reaps a leftover process', async () => {
    useTempRunDir();
    const proc = new ManagedProcess({ name: 'leftover', command: 'sleep', args: ['60'] });
    const pid = proc.pid!;
    expect(alive(pid)).toBe(true);
    globalTeardown();
    await waitFor(() => !alive(pid), { what: 'leftover to be reaped', timeoutMs: 5_000 });
  });

  test("the global teardown leaves a concurrent run's live processes alone", async () => {
    useTempRunDir();
    const proc = new ManagedProcess({ name: 'other-run', command: 'sleep', args: ['60'] });
    const pid = proc.pid!;
    // Pretend another, still running jest owns it: a live process that is not our child.
    const foreignOwner = Number(
      execFileSync('sh', ['-c', 'sleep 60 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' }),
    );
    try {
      writeFileSync(join(dir, 'pids', String(pid)), `sleep\n${foreignOwner}\n`);
      globalTeardown();
      expect(alive(pid)).toBe(true);
      expect(readdirSync(join(dir, 'pids'))).toEqual([String(pid)]);
      // Once that owner is gone, the process is a leftover like any other.
      process.kill(foreignOwner, 'SIGKILL');
      await waitFor(
        () => {
          globalTeardown();
          return !alive(pid);
        },
        { what: 'orphan to be reaped', timeoutMs: 5_000 },
      );
    } finally {
      await proc.kill();
      try {
        process.kill(foreignOwner, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
});
