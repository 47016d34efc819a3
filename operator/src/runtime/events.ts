// An events.k8s.io/v1 Event recorder. client-node has none, and a reconcile loop that emits the
// same event every pass would flood the API: repeats of an event (same object, type, reason,
// action and note) are folded into the first Event's series (count, lastObservedTime) by a merge
// patch, tracked in a small LRU. Recording never throws: events are best-effort.
import {
  PatchStrategy,
  V1MicroTime,
  setHeaderOptions,
  type EventsV1Api,
  type EventsV1Event,
  type V1ObjectReference,
} from '@kubernetes/client-node';
import { createLogger, type Logger } from '../../../common/src/logger.js';
import { realClock, type Clock } from './clock.js';
import type { KubeObject } from './keys.js';

export type EventsApi = Pick<EventsV1Api, 'createNamespacedEvent' | 'patchNamespacedEvent'>;

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  api: EventsApi;
  /** e.g. "amphi.dev/operator". */
  reportingController: string;
  /** This process, e.g. the pod name. */
  reportingInstance: string;
  /** Distinct events remembered for de-duplication. Default 4096. */
  cacheSize?: number;
  /** A repeat later than this after the last one starts a new Event. Default 6 min, as client-go. */
  seriesWindowMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface EventInput {
  regarding: KubeObject | V1ObjectReference;
  related?: KubeObject | V1ObjectReference;
  type: EventType;
  /** CamelCase: why ("FailedScheduling"). */
  reason: string;
  /** CamelCase: what was done or failed ("Binding"). */
  action: string;
  note?: string;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  // The count the API last got: queued bumps that find it current are skipped (coalescing bursts).
  written: number;
  lastSeen: number;
  // What was created, to create it again if the Event expired (events have a TTL, 1 h by default).
  body: EventsV1Event;
  // Writes for one series go one after another, so a repeat never races its own create.
  tail: Promise<void>;
}

const NOTE_MAX_BYTES = 1024;

export function objectReference(o: KubeObject | V1ObjectReference): V1ObjectReference {
  if ('metadata' in o && o.metadata) {
    const ref: V1ObjectReference = {};
    if (o.apiVersion) ref.apiVersion = o.apiVersion;
    if (o.kind) ref.kind = o.kind;
    if (o.metadata.namespace) ref.namespace = o.metadata.namespace;
    if (o.metadata.name) ref.name = o.metadata.name;
    if (o.metadata.uid) ref.uid = o.metadata.uid;
    if (o.metadata.resourceVersion) ref.resourceVersion = o.metadata.resourceVersion;
    return ref;
  }
  return o as V1ObjectReference;
}

function truncateNote(note: string): string {
  if (Buffer.byteLength(note) <= NOTE_MAX_BYTES) return note;
  let s = note.slice(0, NOTE_MAX_BYTES);
  while (Buffer.byteLength(s) > NOTE_MAX_BYTES - 3) s = s.slice(0, -1);
  return `${s}...`;
}

export class EventRecorder {
  readonly #api: EventsApi;
  readonly #controller: string;
  readonly #instance: string;
  readonly #cacheSize: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  // Insertion order = recency: a hit is re-inserted, the oldest evicted.
  readonly #series = new Map<string, Series>();
  #seq = 0;

  constructor(options: EventRecorderOptions) {
    this.#api = options.api;
    this.#controller = options.reportingController;
    this.#instance = options.reportingInstance;
    this.#cacheSize = options.cacheSize ?? 4096;
    this.#windowMs = options.seriesWindowMs ?? 6 * 60_000;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.logger ?? createLogger('operator')).child({ recorder: this.#controller });
  }

  normal(regarding: EventInput['regarding'], reason: string, action: string, note?: string) {
    return this.record({ regarding, type: 'Normal', reason, action, ...(note ? { note } : {}) });
  }

  warning(regarding: EventInput['regarding'], reason: string, action: string, note?: string) {
    return this.record({ regarding, type: 'Warning', reason, action, ...(note ? { note } : {}) });
  }

  /** Creates an Event, or bumps the series of an identical recent one. Resolves when written. */
  record(input: EventInput): Promise<void> {
    const regarding = objectReference(input.regarding);
    const related = input.related ? objectReference(input.related) : undefined;
    const note = truncateNote(input.note ?? '');
    const key = JSON.stringify([
      regarding.apiVersion,
      regarding.kind,
      regarding.namespace,
      regarding.name,
      regarding.uid,
      related?.kind,
      related?.namespace,
      related?.name,
      input.type,
      input.reason,
      input.action,
      note,
    ]);
    const now = this.#clock.now();
    const known = this.#series.get(key);
    if (known && now - known.lastSeen <= this.#windowMs) {
      this.#series.delete(key);
      this.#series.set(key, known);
      known.count++;
      known.lastSeen = now;
      known.tail = known.tail.then(() => this.#bump(known));
      return known.tail;
    }
    const namespace = regarding.namespace || 'default';
    const name = this.#eventName(regarding.name ?? 'event', now);
    const body: EventsV1Event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: new V1MicroTime(now),
      reportingController: this.#controller,
      reportingInstance: this.#instance,
      action: input.action,
      reason: input.reason,
      type: input.type,
      regarding,
      ...(related ? { related } : {}),
      ...(note ? { note } : {}),
    };
    const series: Series = {
      name,
      namespace,
      count: 1,
      written: 1,
      lastSeen: now,
      body,
      tail: Promise.resolve(),
    };
    series.tail = this.#create(series, body);
    this.#series.delete(key);
    this.#series.set(key, series);
    if (this.#series.size > this.#cacheSize) {
      this.#series.delete(this.#series.keys().next().value!);
    }
    return series.tail;
  }

  async #create(series: Series, body: EventsV1Event): Promise<void> {
    try {
      await this.#api.createNamespacedEvent({ namespace: series.namespace, body });
    } catch (err) {
      this.#log.warn({ err, event: series.name, reason: body.reason }, 'failed to create event');
    }
  }

  async #bump(series: Series): Promise<void> {
    const { count, lastSeen: at } = series;
    if (count === series.written) return;
    try {
      await this.#api.patchNamespacedEvent(
        {
          name: series.name,
          namespace: series.namespace,
          body: { series: { count, lastObservedTime: new V1MicroTime(at) } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      series.written = count;
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) {
        // Expired: start over with a fresh Event.
        series.name = this.#eventName(series.body.regarding?.name ?? 'event', at);
        series.count = 1;
        series.written = 1;
        series.body = {
          ...series.body,
          metadata: { name: series.name, namespace: series.namespace },
          eventTime: new V1MicroTime(at),
        };
        await this.#create(series, series.body);
        return;
      }
      this.#log.warn({ err, event: series.name }, 'failed to update event series');
    }
  }

  // Like client-go: the object's name plus a unique hex suffix from the clock.
  #eventName(base: string, now: number): string {
    const nanos = BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000);
    return `${base}.${nanos.toString(16)}`;
  }
}
