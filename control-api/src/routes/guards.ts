// Small checks shared by the routes.
import { roomId } from '../../../common/src/contract/keys.js';
import type { Principal } from '../auth/principal.js';
import type { Deps } from '../deps.js';
import { HttpProblem } from '../http/problem.js';

export const contractRoom = (deps: Deps, name: string): string =>
  roomId(deps.config.namespace, name);

/** Users only: the action is about the caller as a participant. */
export function requireUser(principal: Principal, what: string): void {
  if (principal.kind !== 'user')
    throw new HttpProblem('forbidden', `${what} needs a user token, not an API key`);
}
