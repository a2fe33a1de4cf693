import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll } from 'vitest';
import type { Service } from './services.js';

/*
 * A three-server NATS JetStream cluster on loopback ports for the scale-out suites: the machine's
 * `nats-server` binary (2.9 here), each server with its own config file and data directory in a
 * temporary directory, routes between all three, and an HTTP monitoring port each (how `start`
 * waits for JetStream's meta leader). One server can be stopped, killed and restarted on its data.
 * Everything is stopped and deleted by `stop()`, by the `afterAll` of `useJetStreamCluster`, and
 * (killed) when the test process exits, also after a failure. The local NATS on 4222 is not used.
 */

/** Where the `nats-server` binary is: `$SLUICE_NATS_SERVER`, else the first on PATH, else /usr/sbin. */
export function natsServerBinary(): string {
  const given = process.env.SLUICE_NATS_SERVER;
  if (given !== undefined && given !== '') return given;
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin']) {
    if (dir !== '' && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  }
  return '/usr/sbin/nats-server';
}

/** The `nats-server` binary as a service for `describeWith`: present or not. */
export const NATS_SERVER_BINARY: Service = {
  name: 'the nats-server binary',
  host: '',
  port: 0,
  start: 'install nats-server 2.9+ (apt-get install nats-server), or set SLUICE_NATS_SERVER to its path',
  available: () => Promise.resolve(existsSync(natsServerBinary())),
};

/** A free TCP port on 127.0.0.1 (the system's pick; free when returned). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** One server of the cluster. */
interface Node {
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly httpPort: number;
  readonly config: string;
  readonly log: string;
  process: ChildProcess | undefined;
}

/** Every cluster not stopped yet, killed when the process exits. */
const live = new Set<JetStreamCluster>();
process.once('exit', () => {
  for (const cluster of live) cluster.killAllNow();
});

/** A running three-server JetStream cluster. */
export class JetStreamCluster {
  readonly #dir: string;
  readonly #nodes: Node[];

  private constructor(dir: string, nodes: Node[]) {
    this.#dir = dir;
    this.#nodes = nodes;
  }

