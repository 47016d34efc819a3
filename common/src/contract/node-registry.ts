// The node registry in Redis: media pods beat into it, the operator and the control API read who is
// alive and how loaded. A beat is one Lua call that also returns any drain request for the node.
import type { Redis } from 'ioredis';
import { DecodeError, decodeJson } from './codec.js';
import { DrainRequest, HEARTBEAT_TTL_MS, NodeHeartbeat } from './heartbeat.js';
import { registryKeys } from './keys.js';

// KEYS: nodes zset, node key, drain key, heartbeats channel. ARGV: node id, json, ttl ms, now ms.
const BEAT = `
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], tonumber(ARGV[4]) + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
redis.call('PUBLISH', KEYS[4], ARGV[1])
return redis.call('GET', KEYS[3])
`;

// KEYS: nodes zset, node key. ARGV: node id.
const LEAVE = `
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`;

export interface LiveNodes {
  nodes: NodeHeartbeat[];
  /** Entries that failed validation: logged by the caller, never trusted. */
  invalid: Array<{ node: string; error: DecodeError }>;
}

export class NodeRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs = HEARTBEAT_TTL_MS,
  ) {}

  /** Records a heartbeat; returns the operator's drain request for this node, if any. */
  async beat(heartbeat: NodeHeartbeat, now = Date.now()): Promise<DrainRequest | undefined> {
    const drain = (await this.redis.eval(
      BEAT,
      4,
      registryKeys.nodes,
      registryKeys.node(heartbeat.node),
      registryKeys.drain(heartbeat.node),
      registryKeys.heartbeats,
      heartbeat.node,
      JSON.stringify(heartbeat),
      String(this.ttlMs),
      String(now),
    )) as string | null;
    return drain === null
      ? undefined
      : decodeJson(DrainRequest, drain, `drain request for ${heartbeat.node}`);
  }

  /** A node leaves at once (clean shutdown) instead of timing out. */
  async leave(nodeId: string): Promise<void> {
    await this.redis.eval(LEAVE, 2, registryKeys.nodes, registryKeys.node(nodeId), nodeId);
  }

  /** Every node with an unexpired heartbeat. */
  async live(now = Date.now()): Promise<LiveNodes> {
    const ids = await this.redis.zrangebyscore(registryKeys.nodes, now, '+inf');
    const result: LiveNodes = { nodes: [], invalid: [] };
    if (ids.length === 0) return result;
    const values = await this.redis.mget(ids.map((id) => registryKeys.node(id)));
    ids.forEach((id, i) => {
      const text = values[i];
      if (text == null) return; // expired between the two reads
      try {
        result.nodes.push(decodeJson(NodeHeartbeat, text, `heartbeat of ${id}`));
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        result.invalid.push({ node: id, error });
      }
    });
    return result;
  }

  async requestDrain(nodeId: string, request: DrainRequest): Promise<void> {
    await this.redis.set(registryKeys.drain(nodeId), JSON.stringify(request));
  }

  async cancelDrain(nodeId: string): Promise<void> {
    await this.redis.del(registryKeys.drain(nodeId));
  }

  async drainRequest(nodeId: string): Promise<DrainRequest | undefined> {
    const text = await this.redis.get(registryKeys.drain(nodeId));
    return text === null
      ? undefined
      : decodeJson(DrainRequest, text, `drain request for ${nodeId}`);
  }
}
