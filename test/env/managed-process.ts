// A server process owned by a test: own process group, log file, registered for clean-up.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { TestBedError } from './errors.js';

/** Where live test-bed processes are recorded, so a global teardown can reap leftovers. */
export function runDir(): string {
  return process.env.AMPHI_RUN_DIR ?? join(tmpdir(), 'amphi-testbed');
}

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Directory for `<name>.log`; defaults to the run directory. */
  logDir?: string;
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #pidFile: string;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly #exited: Promise<void>;

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    const logDir = options.logDir ?? join(runDir(), 'logs');
    mkdirSync(logDir, { recursive: true });
    this.logFile = join(logDir, `${options.name}.log`);
    const fd = openSync(this.logFile, 'a');
    try {
      this.#child = spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['ignore', fd, fd],
        // Own process group: stop() signals the whole tree (wrappers, JVM children).
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    this.#exited = new Promise((resolveExit) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        rmSync(this.#pidFile, { force: true });
        resolveExit();
      });
    });
    this.#child.once('error', (error) => {
      this.#exit = { code: -1, signal: null };
      this.spawnError = error;
    });
    const pidDir = join(runDir(), 'pids');
    mkdirSync(pidDir, { recursive: true });
    this.#pidFile = join(pidDir, String(this.#child.pid ?? `failed-${options.name}`));
    // The owner pid lets a teardown tell our leftovers from a concurrent run's live processes.
    if (this.#child.pid) writeFileSync(this.#pidFile, `${options.command}\n${process.pid}\n`);
  }

  spawnError: Error | undefined;

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Why the process is gone, or undefined while it runs. For `waitFor({ abortIf })`. */
  exitReason(): string | undefined {
    if (this.spawnError) return `${this.name} could not start: ${this.spawnError.message}`;
    if (!this.#exit) return undefined;
    const how = this.#exit.signal ? `signal ${this.#exit.signal}` : `code ${this.#exit.code}`;
    return `${this.name} exited with ${how}; last log lines:\n${this.logTail()}`;
  }

  logTail(lines = 25): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  get running(): boolean {
    return this.#exit === undefined && this.spawnError === undefined;
  }

  /** SIGTERM to the group, then SIGKILL after `graceMs`. Resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running || !this.#child.pid) return;
    this.#signalGroup('SIGTERM');
    const timer = setTimeout(() => this.#signalGroup('SIGKILL'), graceMs);
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
    // Children that ignored SIGTERM in the group go too.
    this.#signalGroup('SIGKILL');
  }

  /** Abrupt death, for failure tests. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.#signalGroup('SIGKILL');
    await this.#exited;
  }

  async waitForExit(timeoutMs: number): Promise<void> {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new TestBedError(`${this.name} did not exit in ${timeoutMs} ms`)),
        timeoutMs,
      ).unref(),
    );
    await Promise.race([this.#exited, timeout]);
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (!pid) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Waits for the 'exit' of an arbitrary child: used where tests spawn short-lived tools. */
export async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}
