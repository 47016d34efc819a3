// The join token: the control API signs it, the media pod named in it verifies it. Short-lived,
// bound to one room, shard, node and role; the signature covers all of it.
import { Type, type Static } from '@sinclair/typebox';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
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
  | { alg: 'EdDSA' | 'ES256' | 'RS256'; privateKey: CryptoKey | KeyObject };
export type VerificationKey =
  | { alg: 'HS256'; secret: Uint8Array }
  | { alg: 'EdDSA' | 'ES256' | 'RS256'; publicKey: CryptoKey | KeyObject | JWTVerifyGetKey };

type AsymmetricAlg = 'EdDSA' | 'ES256' | 'RS256';

/** The JWS algorithm a key is for: Ed25519 → EdDSA, EC P-256 → ES256, RSA → RS256. */
function algorithmOf(key: KeyObject, what: string): AsymmetricAlg {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return 'RS256';
  throw new Error(
    `${what}: an Ed25519, EC P-256 or RSA (2048 bits or more) key is required, not ${type}` +
      (key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : '') +
      (key.asymmetricKeyDetails?.modulusLength
        ? ` of ${key.asymmetricKeyDetails.modulusLength} bits`
        : ''),
  );
}

/**
 * The control API's signing key from a PEM private key (PKCS#8, or SEC1/PKCS#1 as openssl and
 * Helm write them); the algorithm follows from the key. Throws an Error naming `what` otherwise.
 */
export function signingKeyFromPem(pem: string, what: string): SigningKey {
  const key = parsePem(createPrivateKey, pem, what, 'private');
  return { alg: algorithmOf(key, what), privateKey: key };
}

/** A media pod's verification key from a PEM public key (SPKI). A private key is refused. */
export function verificationKeyFromPem(pem: string, what: string): VerificationKey {
  // createPublicKey would take a private key too and derive its public half: a pod handed the
  // private key by mistake must not quietly hold what can mint tokens.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem))
    throw new Error(`${what}: this is a private key; media pods get the public key only`);
  const key = parsePem(createPublicKey, pem, what, 'public');
  return { alg: algorithmOf(key, what), publicKey: key };
}

function parsePem(
  parse: (pem: string) => KeyObject,
  pem: string,
  what: string,
  kind: 'private' | 'public',
): KeyObject {
  try {
    return parse(pem);
  } catch (error) {
    throw new Error(`${what}: not a PEM ${kind} key (${(error as Error).message})`, {
      cause: error,
    });
  }
}

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
