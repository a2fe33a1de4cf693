import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { partitionOf } from 'sluice/nats';
import { GroupBucket } from '../../../../connectors/nats/group/group-bucket.js';
import { startChildJob, type ChildJob } from '../../../support/child-job.js';

/*
 * What the group-run suites share: a keyed job's input and output streams, instances of the job
 * (fixtures/group-member.mjs) as child processes, and the exactly-once check of its output.
 */

const MEMBER = 'test/connectors/nats/group/fixtures/group-member.mjs';

/** An event line of a member. */
export interface MemberEvent {
  readonly ready?: string;
  readonly started?: number;
  readonly stopped?: number;
  readonly failed?: number;
  readonly standby?: number;
  readonly read?: number;
  readonly left?: string;
  readonly from?: string;
  readonly reason?: string;
  readonly error?: string;
  readonly at: number;
}

/** A running instance. */
export interface Member {
  readonly id: string;
  readonly job: ChildJob;
  readonly events: MemberEvent[];
}

/** A group of instances of the counting job, its streams and its checks. */
export class GroupFixture {
  readonly group = `g_${randomBytes(4).toString('hex')}`;
  readonly input = `gin_${randomBytes(4).toString('hex')}`;
  readonly output = `gout_${randomBytes(4).toString('hex')}`;
  readonly changelog = `${this.group}_changelog`;
  readonly servers: readonly string[];
  readonly partitions: number;
  readonly leaseMs: number;
  /** Records published per key. */
  readonly published = new Map<string, number>();
  #next = 0;
  #nc: NatsConnection | undefined;
  #dir = '';
  readonly #members: Member[] = [];

  /** Standby replicas per partition, given to every member. */
  readonly standby: number;
  /** Records per batch and partition (the job's maxRecordsPerBatch). */
  readonly maxBatch: number;

  constructor(servers: readonly string[], partitions: number, leaseMs: number, options: { readonly standby?: number; readonly maxBatch?: number } = {}) {
    this.servers = servers;
    this.partitions = partitions;
    this.leaseMs = leaseMs;
    this.standby = options.standby ?? 0;
    this.maxBatch = options.maxBatch ?? 40;
  }

  get env(): Record<string, string> {
    return { SLUICE_T_SERVERS: this.servers.join(','), SLUICE_T_IN: this.input, SLUICE_T_OUT: this.output, SLUICE_T_PARTITIONS: String(this.partitions), SLUICE_T_MAX_BATCH: String(this.maxBatch) };
  }

  /** The member processes started, in order. */
  get members(): readonly Member[] {
    return this.#members;
  }

  async setUp(replicas = 1): Promise<void> {
    this.#nc = await connect({ servers: [...this.servers], maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const jsm = await jetstreamManager(this.#nc);
    await jsm.streams.add({ name: this.input, subjects: [`${this.input}.>`], num_replicas: replicas });
    await jsm.streams.add({ name: this.output, subjects: [`${this.output}.>`], num_replicas: replicas, duplicate_window: 120_000_000_000 });
    this.#dir = await mkdtemp(join(tmpdir(), 'sluice-group-'));
  }

