// The placement scheduler's input (a cluster snapshot) and output (decisions). Plain data only:
// the controller builds the snapshot from the CRs and the Redis node registry, calls schedule(),
// and applies the decisions (AudioRoom.status, routing table). Nothing here does I/O.
import type { Shard } from '../../../common/src/crd/audio-room.js';

export type ShardRole = Shard['role'];
export type ShardState = Shard['state'];
/** What the controller writes to AudioRoom.status.shards: the CRD's Shard, unchanged. */
export type ShardAssignment = Shard;

// ---------------------------------------------------------------------------------------------
// Snapshot in

/** MediaRegionSpec.capacity. */
export interface CapacityPolicy {
  /** Listener streams one worker carries at 100% utilisation. */
  listenersPerWorker: number;
  targetUtilizationPercent: number;
  highWatermarkPercent: number;
  lowWatermarkPercent: number;
}

export interface GeoPoint {
  latitude: number;
  longitude: number;
}

export interface RegionSnapshot {
  name: string;
  capacity: CapacityPolicy;
  /** Used to order fallback regions by distance from a room's preferred region. */
  location?: GeoPoint;
}

/** A mediasoup worker's load, as its media pod last reported it. */
export interface WorkerLoad {
  /** Listener streams (consumers), pipe consumers included. */
  listeners: number;
  /** Producers: speakers on an origin, pipe producers on an edge. */
  producers: number;
  /** CPU of the worker process, 0–100 (one core). */
  cpuPercent: number;
}

export interface WorkerSnapshot {
  index: number;
  /** False when the worker process died; nothing is placed there and its shards are lost. */
  alive: boolean;
  load: WorkerLoad;
}

/** A live media pod (one entry of the node registry). Pods absent from the snapshot are dead. */
export interface NodeSnapshot {
  id: string;
  region: string;
  /** topology.kubernetes.io/zone; '' when unknown. */
  zone: string;
  /** Kubernetes node the pod runs on: the failure domain edges are spread over. */
  k8sNode: string;
  draining: boolean;
  workers: readonly WorkerSnapshot[];
}

/** A shard as recorded in AudioRoom.status, optionally with when it was created. */
export interface ShardSnapshot extends ShardAssignment {
  /** Milliseconds since the epoch; with `ClusterSnapshot.now` it protects young edges. */
  createdAt?: number;
}

export interface RoomSnapshot {
  id: string;
  /** Preferred regions, best first (AudioRoomSpec.regions). */
  regions: readonly string[];
  /** May the room go to a region it did not list? Defaults to `regions.length === 0`. */
  anyRegion?: boolean;
  listenersPerShard: number;
  maxShards: number;
  speakerLimit: number;
  shards: readonly ShardSnapshot[];
  /** Listeners in the room, over all shards (AudioRoomStatus.listeners). */
  listeners: number;
}

export interface ClusterSnapshot {
  regions: readonly RegionSnapshot[];
  nodes: readonly NodeSnapshot[];
  rooms: readonly RoomSnapshot[];
  /** Milliseconds since the epoch. Only needed for the young-edge protection. */
  now?: number;
}

// ---------------------------------------------------------------------------------------------
// Options

export interface ScheduleOptions {
  /**
   * Smallest listener reservation a shard holds on its worker until it has that many listeners,
   * in percent of the room's listenersPerShard. Default 10.
   */
  minReservationPercent?: number;
  /** Edges retired per room per pass (scale down gently). Default 1. */
  maxRetirementsPerRoom?: number;
  /** An edge younger than this is never retired for being idle. Default 60 s. */
  minEdgeAgeMs?: number;
  /** Observes how long each room took (for benchmarks). The scheduler reads no clock otherwise. */
  profile?: RoomProfiler;
}

export interface RoomProfiler {
  now(): number;
  record(roomId: string, elapsed: number): void;
}

// ---------------------------------------------------------------------------------------------
// Decisions out

/** Where a new shard goes. */
export interface Placement {
  region: string;
  zone: string;
  node: string;
  k8sNode: string;
  worker: number;
}

/** Which rung of the edge-affinity ladder a new edge landed on. */
export type AffinityTier = 'samePod' | 'sameZone' | 'sameRegion';

export type RetireReason =
  /** An edge with no listeners the remaining shards can do without. */
  | 'idle'
  /** The room is well below the low watermark: its emptiest edge goes (listeners rejoin). */
  | 'underloaded'
  /** On a pod that is gone or a worker that died. */
  | 'lost'
  /** On a draining pod, and empty. */
  | 'drained';

export type UnschedulableReason =
  /** None of the room's regions exists, and it may not use others. */
  | 'NoCandidateRegion'
  /** The candidate regions have no live media pods. */
  | 'NoLiveNodes'
  /** Every live media pod in the candidate regions is draining. */
  | 'AllNodesDraining'
  /** Pods are up, but no worker has the headroom the shard needs. */
  | 'NoRegionWithCapacity'
  /** The origin is placed but no worker of its region can take another edge. */
  | 'NoWorkerForEdge'
  /** The room needs more edges than spec.sharding.maxShards allows. */
  | 'MaxShardsReached';

export type RoomAction =
  | {
      kind: 'placeOrigin';
      shard: ShardAssignment;
      placement: Placement;
      /** A new room, or a room whose origin was lost. */
      cause: 'new' | 'originLost';
    }
  | {
      kind: 'addEdge';
      shard: ShardAssignment;
      placement: Placement;
      /** The origin shard that feeds it (pipe transport). */
      from: string;
      tier: AffinityTier;
    }
  | {
      kind: 'retireShard';
      shardId: string;
      role: ShardRole;
      node: string;
      worker: number;
      reason: RetireReason;
    };

export interface Unschedulable {
  reason: UnschedulableReason;
  message: string;
}

/** What changes for one room. Only rooms with an action or a problem are listed. */
export interface RoomDecision {
  roomId: string;
  /** The room's region after the pass ('' when it has none). */
  region: string;
  /** Retirements first, then the origin, then edges. */
  actions: RoomAction[];
  unschedulable?: Unschedulable;
}

/** A worker's projected load after the pass, in listener-stream units. */
export interface WorkerProjection {
  node: string;
  worker: number;
  region: string;
  /** listenersPerWorker. */
  capacity: number;
  /** capacity × target%: what placement fills up to. */
  budget: number;
  /** Reported load plus reservations held by shards (new ones included). */
  projected: number;
  /** False for draining pods and dead workers. */
  schedulable: boolean;
}

export interface Decisions {
  /** Sorted by room id. */
  rooms: RoomDecision[];
  /** Every room's shards after the pass (new shards Pending, retired and lost ones removed). */
  assignments: ReadonlyMap<string, readonly ShardAssignment[]>;
  /** Every worker of every live pod, sorted by node id then worker index. */
  workers: WorkerProjection[];
  stats: {
    rooms: number;
    origins: number;
    edges: number;
    retirements: number;
    unschedulable: number;
  };
}
