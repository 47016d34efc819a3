// Reaps any test-bed process a crashed or aborted suite left behind (each runs in its own group).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Jest loads global hooks without its module mapper, so this file imports no sibling .ts module;
// the directory rule is the one in managed-process.ts runDir().
const runDir = (): string => process.env.AMPHI_RUN_DIR ?? join(tmpdir(), 'amphi-testbed');

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The parent of a live process; undefined when it is gone or a zombie. */
function parentPid(pid: number): number | undefined {
  // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (!fields || fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return Number(fields[1]);
}

/** A process started by this jest run (in band or by one of its workers), or by a run that died. */
function ownedByUsOrOrphaned(owner: number): boolean {
  if (!Number.isInteger(owner) || owner <= 1) return true; // unknown owner: treat as leftover
  if (owner === process.pid) return true;
  const ownerParent = parentPid(owner);
  if (ownerParent === undefined) return true; // owner is gone
  return ownerParent === process.pid;
}

/**
 * Lets the jest process end without Node's environment teardown. In that teardown the finalizer of
 * @roamhq/wrtc 0.10's RTCAudioSource unrefs an already deleted napi reference
 * (PeerConnectionFactory::Release -> napi_reference_unref) and the process dies with SIGSEGV after
 * every test passed (node-webrtc/node-webrtc#636, still in the WonderInventions fork). process.exit()
 * from an 'exit' listener exits at once, before that teardown. It is added on 'beforeExit' so that
 * it runs after jest's own 'exit' listener, which sets process.exitCode; and 'beforeExit' only
 * comes once the event loop is empty, so leaked handles still show as a run that does not end.
 */
function exitWithoutEnvironmentTeardown(): void {
  process.once('beforeExit', () => process.once('exit', () => process.exit()));
}

export default function globalTeardown(): void {
  exitWithoutEnvironmentTeardown();
  const pidDir = join(runDir(), 'pids');
  let entries: string[];
  try {
    entries = readdirSync(pidDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    const [recorded = '', owner = ''] = (readOrUndefined(join(pidDir, entry)) ?? '').split('\n');
    if (!ownedByUsOrOrphaned(Number(owner))) continue; // a concurrent run's live process
    rmSync(join(pidDir, entry), { force: true });
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const cmdline = readOrUndefined(`/proc/${pid}/cmdline`)?.split('\0')[0];
    // Only our process: it may be gone, or its pid may have been reused.
    if (cmdline === undefined || cmdline !== recorded.trim()) continue;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    console.warn(`amphi test bed: reaped leftover process ${pid} (${recorded})`);
  }
}
