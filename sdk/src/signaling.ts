// The media pod's WebSocket signalling (common/src/contract/signaling.ts): requests with ids,
// exactly one reply each, notifications without ids.
import type {
  JoinReply,
  SignalingErrorCode,
  SignalingNotification,
} from '../../common/src/contract/signaling.js';

export type { JoinReply, SignalingNotification };

export class SignalingError extends Error {
  constructor(
    readonly code: SignalingErrorCode | 'closed',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'SignalingError';
  }
}

export class SignalingSocket {
  #nextId = 1;
  readonly #pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  closed = false;
  onNotification: (n: SignalingNotification) => void = () => {};
  onClose: (reason: string) => void = () => {};

  private constructor(readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as Record<string, unknown>;
      if ('ok' in message) {
        const waiter = this.#pending.get(message.id as number);
        if (!waiter) return;
        this.#pending.delete(message.id as number);
        if (message.ok) waiter.ok(message.data);
        else {
          const error = message.error as { code: SignalingErrorCode; message: string };
          waiter.fail(new SignalingError(error.code, error.message));
        }
      } else this.onNotification(message as unknown as SignalingNotification);
    });
    socket.addEventListener('close', (event) => {
      if (this.closed) return;
      this.closed = true;
      for (const w of this.#pending.values()) w.fail(new SignalingError('closed', 'socket closed'));
      this.#pending.clear();
      this.onClose(event.reason || `code ${event.code}`);
    });
  }

  static connect(url: string, timeoutMs = 10_000): Promise<SignalingSocket> {
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.close();
        reject(new SignalingError('closed', `no connection to ${url} in ${timeoutMs} ms`));
      }, timeoutMs);
      socket.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new SignalingSocket(socket));
      });
      socket.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new SignalingError('closed', `cannot connect to ${url}`));
      });
    });
  }

  request<T>(method: string, data: unknown = {}): Promise<T> {
    if (this.closed) return Promise.reject(new SignalingError('closed', 'socket closed'));
    const id = this.#nextId++;
    return new Promise<T>((ok, fail) => {
      this.#pending.set(id, { ok: ok as (v: unknown) => void, fail });
      this.socket.send(JSON.stringify({ id, method, data }));
    });
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }
}
