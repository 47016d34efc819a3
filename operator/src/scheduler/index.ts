// The operator's placement scheduler: a pure function from a cluster snapshot to decisions.
export { schedule, DEFAULT_OPTIONS, type ResolvedOptions } from './place.js';
export {
  DEFAULT_CAPACITY,
  shardThresholds,
  workerBudget,
  type ShardThresholds,
} from './capacity.js';
export type * from './types.js';