  async tearDown(): Promise<void> {
    await Promise.all(this.#members.map(async (m) => {
      m.job.child.kill('SIGKILL');
      await m.job.exit;
    }));
    const nc = this.#nc;
    if (nc !== undefined) {
      try {
        const jsm = await jetstreamManager(nc);
        for (const stream of [this.input, this.output, this.changelog, `KV_${this.group}`]) await jsm.streams.delete(stream).catch(() => undefined);
      } catch {
        // A cluster being torn down: its streams go with it.
      }
      await nc.close();
    }
    if (this.#dir !== '') await rm(this.#dir, { recursive: true, force: true });
  }

  /** Starts instance `id` (its local checkpoints under the fixture's directory, kept across its restarts). */
  start(id: string): Member {
    const job = startChildJob(MEMBER, [this.group, id, String(this.partitions), String(this.leaseMs), join(this.#dir, 'ckpt'), this.changelog, String(this.standby)], this.env);
    const member: Member = { id, job, events: [] };
    job.onLine((line) => {
      try {
        member.events.push(JSON.parse(line) as MemberEvent);
      } catch {
        // Not an event line.
      }
    });
    this.#members.push(member);
    return member;
  }

  /** Publishes `count` records over `keys` keys, each on its key's partition, acknowledged in order. */
  async publish(count: number, keys = 24): Promise<void> {
    const js = jetstream(this.#nc as NatsConnection);
    for (let j = 0; j < count; j++) {
      const i = this.#next++;
      const key = `k${(i * 7) % keys}`;
      this.published.set(key, (this.published.get(key) ?? 0) + 1);
      const subject = `${this.input}.${partitionOf(key, this.partitions)}`;
      // Tried again while a server restarts; the id makes a retried publish count once.
      await eventually(() => js.publish(subject, JSON.stringify({ key, i }), { msgID: `in-${i}` }));
    }
  }

  /**
   * Publishes one record for each of `keys` new keys (`w<n>`), many in flight at once: a large
   * state (and changelog) quickly. Order does not matter, each key having one record.
   */
  async publishWide(keys: number): Promise<void> {
    const js = jetstream(this.#nc as NatsConnection);
    const pending: Promise<unknown>[] = [];
    for (let j = 0; j < keys; j++) {
      const i = this.#next++;
      const key = `w${i}`;
      this.published.set(key, 1);
      pending.push(eventually(() => js.publish(`${this.input}.${partitionOf(key, this.partitions)}`, JSON.stringify({ key, i }), { msgID: `in-${i}` })));
      if (pending.length >= 512) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
  }

  /** How many records were published. */
  get total(): number {
    return this.#next;
  }

  /** How many messages the output stream holds. */
  async stored(): Promise<number> {
    return eventually(async () => (await (await jetstreamManager(this.#nc as NatsConnection)).streams.info(this.output)).state.messages);
  }

  /** Every output record, in stream order. */
  async outputs(stream = this.output): Promise<{ key: string; n: number; i: number }[]> {
    const nc = this.#nc as NatsConnection;
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(stream);
    const out: { key: string; n: number; i: number }[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const m = await eventually(() => jsm.streams.getMessage(stream, { seq }));
      if (m != null) out.push(JSON.parse(new TextDecoder().decode(m.data)) as { key: string; n: number; i: number });
    }
    return out;
  }

  /** Each partition's lease epoch in the group's bucket now. */
  async epochs(): Promise<Map<number, number>> {
    const bucket = await GroupBucket.open(this.#nc as NatsConnection, this.group, 1);
    const out = new Map<number, number>();
    for (let p = 0; p < this.partitions; p++) out.set(p, ((await bucket.get<{ epoch: number }>(`leases.${p}`))?.value?.epoch ?? 0));
    return out;
  }

  /**
   * Resolves with the time (Date.now()) of the first output published on one of `partitions`
   * under an epoch above `before`'s (a new owner's: core NATS sees every publish, duplicates too).
   */
  firstOutputAfter(partitions: readonly number[], before: ReadonlyMap<number, number>): { readonly at: Promise<number>; stop(): void } {
    const sub: Subscription = (this.#nc as NatsConnection).subscribe(`${this.output}.*`);
    const at = (async () => {
      for await (const m of sub) {
        const p = Number(m.headers?.get('Sluice-Partition'));
        if (partitions.includes(p) && Number(m.headers?.get('Sluice-Epoch')) > (before.get(p) ?? 0)) return Date.now();
      }
      return Number.NaN;
    })();
    return { at, stop: () => { sub.unsubscribe(); } };
  }

  /**
   * The exactly-once check: key k's outputs are n = 1 .. (records published with k), each once,
   * and record i of the input got the count it has in the input's order. Returns what is wrong.
   */
  async check(outputs?: readonly { key: string; n: number; i: number }[]): Promise<string[]> {
    const got = outputs ?? (await this.outputs());
    const wrong: string[] = [];
    const byKey = new Map<string, number[]>();
    for (const o of got) {
      let list = byKey.get(o.key);
      if (list === undefined) byKey.set(o.key, (list = []));
      list.push(o.n);
    }
    for (const [key, count] of this.published) {
      const ns = (byKey.get(key) ?? []).sort((a, b) => a - b);
      const expected = Array.from({ length: count }, (_, j) => j + 1);
      if (JSON.stringify(ns) !== JSON.stringify(expected)) {
        const missing = expected.filter((n) => !ns.includes(n));
        const doubled = ns.filter((n, j) => ns[j - 1] === n);
        wrong.push(`${key}: ${ns.length} outputs for ${count} records; missing ${JSON.stringify(missing.slice(0, 10))}, doubled ${JSON.stringify(doubled.slice(0, 10))}, beyond ${JSON.stringify(ns.filter((n) => n > count).slice(0, 10))}`);
      }
    }
    return wrong;
  }
}

/** `attempt` until it succeeds (a stream whose leader just died answers after its new election), at most 20 s. */
export async function eventually<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Waits until `ready()` holds, checking every 50 ms, at most `ms`; returns the ms it took. */
export async function waitFor(ready: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<number> {
  const start = performance.now();
  while (!(await ready())) {
    if (performance.now() - start > ms) throw new Error(`still waiting for ${what} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return performance.now() - start;
}

/** The partitions running on `member` now, from its events. */
export function runningOn(member: Member): Set<number> {
  const running = new Set<number>();
  for (const e of member.events) {
    if (e.started !== undefined) running.add(e.started);
    if (e.stopped !== undefined) running.delete(e.stopped);
    if (e.failed !== undefined) running.delete(e.failed);
  }
  return running;
}
