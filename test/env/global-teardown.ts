// Reaps any test-bed process a crashed or aborted suite left behind (each runs in its own group).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Jest loads global hooks without its module mapper, so this file imports no sibling .ts module;
// the directory rule is the one in managed-process.ts runDir().
const runDir = (): string => process.env.AMPHI_RUN_DIR ?? join(tmpdir(), 'amphi-testbed');

export default function globalTeardown(): void {
  const pidDir = join(runDir(), 'pids');
  let entries: string[] = [];
  try {
    entries = readdirSync(pidDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    const recorded = readFileSync(join(pidDir, entry), 'utf8').trim();
    rmSync(join(pidDir, entry), { force: true });
    if (!Number.isInteger(pid) || pid <= 1) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    } catch {
      continue; // gone already
    }
    // Only our process: the pid may have been reused.
    if (cmdline !== recorded) continue;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    console.warn(`amphi test bed: reaped leftover process ${pid} (${recorded})`);
  }
}
