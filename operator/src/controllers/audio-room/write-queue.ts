// Room writes with bounded concurrency and per-room exclusion: at most `concurrency` writes in
// flight overall, never two for the same room, and a room's writes run in the order they were
// queued (a later pass's write waits for the earlier one). Rooms do not wait for each other:
// a pass enqueues and moves on, the next pass need not wait for the slowest write.

interface Entry<T> {
  key: string;
  run: () => Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export class RoomWriteQueue {
  readonly #concurrency: number;
  /** Rooms with a write in flight. */
  readonly #busy = new Set<string>();
  /** Per room, the writes waiting (FIFO). */
  readonly #waiting = new Map<string, Entry<unknown>[]>();
  /** Rooms with waiting writes and none in flight, in the order they became ready. */
  readonly #ready: string[] = [];
  /** The last write queued per room (settles once the room's queue up to it is done). */
  readonly #last = new Map<string, Promise<unknown>>();
  #running = 0;
  #idle: Array<() => void> = [];

  constructor(concurrency: number) {
    this.#concurrency = Math.max(1, concurrency);
  }

  /** Queues a write for `key`; resolves or rejects with it. */
  enqueue<T>(key: string, run: () => Promise<T>): Promise<T> {
    const done = new Promise<T>((resolve, reject) => {
      const entry: Entry<T> = { key, run, resolve, reject };
      let list = this.#waiting.get(key);
      if (list === undefined) {
        this.#waiting.set(key, (list = []));
        if (!this.#busy.has(key)) this.#ready.push(key);
      }
      list.push(entry as Entry<unknown>);
    });
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.#last.set(key, settled);
    void settled.then(() => {
      if (this.#last.get(key) === settled) this.#last.delete(key);
    });
    this.#pump();
    return done;
  }

  /** Settles when every write queued so far for `key` is done (at once when none). */
  settled(key: string): Promise<void> | undefined {
    return this.#last.get(key) as Promise<void> | undefined;
  }

  /** Whether `key` has a write queued or in flight. */
  has(key: string): boolean {
    return this.#busy.has(key) || this.#waiting.has(key);
  }

  get inFlight(): number {
    return this.#running;
  }

  get queued(): number {
    let n = 0;
    for (const list of this.#waiting.values()) n += list.length;
    return n;
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#waiting.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift()!;
      const list = this.#waiting.get(key)!;
      const entry = list.shift()!;
      if (list.length === 0) this.#waiting.delete(key);
      this.#busy.add(key);
      this.#running++;
      void this.#start(entry);
    }
    if (this.#running === 0 && this.#waiting.size === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const r of idle) r();
    }
  }

  async #start(entry: Entry<unknown>): Promise<void> {
    try {
      entry.resolve(await entry.run());
    } catch (err) {
      entry.reject(err);
    } finally {
      this.#running--;
      this.#busy.delete(entry.key);
      if (this.#waiting.has(entry.key)) this.#ready.push(entry.key);
      this.#pump();
    }
  }
}
