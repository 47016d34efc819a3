// The control API over fetch, typed with the schemas the API itself validates and publishes in its
// OpenAPI document (common/src/api/schemas.ts). Errors are RFC 9457 problems → ApiError.
import type {
  CreateRoomRequest,
  HandEntry,
  JoinRequest,
  JoinResponse,
  Problem,
  RoomState,
  RoomSummary,
} from '../../common/src/api/schemas.js';

export type { CreateRoomRequest, JoinRequest, JoinResponse, RoomState, RoomSummary, HandEntry };

export type ParticipantAction =
  'invite' | 'audience' | 'mute' | 'unmute' | 'remove' | 'ban' | 'lower-hand';

export interface StageResult {
  event: string;
  eventId: string;
  changed: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem>,
    /** From Retry-After, when the API sent one. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(`${status} ${problem.title ?? ''}: ${problem.detail ?? ''}`.trim());
    this.name = 'ApiError';
  }

  /** The problem type's slug, e.g. 'room-not-placed'. */
  get kind(): string {
    return String(this.problem.type ?? '')
      .split('/')
      .pop()!;
  }
}

export interface ControlApiOptions {
  /** e.g. http://127.0.0.1:8080 (no trailing /v1). */
  baseUrl: string;
  /** The user's bearer token (a JWT from the identity provider). */
  token: string | (() => string | Promise<string>);
  fetch?: typeof fetch;
}

export class ControlApi {
  readonly #o: ControlApiOptions;

  constructor(options: ControlApiOptions) {
    this.#o = options;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = typeof this.#o.token === 'function' ? await this.#o.token() : this.#o.token;
    const f = this.#o.fetch ?? fetch;
    const response = await f(`${this.#o.baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    const json: unknown = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      const retry = Number(response.headers.get('retry-after'));
      throw new ApiError(
        response.status,
        (json ?? {}) as Partial<Problem>,
        Number.isFinite(retry) && retry > 0 ? retry * 1000 : undefined,
      );
    }
    return json as T;
  }

  createRoom(body: CreateRoomRequest): Promise<RoomState> {
    return this.request('POST', '/v1/rooms', body);
  }
  getRoom(id: string): Promise<RoomState> {
    return this.request('GET', `/v1/rooms/${encodeURIComponent(id)}`);
  }
  endRoom(id: string): Promise<void> {
    return this.request('DELETE', `/v1/rooms/${encodeURIComponent(id)}`);
  }
  join(id: string, body: JoinRequest = {}): Promise<JoinResponse> {
    return this.request('POST', `/v1/rooms/${encodeURIComponent(id)}/join`, body);
  }
  leave(id: string): Promise<StageResult> {
    return this.request('POST', `/v1/rooms/${encodeURIComponent(id)}/leave`, {});
  }
  raiseHand(id: string): Promise<StageResult> {
    return this.request('POST', `/v1/rooms/${encodeURIComponent(id)}/hand`, {});
  }
  lowerHand(id: string): Promise<StageResult> {
    return this.request('DELETE', `/v1/rooms/${encodeURIComponent(id)}/hand`, {});
  }
  answerInvitation(id: string, decision: 'accept' | 'decline'): Promise<StageResult> {
    return this.request('POST', `/v1/rooms/${encodeURIComponent(id)}/invitation/${decision}`, {});
  }
  participant(id: string, user: string, action: ParticipantAction): Promise<StageResult> {
    return this.request(
      'POST',
      `/v1/rooms/${encodeURIComponent(id)}/participants/${encodeURIComponent(user)}/${action}`,
      {},
    );
  }
}
