// application/problem+json (RFC 9457): one class of error every handler throws, with a stable
// `type` slug per kind of failure so clients can branch on it.
export const PROBLEMS = {
  'validation-error': [400, 'Request does not match the schema'],
  'malformed-json': [400, 'Request body is not valid JSON'],
  unauthenticated: [401, 'Authentication required'],
  'invalid-token': [401, 'Invalid credentials'],
  'token-expired': [401, 'Token expired'],
  forbidden: [403, 'Not allowed for your role in this room'],
  banned: [403, 'Banned from this room'],
  'not-found': [404, 'No such resource'],
  'room-not-found': [404, 'No such room'],
  'not-participant': [409, 'User is not in the room'],
  'method-not-allowed': [405, 'Method not allowed'],
  'room-exists': [409, 'A room with this name exists'],
  'invalid-state': [409, 'Not possible in the current state'],
  'stage-full': [409, 'The stage is full'],
  'room-not-placed': [409, 'The room is not placed on a media pod yet'],
  'payload-too-large': [413, 'Request body too large'],
  'unsupported-media-type': [415, 'Request body must be application/json'],
  'rate-limited': [429, 'Too many requests'],
  internal: [500, 'Internal error'],
  'no-capacity': [503, 'No media capacity for this room right now'],
  unavailable: [503, 'A dependency is unavailable'],
} as const satisfies Record<string, readonly [number, string]>;

export type ProblemKind = keyof typeof PROBLEMS;

export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  constructor(
    readonly kind: ProblemKind,
    readonly detail?: string,
    readonly extra: {
      headers?: Record<string, string>;
      errors?: Array<{ path: string; message: string }>;
    } = {},
  ) {
    super(detail ?? PROBLEMS[kind][1]);
    this.name = 'HttpProblem';
    this.status = PROBLEMS[kind][0];
    this.title = PROBLEMS[kind][1];
  }
}

export const problem = (kind: ProblemKind, detail?: string): HttpProblem =>
  new HttpProblem(kind, detail);
