// Who is calling: a user (JWT bearer) or platform automation (API key).
export interface Principal {
  kind: 'user' | 'platform';
  /** User id (JWT sub) or `apikey:<name>`. */
  id: string;
  name?: string;
}
