// Free loopback ports for local mode and the test beds: one TCP port, or a run of ports free for both
// TCP and UDP (the media pod's workers listen on basePort + i, UDP and TCP).
//
// Ports are picked below the kernel's ephemeral range: a port the kernel handed out for listen(0)
// and that we closed again can be taken at any moment by some outgoing connection, which then makes
// the later bind fail with EADDRINUSE. Nothing picks ports below the range by itself.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;

export function freeTcpPort(host = '127.0.0.1', port?: number): Promise<number> {
  if (port === undefined) return freePortRange(host, 1);
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

/** First port of the kernel's ephemeral (outgoing-connection) range; 32768 where it cannot be read. */
export function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(low) && low > LOWEST ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** A base port such that base … base+count-1 are free on TCP and UDP, all below the ephemeral range. */
export async function freePortRange(host: string, count: number, attempts = 100): Promise<number> {
  const high = ephemeralLow() - count;
  for (let i = 0; i < attempts; i++) {
    const base = LOWEST + Math.floor(Math.random() * (high - LOWEST));
    let ok = true;
    for (let p = base; p < base + count && ok; p++)
      ok =
        (await freeTcpPort(host, p).then(
          () => true,
          () => false,
        )) && (await udpFree(host, p));
    if (ok) return base;
  }
  throw new Error(
    `no run of ${count} free TCP+UDP ports on ${host} between ${LOWEST} and ${high + count}`,
  );
}