  /**
   * Starts `size` (default 3) servers on free loopback ports and waits until JetStream has a meta
   * leader that every server follows.
   */
  static async start(size = 3): Promise<JetStreamCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-jscluster-'));
    const nodes: Node[] = [];
    for (let i = 0; i < size; i++) {
      const name = `n${i + 1}`;
      nodes.push({ name, port: await freePort(), clusterPort: await freePort(), httpPort: await freePort(), config: join(dir, `${name}.conf`), log: join(dir, `${name}.log`), process: undefined });
    }
    const cluster = new JetStreamCluster(dir, nodes);
    live.add(cluster);
    try {
      for (const node of nodes) await writeFile(node.config, configOf(node, nodes, dir));
      for (let i = 0; i < size; i++) cluster.#spawn(i);
      await cluster.waitForMetaLeader();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Every server's client address (`127.0.0.1:<port>`), for `servers` options. */
  get servers(): string[] {
    return this.#nodes.map((node) => `127.0.0.1:${node.port}`);
  }

  /** Server `i`'s client address. */
  server(i: number): string {
    return `127.0.0.1:${this.#node(i).port}`;
  }

  /** Whether server `i` is running. */
  running(i: number): boolean {
    return this.#node(i).process !== undefined;
  }

  /** Stops server `i` gracefully (SIGTERM) and waits for it to exit. */
  async stopServer(i: number): Promise<void> {
    await this.#end(this.#node(i), 'SIGTERM');
  }

  /** Kills server `i` (SIGKILL) and waits for it to exit. */
  async killServer(i: number): Promise<void> {
    await this.#end(this.#node(i), 'SIGKILL');
  }

  /** Starts server `i` again on its config and data, and waits until it serves JetStream with the others. */
  async restartServer(i: number): Promise<void> {
    if (this.running(i)) throw new Error(`server ${i} is running`);
    this.#spawn(i);
    await this.waitForMetaLeader();
  }

  /**
   * Waits until every running server reports the same JetStream meta leader and sees its peers
   * (the monitoring endpoint `/jsz`), at most `timeoutMs`.
   */
  async waitForMetaLeader(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      const views = await Promise.all(this.#nodes.filter((n) => n.process !== undefined).map((n) => jszOf(n.httpPort)));
      const leaders = new Set(views.map((v) => v?.meta_cluster?.leader ?? ''));
      const [leader] = leaders;
      if (leaders.size === 1 && leader !== undefined && leader !== '' && views.every((v) => (v?.meta_cluster?.cluster_size ?? 0) === this.#nodes.length)) return leader;
      last = JSON.stringify(views.map((v) => v?.meta_cluster ?? null));
      await sleep(50);
    }
    throw new Error(`the JetStream cluster has no meta leader all servers follow after ${timeoutMs} ms: ${last}\n${await this.logs()}`);
  }

  /** The last lines of every server's log, for failure messages. */
  async logs(lines = 20): Promise<string> {
    const parts = await Promise.all(this.#nodes.map(async (node) => {
      const text = await readFile(node.log, 'utf8').catch(() => '');
      return `--- ${node.name} ---\n${text.split('\n').slice(-lines).join('\n')}`;
    }));
    return parts.join('\n');
  }

  /** Stops every server (SIGTERM, SIGKILL after 5 s) and deletes the directory. */
  async stop(): Promise<void> {
    await Promise.all(this.#nodes.map((node) => this.#end(node, 'SIGTERM')));
    live.delete(this);
    await rm(this.#dir, { recursive: true, force: true });
  }

  /** Kills every server at once, synchronously (at process exit). */
  killAllNow(): void {
    for (const node of this.#nodes) node.process?.kill('SIGKILL');
  }

  #node(i: number): Node {
    const node = this.#nodes[i];
    if (node === undefined) throw new RangeError(`server ${i} does not exist (0 to ${this.#nodes.length - 1})`);
    return node;
  }

  #spawn(i: number): void {
    const node = this.#node(i);
    const log = openSync(node.log, 'a');
    try {
      const child = spawn(natsServerBinary(), ['-c', node.config], { stdio: ['ignore', log, log] });
      node.process = child;
      child.once('exit', () => {
        if (node.process === child) node.process = undefined;
      });
    } finally {
      closeSync(log);
    }
  }

  async #end(node: Node, signal: NodeJS.Signals): Promise<void> {
    const child = node.process;
    if (child === undefined) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    node.process = undefined;
  }
}

/** What `/jsz` says about the meta group. */
interface Jsz {
  readonly meta_cluster?: { readonly leader?: string; readonly cluster_size?: number };
}

async function jszOf(httpPort: number): Promise<Jsz | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${httpPort}/jsz`, { signal: AbortSignal.timeout(1_000) });
    return (await response.json()) as Jsz;
  } catch {
    return undefined;
  }
}

function configOf(node: Node, nodes: readonly Node[], dir: string): string {
  const routes = nodes.filter((n) => n !== node).map((n) => `nats-route://127.0.0.1:${n.clusterPort}`);
  return [
    `server_name: ${node.name}`,
    `listen: 127.0.0.1:${node.port}`,
    `http: 127.0.0.1:${node.httpPort}`,
    `jetstream { store_dir: ${JSON.stringify(join(dir, node.name))}, max_memory_store: 64MB, max_file_store: 1GB }`,
    `cluster { name: sluice_test, listen: 127.0.0.1:${node.clusterPort}, routes: [${routes.join(', ')}] }`,
    '',
  ].join('\n');
}

/**
 * A cluster for the test file: started before its first use (`await cluster()`), stopped and
 * deleted after the file, also when a test failed.
 */
export function useJetStreamCluster(): () => Promise<JetStreamCluster> {
  let started: Promise<JetStreamCluster> | undefined;
  afterAll(async () => {
    const cluster = await started?.catch(() => undefined);
    await cluster?.stop();
  }, 30_000);
  return () => {
    started ??= JetStreamCluster.start();
    return started;
  };
}
