import { createServer, type Server, type Socket } from 'node:net';

/** A TCP server on 127.0.0.1 that a test writes lines to, as `nc -lk` would, for socket sources to connect to. */
export class LineServer {
  /** Accepted connections, in order. */
  readonly connections: Socket[] = [];
  readonly #server: Server;
  #waiting: (() => void)[] = [];

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      this.connections.push(socket);
      for (const wake of this.#waiting.splice(0)) wake();
    });
  }

  /** Listens on `port` (default: any free port). */
  static async listen(port = 0): Promise<LineServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return new LineServer(server);
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  /** The `n`th connection (from 1), once accepted. */
  async connection(n = 1): Promise<Socket> {
    while (this.connections.length < n) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return this.connections[n - 1]!;
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }
}
