// The operator's configuration, from the environment, validated with messages that say what to fix.
import { hostname } from 'node:os';

export interface OperatorConfig {
  /** Path of a kubeconfig; undefined → in-cluster service account. */
  kubeconfig: string | undefined;
  redisUrl: string;
  /** Namespace to watch (rooms and regions); undefined → all namespaces. */
  namespace: string | undefined;
  lease: {
    name: string;
    namespace: string;
    durationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  identity: string;
  healthPort: number;
  logLevel: string;
  resyncMs: number;
  heartbeatPollMs: number;
  nodeGraceMs: number;
  minEdgeAgeMs: number;
  /** Settings the MediaRegion controller gives the media pods it runs (not in the CR). */
  mediaPod: {
    /** AMPHI_MEDIA_REDIS_URL, default REDIS_URL; may hold $(REDIS_PASSWORD) for the kubelet. */
    redisUrl: string;
    /** AMPHI_MEDIA_REDIS_URL_SECRET_NAME / _KEY (default key `redis-url`): REDIS_URL by secretKeyRef. */
    redisUrlSecret?: { name: string; key: string };
    /** AMPHI_MEDIA_REDIS_PASSWORD_SECRET_NAME / _KEY (default `redis-password`): REDIS_PASSWORD. */
    redisPasswordSecret?: { name: string; key: string };
    /** AMPHI_JOIN_TOKEN_SECRET_NAME / _KEY (default key `secret`): JOIN_TOKEN_SECRET by secretKeyRef. */
    joinTokenSecret?: { name: string; key: string };
    /**
     * AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET_NAME / _KEY (default key `public.pem`):
     * JOIN_TOKEN_PUBLIC_KEY (SPKI PEM) by secretKeyRef. When set it wins over joinTokenSecret: the
     * media pods get no JOIN_TOKEN_SECRET.
     */
    joinTokenPublicKeySecret?: { name: string; key: string };
    /** JOIN_TOKEN_ISSUER (the control API's issuer). */
    joinTokenIssuer?: string;
    /** AMPHI_MEDIA_SERVICE_ACCOUNT: the media pods' service account (get nodes). */
    serviceAccountName?: string;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid operator configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const name = (key: string, fallback: string | undefined): string | undefined => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    if (!DNS_NAME.test(raw) || raw.length > 253) {
      problems.push(
        `${key}=${JSON.stringify(raw)}: expected a Kubernetes name (lower case, digits, '-', '.')`,
      );
    }
    return raw;
  };

  const kubeconfig = env.KUBECONFIG || undefined;
  if (kubeconfig === undefined && !env.KUBERNETES_SERVICE_HOST) {
    problems.push(
      'KUBECONFIG is not set and this is not a pod (no KUBERNETES_SERVICE_HOST): set KUBECONFIG to a kubeconfig file',
    );
  }
  const redisUrl = env.REDIS_URL ?? '';
  if (redisUrl === '') problems.push('REDIS_URL is required, e.g. redis://redis:6379');
  else if (!/^rediss?:\/\/[^/]+/.test(redisUrl)) {
    problems.push(
      `REDIS_URL=${JSON.stringify(redisUrl)}: expected redis://host:port or rediss://…`,
    );
  }
  const mediaRedisUrl = env.AMPHI_MEDIA_REDIS_URL || redisUrl;
  if (env.AMPHI_MEDIA_REDIS_URL && !/^rediss?:\/\/[^/]+/.test(env.AMPHI_MEDIA_REDIS_URL)) {
    problems.push(
      `AMPHI_MEDIA_REDIS_URL=${JSON.stringify(env.AMPHI_MEDIA_REDIS_URL)}: expected redis://host:port or rediss://…`,
    );
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(
      `LOG_LEVEL=${JSON.stringify(logLevel)}: expected one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const durationMs = int('AMPHI_LEASE_DURATION_MS', 15_000, 1_000, 600_000);
  const renewDeadlineMs = int(
    'AMPHI_LEASE_RENEW_DEADLINE_MS',
    Math.round(durationMs * (2 / 3)),
    500,
    600_000,
  );
  const retryPeriodMs = int(
    'AMPHI_LEASE_RETRY_PERIOD_MS',
    Math.max(200, Math.round(durationMs / 7.5)),
    100,
    60_000,
  );
  if (renewDeadlineMs >= durationMs) {
    problems.push('AMPHI_LEASE_RENEW_DEADLINE_MS must be less than AMPHI_LEASE_DURATION_MS');
  }
  if (retryPeriodMs * 1.2 >= renewDeadlineMs) {
    problems.push(
      'AMPHI_LEASE_RETRY_PERIOD_MS × 1.2 must be less than AMPHI_LEASE_RENEW_DEADLINE_MS',
    );
  }

  /** A Secret reference from <prefix>_NAME and <prefix>_KEY (the key has a default). */
  const secretRef = (
    prefix: string,
    defaultKey: string,
  ): { name: string; key: string } | undefined => {
    const secretName = name(`${prefix}_NAME`, undefined);
    const key = env[`${prefix}_KEY`] || defaultKey;
    if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253) {
      problems.push(
        `${prefix}_KEY=${JSON.stringify(key)}: expected a Secret data key ([-._a-zA-Z0-9]+)`,
      );
    }
    return secretName ? { name: secretName, key } : undefined;
  };
  const joinTokenSecret = secretRef('AMPHI_JOIN_TOKEN_SECRET', 'secret');
  const joinTokenPublicKeySecret = secretRef('AMPHI_JOIN_TOKEN_PUBLIC_KEY_SECRET', 'public.pem');
  const redisUrlSecret = secretRef('AMPHI_MEDIA_REDIS_URL_SECRET', 'redis-url');
  const redisPasswordSecret = secretRef('AMPHI_MEDIA_REDIS_PASSWORD_SECRET', 'redis-password');
  if (mediaRedisUrl.includes('$(REDIS_PASSWORD)') && !redisPasswordSecret && !redisUrlSecret) {
    problems.push(
      'AMPHI_MEDIA_REDIS_URL uses $(REDIS_PASSWORD): set AMPHI_MEDIA_REDIS_PASSWORD_SECRET_NAME (and _KEY) so the media pods get it from the Secret',
    );
  }
  const serviceAccountName = name('AMPHI_MEDIA_SERVICE_ACCOUNT', undefined);

  const config: OperatorConfig = {
    kubeconfig,
    redisUrl,
    namespace: name('AMPHI_NAMESPACE', undefined),
    lease: {
      name: name('AMPHI_LEASE_NAME', 'amphi-operator')!,
      namespace: name('AMPHI_LEASE_NAMESPACE', env.POD_NAMESPACE || 'amphi-system')!,
      durationMs,
      renewDeadlineMs,
      retryPeriodMs,
    },
    identity: env.POD_NAME || `${hostname()}_${process.pid}`,
    healthPort: int('AMPHI_HEALTH_PORT', 8081, 0, 65535),
    logLevel,
    resyncMs: int('AMPHI_RESYNC_MS', 30_000, 0, 86_400_000),
    heartbeatPollMs: int('AMPHI_HEARTBEAT_POLL_MS', 300, 50, 60_000),
    nodeGraceMs: int('AMPHI_NODE_GRACE_MS', 1_500, 0, 60_000),
    minEdgeAgeMs: int('AMPHI_MIN_EDGE_AGE_MS', 60_000, 0, 86_400_000),
    mediaPod: {
      redisUrl: mediaRedisUrl,
      ...(redisUrlSecret ? { redisUrlSecret } : {}),
      ...(redisPasswordSecret ? { redisPasswordSecret } : {}),
      ...(joinTokenSecret ? { joinTokenSecret } : {}),
      ...(joinTokenPublicKeySecret ? { joinTokenPublicKeySecret } : {}),
      ...(env.JOIN_TOKEN_ISSUER ? { joinTokenIssuer: env.JOIN_TOKEN_ISSUER } : {}),
      ...(serviceAccountName ? { serviceAccountName } : {}),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
