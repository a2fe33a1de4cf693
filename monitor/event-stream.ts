import type { ServerResponse } from 'node:http';

/**
 * The clients of `GET /events` (server-sent events). Each event is written to every client at
 * once; a client that does not read lets its socket's buffer grow, and past `maxBufferedBytes`
 * it is dropped, so a stuck browser can hold back neither the job nor the process's memory.
 */
export class EventStream {
  readonly #clients = new Set<ServerResponse>();
  readonly #maxBufferedBytes: number;
  /** Clients dropped for not reading. */
  dropped = 0;

  constructor(maxBufferedBytes: number) {
    this.#maxBufferedBytes = maxBufferedBytes;
  }

  /** How many clients are connected. */
  get size(): number {
    return this.#clients.size;
  }

  /** Opens the event stream on `res` and sends it `first` (the snapshot a (re)connected page starts from). */
  open(res: ServerResponse, first: { readonly event: string; readonly data: unknown }): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    // A browser retries a lost stream after this many ms (the page reconnects when the server comes back).
    res.write('retry: 2000\n\n');
    this.#clients.add(res);
    res.on('close', () => this.#clients.delete(res));
    const text = frame(first.event, first.data);
    this.#write(res, text, Buffer.byteLength(text));
  }

  /** Sends one event to every client. */
  send(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const text = frame(event, data);
    const bytes = Buffer.byteLength(text);
    for (const res of this.#clients) this.#write(res, text, bytes);
  }

  /** Ends every stream (after the events already sent). */
  end(): void {
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #write(res: ServerResponse, text: string, bytes: number): void {
    if (res.writableLength + bytes > this.#maxBufferedBytes) {
      this.#clients.delete(res);
      this.dropped++;
      res.destroy();
      return;
    }
    res.write(text);
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
