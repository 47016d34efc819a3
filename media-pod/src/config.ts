// The media pod's configuration, from the environment, validated once at start: a bad value stops the
// pod with a message naming the variable, never a half-configured pod.
import { availableParallelism, hostname } from 'node:os';
import {
  verificationKeyFromPem,
  type VerificationKey,
} from '../../common/src/contract/join-token.js';
import { ADDRESS_POLICIES, type AddressPolicy } from '../../common/src/crd/media-region.js';

export type AnnouncePolicy = AddressPolicy;

export interface MediaPodConfig {
  /** Node registry id (the pod's name). */
  nodeId: string;
  region: string;
  zone: string;
  /** The Kubernetes node ('' outside Kubernetes). */
  k8sNode: string;
  /** mediasoup workers, one per core by default. */
  workers: number;
  /** Worker i's WebRtcServer listens on basePort + i, UDP and TCP. */
  basePort: number;
  /** Address the WebRtcServers and pipe transports bind. */
  listenIp: string;
  /**
   * How announcedAddress is found (MEDIA_ANNOUNCE_POLICY, the MediaRegion's addresses.policy):
   * Static and LoadBalancer take MEDIA_ANNOUNCED_ADDRESS, NodeInternalIP HOST_IP or the Node's
   * InternalIP, NodeExternalIP the Node's ExternalIP (see announce.ts).
   */
  announcePolicy: AnnouncePolicy;
  /** Address clients (and other pods, for pipes) reach this pod at; '' until announce.ts resolves it. */
  announcedAddress: string;
  /** The node's IP from the downward API (HOST_IP), '' when not given. */
  hostIp: string;
  /** HTTP port: WebSocket signalling, /healthz, /readyz, /metrics. */
  signalingPort: number;
  /** HTTP port other media pods negotiate pipe transports on. */
  pipePort: number;
  /** Address other pods reach the pipe port (and pipe transports) at; '' → the announced address. */
  pipeAddress: string;
  redisUrl: string;
  /** What join tokens are verified with: the HS256 secret shared with the control API, or its public key. */
  joinTokenKey: VerificationKey;
  joinTokenIssuer: string;
  /** Longest a drain may take before the pod exits with clients still on it. */
  drainDeadlineMs: number;
  /** Heartbeat period. */
  heartbeatIntervalMs: number;
  /** Level-triggered resync of the assignments, besides the change notices. */
  resyncIntervalMs: number;
  /** How often clients are sent room-wide counts. */
  countsIntervalMs: number;
  workerLogLevel: 'debug' | 'warn' | 'error' | 'none';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid media pod configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Reads MEDIA_* variables (see media-pod/README.md); throws ConfigError listing every problem. */
export function loadConfig(env: Env = process.env): MediaPodConfig {
  const problems: string[] = [];
  const str = (name: string, fallback?: string): string => {
    const value = env[name]?.trim();
    if (value) return value;
    if (fallback !== undefined) return fallback;
    problems.push(`${name} is required`);
    return '';
  };
  const int = (name: string, fallback: number | undefined, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (!raw) {
      if (fallback !== undefined) return fallback;
      problems.push(`${name} is required`);
      return min;
    }
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be an integer in [${min}, ${max}]`);
      return min;
    }
    return value;
  };
  const ip = (name: string, value: string): string => {
    const match = IPV4.exec(value);
    if (!match || match.slice(1).some((octet) => Number(octet) > 255))
      problems.push(`${name}=${JSON.stringify(value)} must be an IPv4 address`);
    return value;
  };

  const nodeId = str('MEDIA_NODE_ID', env.POD_NAME?.trim() || hostname());
  if (nodeId && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(nodeId))
    problems.push(`MEDIA_NODE_ID=${JSON.stringify(nodeId)} must be a DNS subdomain name`);
  const region = str('MEDIA_REGION');
  const zone = str('MEDIA_ZONE', '');
  const k8sNode = str('MEDIA_K8S_NODE', env.NODE_NAME?.trim() ?? '');
  const workers = int('MEDIA_WORKERS', availableParallelism(), 1, 64);
  const basePort = int('MEDIA_BASE_PORT', 40000, 1024, 65535);
  if (basePort + workers - 1 > 65535)
    problems.push(`MEDIA_BASE_PORT + MEDIA_WORKERS - 1 exceeds 65535`);
  const listenIp = ip('MEDIA_LISTEN_IP', str('MEDIA_LISTEN_IP', '0.0.0.0'));
  const policyRaw = str('MEDIA_ANNOUNCE_POLICY', 'Static');
  const announcePolicy = (ADDRESS_POLICIES as readonly string[]).includes(policyRaw)
    ? (policyRaw as AnnouncePolicy)
    : (problems.push(
        `MEDIA_ANNOUNCE_POLICY=${JSON.stringify(policyRaw)} must be one of ${ADDRESS_POLICIES.join(', ')}`,
      ),
      'Static');
  const hostIp = env.HOST_IP?.trim() ? ip('HOST_IP', env.HOST_IP.trim()) : '';
  let announcedAddress = '';
  switch (announcePolicy) {
    case 'Static':
      // Behind 0.0.0.0 the pod cannot guess what clients reach: the address must be given.
      announcedAddress = str(
        'MEDIA_ANNOUNCED_ADDRESS',
        listenIp === '0.0.0.0' ? undefined : listenIp,
      );
      break;
    case 'LoadBalancer':
      announcedAddress = env.MEDIA_ANNOUNCED_ADDRESS?.trim() ?? '';
      if (!announcedAddress)
        problems.push(
          "MEDIA_ANNOUNCED_ADDRESS is required with MEDIA_ANNOUNCE_POLICY=LoadBalancer (the load balancer's address)",
        );
      break;
    case 'NodeInternalIP':
      announcedAddress = hostIp; // else the Node's InternalIP (announce.ts)
      if (!hostIp && !k8sNode)
        problems.push(
          'MEDIA_ANNOUNCE_POLICY=NodeInternalIP needs HOST_IP or NODE_NAME (downward API)',
        );
      break;
    case 'NodeExternalIP':
      if (!k8sNode)
        problems.push(
          'MEDIA_ANNOUNCE_POLICY=NodeExternalIP needs NODE_NAME (downward API spec.nodeName)',
        );
      break;
  }
  const signalingPort = int('MEDIA_SIGNALING_PORT', 8080, 1, 65535);
  const pipePort = int('MEDIA_PIPE_PORT', 8081, 1, 65535);
  if (signalingPort === pipePort) problems.push('MEDIA_SIGNALING_PORT and MEDIA_PIPE_PORT differ');
  if (signalingPort >= basePort && signalingPort < basePort + workers)
    problems.push('MEDIA_SIGNALING_PORT lies in the worker port range');
  if (pipePort >= basePort && pipePort < basePort + workers)
    problems.push('MEDIA_PIPE_PORT lies in the worker port range');
  const pipeRaw = str('MEDIA_PIPE_ADDRESS', env.POD_IP?.trim() || announcedAddress);
  // '' → the announced address once announce.ts resolved it.
  const pipeAddress = pipeRaw === '' ? '' : ip('MEDIA_PIPE_ADDRESS', pipeRaw);
  const redisUrl = str('REDIS_URL');
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl))
    problems.push(`REDIS_URL=${JSON.stringify(redisUrl)} must start with redis:// or rediss://`);
  // One of: the HS256 secret shared with the control API, or the public half of its private key.
  const secret = env.JOIN_TOKEN_SECRET?.trim() ?? '';
  const publicKey = env.JOIN_TOKEN_PUBLIC_KEY?.trim() ?? '';
  let joinTokenKey: VerificationKey | undefined;
  if (Boolean(secret) === Boolean(publicKey))
    problems.push(
      `JOIN_TOKEN_SECRET or JOIN_TOKEN_PUBLIC_KEY is required, exactly one (got ${secret && publicKey ? 'both' : 'neither'})`,
    );
  else if (publicKey)
    try {
      joinTokenKey = verificationKeyFromPem(publicKey, 'JOIN_TOKEN_PUBLIC_KEY');
    } catch (error) {
      problems.push((error as Error).message);
    }
  else if (Buffer.byteLength(secret) < 32)
    problems.push('JOIN_TOKEN_SECRET must be at least 32 bytes (HS256)');
  else joinTokenKey = { alg: 'HS256', secret: new TextEncoder().encode(secret) };
  const joinTokenIssuer = str('JOIN_TOKEN_ISSUER', 'amphi-control');
  const drainDeadlineMs = int('MEDIA_DRAIN_DEADLINE_MS', 300_000, 0, 86_400_000);
  const heartbeatIntervalMs = int('MEDIA_HEARTBEAT_INTERVAL_MS', 1_000, 100, 60_000);
  const resyncIntervalMs = int('MEDIA_RESYNC_INTERVAL_MS', 10_000, 100, 600_000);
  const countsIntervalMs = int('MEDIA_COUNTS_INTERVAL_MS', 5_000, 100, 600_000);
  const workerLogLevel = str('MEDIA_WORKER_LOG_LEVEL', 'warn');
  if (!['debug', 'warn', 'error', 'none'].includes(workerLogLevel))
    problems.push('MEDIA_WORKER_LOG_LEVEL must be debug, warn, error or none');

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    nodeId,
    region,
    zone,
    k8sNode,
    workers,
    basePort,
    listenIp,
    announcePolicy,
    announcedAddress,
    hostIp,
    signalingPort,
    pipePort,
    pipeAddress,
    redisUrl,
    joinTokenKey: joinTokenKey!,
    joinTokenIssuer,
    drainDeadlineMs,
    heartbeatIntervalMs,
    resyncIntervalMs,
    countsIntervalMs,
    workerLogLevel: workerLogLevel as MediaPodConfig['workerLogLevel'],
  };
}
