// Configuration from the environment, validated once at start: a bad value is a clear error
// naming the variable, never a surprise deep in a request.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { signingKeyFromPem, type SigningKey } from '../../common/src/contract/join-token.js';

const Env = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  /** Namespace the AudioRoom CRs live in (room id = namespace/name). */
  ROOM_NAMESPACE: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', default: 'default' }),
  /** Path of a kubeconfig; in-cluster config when empty. */
  KUBECONFIG: Type.Optional(Type.String()),
  CASSANDRA_CONTACT_POINTS: Type.Optional(Type.String({ minLength: 1 })),
  CASSANDRA_LOCAL_DC: Type.String({ default: 'datacenter1' }),
  CASSANDRA_KEYSPACE: Type.String({ pattern: '^[a-z][a-z0-9_]{0,47}$', default: 'amphi' }),
  CASSANDRA_REPLICATION: Type.String({
    default: "{'class': 'SimpleStrategy', 'replication_factor': 1}",
  }),
  AUTH_JWT_ISSUER: Type.String({ minLength: 1 }),
  AUTH_JWT_AUDIENCE: Type.String({ minLength: 1 }),
  /** One of: HS256 shared secret, JWKS URL, SPKI PEM public key. */
  AUTH_JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  AUTH_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  AUTH_JWT_PUBLIC_KEY: Type.Optional(Type.String({ pattern: 'BEGIN PUBLIC KEY' })),
  AUTH_JWT_ALGORITHMS: Type.String({ default: 'HS256,RS256,ES256,EdDSA' }),
  /** Platform API keys: "name=secret,name2=secret2" (secrets ≥ 24 characters). */
  API_KEYS: Type.String({ default: '' }),
  /** One of: an HS256 secret shared with the media pods, or a PEM private key (they get its public key). */
  JOIN_TOKEN_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  JOIN_TOKEN_PRIVATE_KEY: Type.Optional(Type.String({ pattern: 'PRIVATE KEY' })),
  JOIN_TOKEN_ISSUER: Type.String({ default: 'amphi-control' }),
  JOIN_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 10, maximum: 3600, default: 120 }),
  TURN_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  TURN_URLS: Type.String({ default: '' }),
  STUN_URLS: Type.String({ default: '' }),
  TURN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 86400, default: 3600 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 256, maximum: 1048576, default: 16384 }),
  RATE_USER_PER_SECOND: Type.Number({ exclusiveMinimum: 0, default: 20 }),
  RATE_USER_BURST: Type.Integer({ minimum: 1, default: 40 }),
  RATE_ROOM_PER_SECOND: Type.Number({ exclusiveMinimum: 0, default: 500 }),
  RATE_ROOM_BURST: Type.Integer({ minimum: 1, default: 1000 }),
  /** Public base URL of problem type URIs. */
  PROBLEM_BASE: Type.String({ default: 'https://amphi.dev/problems/' }),
  /** A participant whose media session ended leaves this long after, unless they joined again. */
  PRESENCE_GRACE_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 20_000 }),
  /** A media pod without a heartbeat this long is lost: its sessions are reported ended. */
  PRESENCE_POD_LOST_MS: Type.Integer({ minimum: 5_000, maximum: 3_600_000, default: 30_000 }),
});
type Env = Static<typeof Env>;
const check = TypeCompiler.Compile(Env);
const INTEGER_KEYS = new Set(
  Object.entries(Env.properties)
    .filter(
      ([, s]) =>
        (s as { type?: string }).type === 'integer' || (s as { type?: string }).type === 'number',
    )
    .map(([k]) => k),
);

export interface ApiKey {
  name: string;
  secret: string;
}

