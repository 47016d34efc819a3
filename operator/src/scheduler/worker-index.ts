// Workers of one zone sorted by headroom (then by a stable ordinal), so that best fit — the
// fullest worker that still has room for a shard — is a binary search instead of a scan.
// Updates are a remove and an insert (splice), cheap at a few hundred workers per zone.

export interface Indexed {
  /** Stable rank (node id, then worker index): the tie-breaker that makes results deterministic. */
  readonly ordinal: number;
  /** Units left under the budget. Change it only through WorkerIndex.update. */
  headroom: number;
}

/** Orders by headroom, then ordinal. */
export function compareFit(a: Indexed, b: Indexed): number {
  return a.headroom - b.headroom || a.ordinal - b.ordinal;
}

/** Which workers a query may return (an object, so hot paths allocate no closures). */
export interface WorkerFilter<W> {
  accepts(w: W): boolean;
}

export class WorkerIndex<W extends Indexed> {
  private readonly items: W[];

  constructor(items: Iterable<W> = []) {
    this.items = [...items].sort(compareFit);
  }

  get size(): number {
    return this.items.length;
  }

  /** First position whose (headroom, ordinal) is not below the given pair. */
  private lowerBound(headroom: number, ordinal: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const w = this.items[mid]!;
      if (w.headroom < headroom || (w.headroom === headroom && w.ordinal < ordinal)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(w: W): void {
    this.items.splice(this.lowerBound(w.headroom, w.ordinal), 0, w);
  }

  remove(w: W): boolean {
    const i = this.lowerBound(w.headroom, w.ordinal);
    if (this.items[i] !== w) return false;
    this.items.splice(i, 1);
    return true;
  }

  /** Sets a worker's headroom and moves it to its new place (one shift, no reallocation). */
  update(w: W, headroom: number): void {
    const items = this.items;
    let i = this.lowerBound(w.headroom, w.ordinal);
    w.headroom = headroom;
    if (items[i] !== w) return; // not indexed
    while (i > 0 && compareFit(items[i - 1]!, w) > 0) {
      items[i] = items[i - 1]!;
      i--;
    }
    while (i < items.length - 1 && compareFit(items[i + 1]!, w) < 0) {
      items[i] = items[i + 1]!;
      i++;
    }
    items[i] = w;
  }

  /**
   * Best fit: the worker with the least headroom that is still ≥ `need` and that `filter` accepts
   * (ties by ordinal). Rejected workers are skipped, so a room's own workers cost one step each.
   */
  bestFit(need: number, filter?: WorkerFilter<W>): W | undefined {
    for (let i = this.lowerBound(need, -Infinity); i < this.items.length; i++) {
      const w = this.items[i]!;
      if (filter === undefined || filter.accepts(w)) return w;
    }
    return undefined;
  }

  /** Workers in index order (tests, diagnostics). */
  *[Symbol.iterator](): Iterator<W> {
    yield* this.items;
  }
}
