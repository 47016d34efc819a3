// Bearer JWTs for users (issuer, audience and key or JWKS configurable) and API keys for platform
// automation. Every failure is a precise 401 problem; a JWKS outage is a 503, not a 401.
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  createRemoteJWKSet,
  errors as joseErrors,
  importSPKI,
  jwtVerify,
  type JWTVerifyGetKey,
  type CryptoKey,
} from 'jose';
import type { Config } from '../config.js';
import { HttpProblem } from '../http/problem.js';
import type { Principal } from './principal.js';

const USER_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const challenge = { 'WWW-Authenticate': 'Bearer realm="amphi"' };

type Key = Uint8Array | CryptoKey | JWTVerifyGetKey;

export class Authenticator {
  readonly #apiKeys: Array<{ name: string; digest: Buffer }>;
  #key: Promise<Key>;

  constructor(private readonly config: Pick<Config, 'jwt' | 'apiKeys'>) {
    this.#apiKeys = config.apiKeys.map((k) => ({ name: k.name, digest: sha256(k.secret) }));
    const { secret, jwksUrl, publicKeyPem, algorithms } = config.jwt;
    if (secret !== undefined) this.#key = Promise.resolve(new TextEncoder().encode(secret));
    else if (jwksUrl !== undefined)
      this.#key = Promise.resolve(createRemoteJWKSet(new URL(jwksUrl)));
    else {
      const alg = algorithms.find((a) => a !== 'HS256') ?? 'RS256';
      this.#key = importSPKI(publicKeyPem ?? '', alg);
    }
    this.#key.catch(() => undefined); // reported on first use
  }

  /** The principal of a request, from its Authorization / X-Api-Key headers. */
  async authenticate(headers: {
    authorization?: string | undefined;
    'x-api-key'?: string | string[] | undefined;
  }): Promise<Principal> {
    const apiKey = headers['x-api-key'];
    if (typeof apiKey === 'string') return this.#apiKey(apiKey);
    const authorization = headers.authorization;
    if (authorization === undefined || authorization === '')
      throw new HttpProblem('unauthenticated', 'send Authorization: Bearer <token> or X-Api-Key', {
        headers: challenge,
      });
    const space = authorization.indexOf(' ');
    const scheme = authorization.slice(0, Math.max(space, 0)).toLowerCase();
    const credentials = authorization.slice(space + 1).trim();
    if (scheme === 'apikey') return this.#apiKey(credentials);
    if (scheme !== 'bearer' || credentials === '')
      throw new HttpProblem('unauthenticated', 'unsupported authorization scheme; use Bearer', {
        headers: challenge,
      });
    return this.#bearer(credentials);
  }

  #apiKey(secret: string): Principal {
    const digest = sha256(secret);
    let found: string | undefined;
    for (const key of this.#apiKeys) if (timingSafeEqual(key.digest, digest)) found = key.name;
    if (found === undefined)
      throw new HttpProblem('invalid-token', 'unknown API key', { headers: challenge });
    return { kind: 'platform', id: `apikey:${found}` };
  }

  async #bearer(token: string): Promise<Principal> {
    let payload: Record<string, unknown>;
    try {
      const key = await this.#key;
      const options = {
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        algorithms: this.config.jwt.algorithms,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: 5,
      };
      payload = (
        key instanceof Uint8Array
          ? await jwtVerify(token, key, options)
          : typeof key === 'function'
            ? await jwtVerify(token, key, options)
            : await jwtVerify(token, key, options)
      ).payload;
    } catch (error) {
      const headers = { 'WWW-Authenticate': 'Bearer realm="amphi", error="invalid_token"' };
      if (error instanceof joseErrors.JWTExpired)
        throw new HttpProblem('token-expired', 'the bearer token has expired', { headers });
      if (error instanceof joseErrors.JWKSTimeout || isFetchFailure(error))
        throw new HttpProblem('unavailable', 'the JWKS endpoint did not answer');
      if (error instanceof joseErrors.JOSEError)
        throw new HttpProblem('invalid-token', `bearer token rejected: ${error.message}`, {
          headers,
        });
      throw error;
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || !USER_ID.test(sub))
      throw new HttpProblem('invalid-token', 'the token subject is not a valid user id', {
        headers: challenge,
      });
    const name = typeof payload.name === 'string' ? payload.name.slice(0, 100) : undefined;
    return { kind: 'user', id: sub, ...(name !== undefined ? { name } : {}) };
  }
}

function isFetchFailure(error: unknown): boolean {
  return error instanceof TypeError && /fetch/i.test(error.message);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
