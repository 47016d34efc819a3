// The contract between the operator, the media pods and the control API: Redis keyspace,
// heartbeat and routing schemas, join tokens.
export * from './codec.js';
export * from './heartbeat.js';
export * from './join-token.js';
export * from './keys.js';
export * from './node-registry.js';
export * from './presence.js';
export * from './routing.js';
export * from './routing-table.js';
