// Prometheus metrics of the media pod (prom-client), on a registry of its own.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export class MediaMetrics {
  readonly registry = new Registry();
  readonly workersAlive = this.gauge('amphi_media_workers_alive', 'mediasoup workers running');
  readonly workerDeaths = new Counter({
    name: 'amphi_media_worker_deaths_total',
    help: 'mediasoup workers that died',
    labelNames: ['worker'],
    registers: [this.registry],
  });
  readonly workerCpu = new Gauge({
    name: 'amphi_media_worker_cpu_percent',
    help: 'CPU of a mediasoup worker over the last heartbeat interval, percent of one core',
    labelNames: ['worker'],
    registers: [this.registry],
  });
  readonly routers = this.gauge('amphi_media_routers', 'mediasoup routers (hosted shards)');
  readonly transports = this.gauge('amphi_media_transports', 'WebRTC and pipe transports');
  readonly producers = this.gauge('amphi_media_producers', 'producers (speakers and pipes)');
  readonly consumers = this.gauge('amphi_media_consumers', 'consumers (listeners and pipes)');
  readonly sessions = this.gauge('amphi_media_sessions', 'signalling sessions joined');
  readonly draining = this.gauge('amphi_media_draining', '1 while the pod drains');
  readonly bytesIn = this.gauge('amphi_media_bytes_in', 'bytes received by live transports');
  readonly bytesOut = this.gauge('amphi_media_bytes_out', 'bytes sent by live transports');
  readonly signalingErrors = new Counter({
    name: 'amphi_media_signaling_errors_total',
    help: 'signalling requests answered with an error',
    labelNames: ['code'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'amphi_media_process_' });
  }

  private gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] });
  }
}
