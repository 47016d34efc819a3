import { freePortRange } from '../../local/ports.js';

/** A TCP+UDP port free on 127.0.0.1 right now, below the kernel's ephemeral range (see local/ports.ts). */
export function freePort(): Promise<number> {
  return freePortRange('127.0.0.1', 1);
}

/** A base port such that base … base+count-1 are free on 127.0.0.1 (media pod workers). */
export function freePorts(count: number): Promise<number> {
  return freePortRange('127.0.0.1', count);
}
