// ICE servers for a join: STUN as configured, TURN with ephemeral credentials in the coturn REST
// API scheme (username "<expiry>:<user>", credential base64(HMAC-SHA1(secret, username))).
import { createHmac } from 'node:crypto';
import type { IceServer } from '../../../common/src/api/schemas.js';
import type { Config } from '../config.js';

export function iceServers(
  config: Config['ice'],
  user: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): IceServer[] {
  const servers: IceServer[] = [];
  if (config.stunUrls.length > 0) servers.push({ urls: config.stunUrls });
  if (config.turnSecret !== undefined && config.turnUrls.length > 0) {
    const username = `${nowSeconds + config.ttlSeconds}:${user}`;
    const credential = createHmac('sha1', config.turnSecret).update(username).digest('base64');
    servers.push({ urls: config.turnUrls, username, credential });
  }
  return servers;
}
