import { get, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';

/** Sends `text` as is on a new connection and gives everything the server answers until it closes (or `ms` pass). */
export function rawRequest(port: number, text: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, ms);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.write(text);
  });
}

/** A GET that asks the connection to close, so {@link rawRequest} resolves when the answer is complete. */
export function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  const all = { Host: '127.0.0.1', Connection: 'close', ...headers };
  const lines = [`GET ${path} HTTP/1.1`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)];
  return rawRequest(port, `${lines.join('\r\n')}\r\n\r\n`);
}

/** The status code of a raw HTTP answer. */
export function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? NaN);
}

/** One server-sent event. */
export interface ServerEvent {
  readonly event: string;
  readonly data: unknown;
}

/** A client of `/events` that reads and parses every event, for the tests to wait on. */
export class EventClient {
  readonly events: ServerEvent[] = [];
  closed = false;
  readonly #waiters: (() => void)[] = [];
  #buffer = '';
  #response: IncomingMessage | undefined;

  static open(url: string, headers: Record<string, string> = {}): Promise<EventClient> {
    const client = new EventClient();
    return new Promise((resolve, reject) => {
      get(url, { headers }, (res) => {
        client.#response = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { client.#take(chunk); });
        res.on('close', () => {
          client.closed = true;
          client.#wake();
        });
        resolve(client);
      }).on('error', reject);
    });
  }

  /** Resolves once `predicate` holds of the events received (checked on each one), or rejects after `ms`. */
  async until(predicate: (events: readonly ServerEvent[]) => boolean, ms = 5000): Promise<void> {
    let late = false;
    const deadline = setTimeout(() => {
      late = true;
      this.#wake();
    }, ms);
    try {
      while (!predicate(this.events)) {
        const seen = this.events.map((e) => e.event).join(', ');
        if (this.closed) throw new Error(`the event stream closed; events: ${seen}`);
        if (late) throw new Error(`timed out; events: ${seen}`);
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  close(): void {
    this.#response?.destroy();
  }

  #take(chunk: string): void {
    this.#buffer += chunk;
    let end: number;
    while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
      const frame = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event !== undefined && data !== undefined) this.events.push({ event, data: JSON.parse(data) as unknown });
    }
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

/** Opens `/events` and reads nothing: the client that never reads. */
export function stuckClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      socket.pause();
      resolve(socket);
    });
    socket.on('error', reject);
  });
}
