// The AudioRoom controller's own metrics (the runtime adds controller_runtime_* and workqueue_*).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface PassMetrics {
  passDuration: Histogram;
  passRooms: Gauge;
  writes: Counter<'kind'>;
  shardChanges: Counter<'action'>;
  unschedulable: Gauge;
}

const byRegistry = new WeakMap<Registry, PassMetrics>();

export function passMetrics(registry: Registry): PassMetrics {
  let m = byRegistry.get(registry);
  if (m) return m;
  const registers = [registry];
  m = {
    passDuration: new Histogram({
      name: 'amphi_operator_pass_duration_seconds',
      help: 'One scheduling pass: snapshot, schedule() and the writes it needed.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    passRooms: new Gauge({
      name: 'amphi_operator_rooms',
      help: 'AudioRooms in the last pass.',
      registers,
    }),
    writes: new Counter({
      name: 'amphi_operator_writes_total',
      help: 'Writes by the AudioRoom controller (status, finalizer, routes).',
      labelNames: ['kind'],
      registers,
    }),
    shardChanges: new Counter({
      name: 'amphi_operator_shard_changes_total',
      help: 'Scheduler actions applied (placeOrigin, addEdge, retireShard).',
      labelNames: ['action'],
      registers,
    }),
    unschedulable: new Gauge({
      name: 'amphi_operator_unschedulable_rooms',
      help: 'Rooms the last pass could not (fully) place.',
      registers,
    }),
  };
  byRegistry.set(registry, m);
  return m;
}