export interface Config {
  port: number;
  redisUrl: string;
  namespace: string;
  kubeconfig: string | undefined;
  cassandra:
    | { contactPoints: string[]; localDataCenter: string; keyspace: string; replication: string }
    | undefined;
  jwt: {
    issuer: string;
    audience: string;
    algorithms: string[];
    secret: string | undefined;
    jwksUrl: string | undefined;
    publicKeyPem: string | undefined;
  };
  apiKeys: ApiKey[];
  joinToken: { key: SigningKey; issuer: string; ttlSeconds: number };
  ice: {
    turnSecret: string | undefined;
    turnUrls: string[];
    stunUrls: string[];
    ttlSeconds: number;
  };
  bodyLimitBytes: number;
  rate: { userPerSecond: number; userBurst: number; roomPerSecond: number; roomBurst: number };
  problemBase: string;
  presenceGraceMs: number;
  presencePodLostMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Reads and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  const reported = new Set<string>();
  for (const [key, schema] of Object.entries(Env.properties)) {
    const value = env[key];
    if (value === undefined || value === '') {
      const fallback = (schema as { default?: unknown }).default;
      if (fallback !== undefined) raw[key] = fallback;
      continue;
    }
    if (INTEGER_KEYS.has(key)) {
      const n = Number(value);
      if (!Number.isFinite(n)) {
        problems.push(`${key}: not a number: ${JSON.stringify(value)}`);
        reported.add(key);
      }
      raw[key] = n;
    } else raw[key] = value;
  }
  for (const error of check.Errors(raw)) {
    const key = error.path.replace(/^\//, '').split('/')[0] ?? '';
    if (reported.has(key)) continue;
    reported.add(key);
    const value = raw[key];
    problems.push(
      value === undefined
        ? `${key}: required`
        : `${key}: ${error.message} (got ${JSON.stringify(value)})`,
    );
  }
  const e = raw as Env;
  let joinKey: SigningKey | undefined;
  if (problems.length === 0) {
    const sources = [e.AUTH_JWT_SECRET, e.AUTH_JWKS_URL, e.AUTH_JWT_PUBLIC_KEY].filter(Boolean);
    if (sources.length !== 1)
      problems.push(
        'AUTH_JWT_SECRET, AUTH_JWKS_URL, AUTH_JWT_PUBLIC_KEY: exactly one must be set (got ' +
          `${sources.length})`,
      );
    if (Boolean(e.JOIN_TOKEN_SECRET) === Boolean(e.JOIN_TOKEN_PRIVATE_KEY))
      problems.push(
        'JOIN_TOKEN_SECRET, JOIN_TOKEN_PRIVATE_KEY: exactly one must be set (got ' +
          `${[e.JOIN_TOKEN_SECRET, e.JOIN_TOKEN_PRIVATE_KEY].filter(Boolean).length})`,
      );
    else if (e.JOIN_TOKEN_PRIVATE_KEY)
      try {
        joinKey = signingKeyFromPem(e.JOIN_TOKEN_PRIVATE_KEY, 'JOIN_TOKEN_PRIVATE_KEY');
      } catch (error) {
        problems.push((error as Error).message);
      }
    else joinKey = { alg: 'HS256', secret: new TextEncoder().encode(e.JOIN_TOKEN_SECRET) };
    for (const entry of list(e.API_KEYS)) {
      const eq = entry.indexOf('=');
      if (eq <= 0 || entry.length - eq - 1 < 24)
        problems.push(
          `API_KEYS: entry "${entry.slice(0, Math.max(eq, 0))}…" must be name=secret (secret ≥ 24 chars)`,
        );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    namespace: e.ROOM_NAMESPACE,
    kubeconfig: e.KUBECONFIG,
    cassandra: e.CASSANDRA_CONTACT_POINTS
      ? {
          contactPoints: list(e.CASSANDRA_CONTACT_POINTS),
          localDataCenter: e.CASSANDRA_LOCAL_DC,
          keyspace: e.CASSANDRA_KEYSPACE,
          replication: e.CASSANDRA_REPLICATION,
        }
      : undefined,
    jwt: {
      issuer: e.AUTH_JWT_ISSUER,
      audience: e.AUTH_JWT_AUDIENCE,
      algorithms: list(e.AUTH_JWT_ALGORITHMS),
      secret: e.AUTH_JWT_SECRET,
      jwksUrl: e.AUTH_JWKS_URL,
      publicKeyPem: e.AUTH_JWT_PUBLIC_KEY,
    },
    apiKeys: list(e.API_KEYS).map((entry) => {
      const eq = entry.indexOf('=');
      return { name: entry.slice(0, eq), secret: entry.slice(eq + 1) };
    }),
    joinToken: {
      key: joinKey!,
      issuer: e.JOIN_TOKEN_ISSUER,
      ttlSeconds: e.JOIN_TOKEN_TTL_SECONDS,
    },
    ice: {
      turnSecret: e.TURN_SECRET,
      turnUrls: list(e.TURN_URLS),
      stunUrls: list(e.STUN_URLS),
      ttlSeconds: e.TURN_TTL_SECONDS,
    },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    rate: {
      userPerSecond: e.RATE_USER_PER_SECOND,
      userBurst: e.RATE_USER_BURST,
      roomPerSecond: e.RATE_ROOM_PER_SECOND,
      roomBurst: e.RATE_ROOM_BURST,
    },
    problemBase: e.PROBLEM_BASE,
    presenceGraceMs: e.PRESENCE_GRACE_MS,
    presencePodLostMs: e.PRESENCE_POD_LOST_MS,
  };
}
