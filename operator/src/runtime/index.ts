// The operator runtime: a small TypeScript take on controller-runtime's core pieces.
export * from './clock.js';
export * from './conditions.js';
export * from './controller.js';
export * from './events.js';
export * from './finalizers.js';
export * from './handlers.js';
export * from './health.js';
export * from './informer.js';
export * from './keys.js';
export * from './kube-source.js';
export * from './leader-election.js';
export * from './metrics.js';
export * from './rate-limiter.js';
export * from './workqueue.js';
