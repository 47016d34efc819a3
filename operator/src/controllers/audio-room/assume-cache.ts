// kube-scheduler's assume cache: after a status write, the written object is "assumed" until the
// informer shows that resourceVersion (or a later one), so a pass that runs before the watch
// event arrives sees the shards just placed and never books the same headroom twice.
import { roomIdOf } from './snapshot.js';
import type { AudioRoom } from './types.js';

function rv(obj: AudioRoom | undefined): bigint {
  try {
    return BigInt(obj?.metadata.resourceVersion ?? '0');
  } catch {
    return 0n;
  }
}

export class AssumeCache {
  readonly #assumed = new Map<string, AudioRoom>();

  /** Records what a write returned. */
  assume(obj: AudioRoom): void {
    const id = roomIdOf(obj);
    const known = this.#assumed.get(id);
    if (known === undefined || rv(obj) >= rv(known)) this.#assumed.set(id, obj);
  }

  forget(id: string): void {
    this.#assumed.delete(id);
  }

  /** The newer of the informer's object and the assumed one (dropping a caught-up assumption). */
  latest(id: string, informed: AudioRoom | undefined): AudioRoom | undefined {
    const assumed = this.#assumed.get(id);
    if (assumed === undefined) return informed;
    if (informed === undefined) return undefined; // deleted: the informer knows best
    if (rv(informed) >= rv(assumed)) {
      this.#assumed.delete(id);
      return informed;
    }
    return assumed;
  }

  get size(): number {
    return this.#assumed.size;
  }
}
