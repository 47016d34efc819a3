// Free loopback ports for local mode: one TCP port, or a run of ports free for both TCP and UDP
// (the media pod's workers listen on basePort + i, UDP and TCP).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export function freeTcpPort(host = '127.0.0.1', port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const got = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(got));
    });
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

/** A base port such that base … base+count-1 are free on TCP and UDP. */
export async function freePortRange(host: string, count: number, attempts = 50): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++)
      ok =
        (await freeTcpPort(host, p).then(
          () => true,
          () => false,
        )) && (await udpFree(host, p));
    if (ok) return base;
  }
  throw new Error(`no run of ${count} free TCP+UDP ports on ${host}`);
}
