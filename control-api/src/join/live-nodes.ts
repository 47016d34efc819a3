// The node registry as the join path reads it: cached for a fraction of the heartbeat interval, so a
// burst of joins costs Redis one registry read, not one per join.
import type { NodeHeartbeat, NodeRegistry } from '../../../common/src/contract/index.js';

export class LiveNodesCache {
  #value: { at: number; nodes: Promise<NodeHeartbeat[]> } | undefined;
  constructor(
    private readonly registry: NodeRegistry,
    private readonly maxAgeMs = 250,
  ) {}

  get(now = Date.now()): Promise<NodeHeartbeat[]> {
    if (this.#value && now - this.#value.at < this.maxAgeMs) return this.#value.nodes;
    const nodes = this.registry.live(now).then((live) => live.nodes);
    this.#value = { at: now, nodes };
    nodes.catch(() => {
      if (this.#value?.nodes === nodes) this.#value = undefined;
    });
    return nodes;
  }
}
