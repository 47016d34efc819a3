// The join token: the control API signs it, the media pod named in it verifies it. Short-lived,
// bound to one room, shard, node and role; the signature covers all of it.
import { Type, type Static } from '@sinclair/typebox';
import {
  SignJWT,
  errors as joseErrors,
  jwtVerify,
  type CryptoKey,
  type JWTVerifyGetKey,
} from 'jose';
import { decodeValue } from './codec.js';

export const PARTICIPANT_ROLES = ['host', 'moderator', 'speaker', 'listener'] as const;
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];

/** Roles that may send audio. */
export const canProduce = (role: ParticipantRole): boolean => role !== 'listener';

export const JoinClaims = Type.Object({
  /** User id. */
  sub: Type.String({ minLength: 1, maxLength: 256 }),
  room: Type.String({ minLength: 1, maxLength: 317 }),
  shard: Type.String({ minLength: 1, maxLength: 63 }),
  /** Media pod (node registry id) the token is good for. */
  node: Type.String({ minLength: 1, maxLength: 253 }),
  role: Type.Union(PARTICIPANT_ROLES.map((r) => Type.Literal(r))),
  /** Display name, shown to other participants. */
  name: Type.Optional(Type.String({ maxLength: 100 })),
});
export type JoinClaims = Static<typeof JoinClaims>;

export const JOIN_TOKEN_AUDIENCE = 'amphi-media';
export const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 120;

/** A symmetric secret (HS256) or an asymmetric key pair (e.g. EdDSA) from jose. */
export type SigningKey =
  | { alg: 'HS256'; secret: Uint8Array }
  | { alg: 'EdDSA' | 'ES256' | 'RS256'; privateKey: CryptoKey };
export type VerificationKey =
  | { alg: 'HS256'; secret: Uint8Array }
  | { alg: 'EdDSA' | 'ES256' | 'RS256'; publicKey: CryptoKey | JWTVerifyGetKey };

export interface JoinTokenOptions {
  issuer: string;
  audience?: string;
  ttlSeconds?: number;
  /** Seconds since the epoch; for tests. */
  now?: number;
  /** The token id (jti); default a random UUID. The control API keeps it as the join's id. */
  jti?: string;
}

export async function signJoinToken(
  claims: JoinClaims,
  key: SigningKey,
  options: JoinTokenOptions,
): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const { sub, ...rest } = decodeValue(JoinClaims, claims, 'join token claims');
  return new SignJWT({ ...rest })
    .setProtectedHeader({ alg: key.alg, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(options.issuer)
    .setAudience(options.audience ?? JOIN_TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? DEFAULT_JOIN_TOKEN_TTL_SECONDS))
    .setJti(options.jti ?? crypto.randomUUID())
    .sign(key.alg === 'HS256' ? key.secret : key.privateKey);
}

export type JoinTokenProblem = 'expired' | 'invalid' | 'malformed';

export class JoinTokenError extends Error {
  constructor(
    readonly problem: JoinTokenProblem,
    message: string,
  ) {
    super(message);
    this.name = 'JoinTokenError';
  }
}

export interface VerifiedJoin extends JoinClaims {
  exp: number;
  jti: string | undefined;
}

export async function verifyJoinToken(
  token: string,
  key: VerificationKey,
  options: { issuer: string; audience?: string; clockToleranceSeconds?: number; now?: Date },
): Promise<VerifiedJoin> {
  let payload: Record<string, unknown>;
  try {
    const verifyOptions = {
      issuer: options.issuer,
      audience: options.audience ?? JOIN_TOKEN_AUDIENCE,
      algorithms: [key.alg],
      clockTolerance: options.clockToleranceSeconds ?? 5,
      currentDate: options.now,
      requiredClaims: ['exp', 'sub'],
    };
    const result =
      key.alg === 'HS256'
        ? await jwtVerify(token, key.secret, verifyOptions)
        : typeof key.publicKey === 'function'
          ? await jwtVerify(token, key.publicKey, verifyOptions)
          : await jwtVerify(token, key.publicKey, verifyOptions);
    payload = result.payload;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired)
      throw new JoinTokenError('expired', 'token expired');
    if (error instanceof joseErrors.JOSEError)
      throw new JoinTokenError('invalid', `token rejected: ${error.message}`);
    throw error;
  }
  const { exp, jti, sub, room, shard, node, role, name } = payload;
  let claims: JoinClaims;
  try {
    claims = decodeValue(JoinClaims, { sub, room, shard, node, role, name }, 'join token claims');
  } catch (error) {
    throw new JoinTokenError('malformed', (error as Error).message);
  }
  return { ...claims, exp: exp as number, jti: typeof jti === 'string' ? jti : undefined };
}
