// HTTP(S) health probes for the control-plane components.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

export interface ProbeResult {
  status: number;
  body: string;
}

export interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  /** For components serving a self-signed certificate of their own. */
  insecure?: boolean;
}

/** One GET with a short timeout; rejects on connection errors (callers poll with waitFor). */
export function get(url: string, tls: TlsOptions = {}, timeoutMs = 2_000): Promise<ProbeResult> {
  const https = url.startsWith('https:');
  const options: RequestOptions = https
    ? {
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: !tls.insecure,
      }
    : {};
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      url,
      { ...options, method: 'GET', timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** True when `url` answers 200 (and, if given, a body containing `expect`). */
export async function healthy(url: string, tls?: TlsOptions, expect?: string): Promise<boolean> {
  const { status, body } = await get(url, tls);
  if (status !== 200) throw new Error(`GET ${url}: ${status} ${body.slice(0, 200)}`);
  return expect === undefined || body.includes(expect);
}
