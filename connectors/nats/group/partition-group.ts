import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SystemClock, type Clock } from 'sluice';
import { checkServers } from '../nats-connection.js';
import { assignPartitions, assignStandbys } from './assign-partitions.js';
import { BUCKET_NAME, GroupBucket, type BucketEntry } from './group-bucket.js';
import { PartitionLostError } from './partition-lost-error.js';

/*
 * Group membership and partition leases in a JetStream key-value bucket (see docs/scale-out.md).
 *
 * Keys: `config` ({ partitions }), `members.<id>` ({ member, heartbeatAt }) and `leases.<p>`
 * ({ holder, heartbeatAt, epoch }). Every heartbeat a member rewrites its member entry and each of
 * its leases by compare-and-set on the revision it last wrote, reads the bucket, computes the
 * assignment of the partitions to the live members (assignPartitions: every member computes the
 * same one from the same reading), releases the leases it should no longer hold and acquires the
 * ones it should that are free or expired. The epoch counts the lease's holders; the revision
 * changes at every renewal.
 *
 * Expiry without server TTLs (2.9 has none): an entry is expired when the observer has seen the
 * same revision for `leaseMs` on its own monotonic clock, so clocks of different machines never
 * need to agree. A holder counts its lease from the moment it sent the renewal, which comes
 * before anyone saw its revision, and trusts a renewal only when its answer came within half a
 * lease: then the lease still has half a lease to run whatever the others saw. What makes a stale
 * holder harmless is the compare-and-set all the same: a renewal or fencing check on a revision
 * someone else replaced is refused by the server.
 *
 * Timers and time: leases run on real time against a real server, on `performance.now()`
 * (monotonic, so a wall-clock jump expires nothing) and `setTimeout`; the engine's batches never
 * read them. The context's clock gives only the `heartbeatAt` written for people to read.
 */

/** A lease's value in the bucket. */
interface LeaseValue {
  /** The member holding it; null when released. */
  readonly holder: string | null;
  /** The holder's wall clock at its last renewal, in ms since the epoch (for people reading the bucket; expiry does not use it). */
  readonly heartbeatAt: number;
  /** How many times the partition changed hands: the fencing epoch. */
  readonly epoch: number;
}

/** A member's value in the bucket. */
interface MemberValue {
  readonly member: string;
  readonly heartbeatAt: number;
}

/** What proves a member owns a partition when it writes: the lease's epoch, checked on the server. */
export interface FencingToken {
  readonly partition: number;
  /** The lease's epoch: it grows each time the partition changes hands, so a write can record it and readers can drop a smaller one. */
  readonly epoch: number;
  /** The member. */
  readonly member: string;
}

/** What a {@link PartitionGroup} tells its owner about its partitions. */
export type PartitionGroupEvent =
  /** The member now holds the partition's lease: restore its state and start on it. */
  | { readonly type: 'assigned'; readonly partition: number; readonly epoch: number }
  /** The partition is being handed to another member: finish and commit its work now; the lease is released when the returned promise settles. */
  | { readonly type: 'revoking'; readonly partition: number; readonly epoch: number }
  /** The lease was taken over (it had expired) or could not be renewed: stop working on the partition at once; its writes are refused. */
  | { readonly type: 'lost'; readonly partition: number; readonly epoch: number; readonly reason: string };

/** Options of {@link PartitionGroup.join}. */
export interface PartitionGroupOptions {
  /** The NATS server(s) of the JetStream cluster. */
  readonly servers: string | readonly string[];
  /** The group's bucket name (letters, digits, '-', '_'): every instance of one job gives the same. */
  readonly group: string;
  /** This member's id, unique in the group and stable across its restarts (letters, digits, '-', '_'). */
  readonly member: string;
  /** How many partitions the group splits (fixed when the group is first created). */
  readonly partitions: number;
  /** How long a lease lasts unrenewed, in ms (default 10 000): a dead member's partitions move after this. */
  readonly leaseMs?: number;
  /** How often the member renews and rebalances, in ms (default `leaseMs / 5`, less than `leaseMs / 2`). */
  readonly heartbeatMs?: number;
  /** How many copies of the bucket the cluster keeps, when this member creates it (default 1; 3 on a three-server cluster). */
  readonly replicas?: number;
  /** Hears assignments, revocations (awaited before the lease is released) and losses. */
  readonly onChange?: (event: PartitionGroupEvent) => void | Promise<void>;
  /** Hears a heartbeat that failed (the server unreachable); the member tries again at the next one. */
  readonly onError?: (error: unknown) => void;
  /**
   * How many standby members each partition has besides its owner (default 0; Kafka Streams'
   * `num.standby.replicas`): members that keep a warm copy of its state and take it first when
   * its owner goes ({@link assignStandbys}). Give every member of a group the same number.
   */
  readonly standbyReplicas?: number;
  /** Hears the partitions this member stands by for, each time they change (after a heartbeat), in order. */
  readonly onStandby?: (partitions: readonly number[]) => void;
  /** The wall clock of the `heartbeatAt` fields (default the system's); expiry never reads it. */
  readonly clock?: Clock;
}

/** A lease this member holds. */
interface Held {
  epoch: number;
  revision: number;
}

/** What the member saw of an entry: its revision, and since when it has seen it. */
interface Seen {
  readonly revision: number;
  readonly since: number;
}

/**
 * A member of a partition group: the partitions of a partitioned stream are spread over the live
 * members (balanced, sticky: {@link assignPartitions}), each held through a lease in a JetStream
 * key-value bucket, renewed by heartbeat with compare-and-set, taken over only once it expired,
 * released at once on {@link PartitionGroup.leave}. {@link PartitionGroup.assertOwner} checks a
 * lease on the server before a write (fencing): a member whose lease was taken is refused.
 *
 * @example
 * const group = await PartitionGroup.join({ servers, group: 'orders-job', member: 'host-1', partitions: 12, onChange: (e) => console.log(e) });
 * const token = await group.assertOwner(3); // before writing partition 3's results
 * await group.leave();
 */
export class PartitionGroup {
  /** This member's id. */
  readonly member: string;
  /** How many partitions the group splits. */
  readonly partitions: number;
  /** The lease length in ms. */
  readonly leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #nc: NatsConnection;
  readonly #bucket: GroupBucket;
  readonly #onChange: (event: PartitionGroupEvent) => void | Promise<void>;
  readonly #onError: (error: unknown) => void;
  readonly #standbyReplicas: number;
  readonly #onStandby: (partitions: readonly number[]) => void;
  /** The partitions this member stands by for, as last told. */
  #standing: readonly number[] = [];
  readonly #clock: Clock;
  readonly #held = new Map<number, Held>();
  readonly #seen = new Map<string, Seen>();
  /** Per partition, the lease operation running (renewals and fencing checks never race each other). */
  readonly #locks = new Map<number, Promise<unknown>>();
  #memberRevision = 0;
  #live: readonly string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #tick: Promise<void> = Promise.resolve();
  /** Set by leave() and close(): no more heartbeats. */
  #stopping = false;
  /** Set once the member left or closed: it owns nothing. */
  #closed = false;

  private constructor(options: Required<Pick<PartitionGroupOptions, 'member' | 'partitions' | 'leaseMs' | 'heartbeatMs' | 'clock'>> & Pick<PartitionGroupOptions, 'onChange' | 'onError' | 'standbyReplicas' | 'onStandby'>, nc: NatsConnection, bucket: GroupBucket) {
    this.member = options.member;
    this.partitions = options.partitions;
    this.leaseMs = options.leaseMs;
    this.#heartbeatMs = options.heartbeatMs;
    this.#nc = nc;
    this.#bucket = bucket;
    this.#onChange = options.onChange ?? (() => undefined);
    this.#onError = options.onError ?? (() => undefined);
    this.#standbyReplicas = options.standbyReplicas ?? 0;
    this.#onStandby = options.onStandby ?? (() => undefined);
    this.#clock = options.clock;
  }

  /**
   * Joins the group (creating its bucket if needed) and runs the first heartbeat: resolves once
   * the member is registered and has taken the free partitions due to it.
   *
   * @throws TypeError/RangeError for malformed options, or when the group exists with another number of partitions.
   */
  static async join(options: PartitionGroupOptions): Promise<PartitionGroup> {
    const what = 'PartitionGroup.join';
    if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: give options: { servers, group, member, partitions }.`);
    const servers = checkServers(what, options.servers);
    for (const field of ['group', 'member'] as const) {
      const value = options[field];
      if (typeof value !== 'string' || !BUCKET_NAME.test(value)) throw new TypeError(`${what}: ${field} must be a name of letters, digits, '-' and '_', got ${JSON.stringify(value)}.`);
    }
    const { partitions, leaseMs = 10_000, replicas = 1 } = options;
    if (!Number.isSafeInteger(partitions) || partitions < 1) throw new RangeError(`${what}: partitions must be a whole number of at least 1, got ${String(partitions)}.`);
    if (!Number.isFinite(leaseMs) || leaseMs < 100) throw new RangeError(`${what}: leaseMs must be at least 100 (ms), got ${String(leaseMs)}.`);
    const heartbeatMs = options.heartbeatMs ?? leaseMs / 5;
    if (!Number.isFinite(heartbeatMs) || heartbeatMs <= 0 || heartbeatMs >= leaseMs / 2) throw new RangeError(`${what}: heartbeatMs must be more than 0 and less than leaseMs / 2 (${leaseMs / 2}), got ${String(heartbeatMs)}.`);
    if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > 5) throw new RangeError(`${what}: replicas must be a whole number from 1 to 5, got ${String(replicas)}.`);
    if (options.onChange !== undefined && typeof options.onChange !== 'function') throw new TypeError(`${what}: onChange must be a function (event) => void.`);
    const { standbyReplicas = 0 } = options;
    if (!Number.isSafeInteger(standbyReplicas) || standbyReplicas < 0) throw new RangeError(`${what}: standbyReplicas must be a whole number of at least 0, got ${String(standbyReplicas)}.`);
    const nc = await connect({ servers, name: `sluice-group-${options.member}`, maxReconnectAttempts: -1, reconnectTimeWait: Math.min(1_000, heartbeatMs), timeout: 2_000 });
    try {
      const bucket = await openBucket(nc, options.group, replicas);
      await checkConfig(bucket, options.group, partitions);
      const { onChange, onError, onStandby, clock = new SystemClock() } = options;
      const group = new PartitionGroup({ member: options.member, partitions, leaseMs, heartbeatMs, clock, standbyReplicas, ...(onChange === undefined ? {} : { onChange }), ...(onError === undefined ? {} : { onError }), ...(onStandby === undefined ? {} : { onStandby }) }, nc, bucket);
      await group.#heartbeat();
      group.#schedule();
      return group;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /** The partitions this member holds now, in order. */
  owned(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  /** The partitions this member stands by for (standby replicas), as of its last heartbeat, in order. */
  standbys(): readonly number[] {
    return this.#standing;
  }

  /** The members this member saw alive at its last heartbeat (itself included), in id order. */
  members(): readonly string[] {
    return this.#live;
  }

  /**
   * Proves this member still owns `partition` before a write: renews the lease on the server by
   * compare-and-set on the revision the member last wrote. Refused when another member took the
   * lease over (or it was released), and then the member has lost the partition ('lost' event).
   *
   * @returns the fencing token: record its epoch with the write.
   * @throws PartitionLostError when the member does not own the partition (any more).
   */
  async assertOwner(partition: number): Promise<FencingToken> {
    return this.#withLease(partition, async () => {
      const held = this.#held.get(partition);
      if (held === undefined || this.#closed) throw new PartitionLostError(partition, this.member, 0, 'it holds no lease on it');
      await this.#renew(partition, held, 'a fencing check');
      return { partition, epoch: held.epoch, member: this.member };
    });
  }

  /**
   * Leaves the group gracefully: stops the heartbeat, hands every partition over ('revoking',
   * awaited, then the lease is released, so the others take it at their next heartbeat), removes
   * the member entry and closes the connection.
   */
  async leave(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#stopTimer();
    await this.#tick.catch(() => undefined);
    try {
      for (const partition of this.owned()) await this.#release(partition);
      if (this.#memberRevision > 0) await this.#bucket.remove(`members.${this.member}`, this.#memberRevision);
    } finally {
      this.#closed = true;
      await this.#nc.close();
    }
  }

  /** Stops without handing anything over (as a crash would: the leases expire); for tests and emergencies. */
  async close(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#closed = true;
    this.#stopTimer();
    await this.#tick.catch(() => undefined);
    this.#held.clear();
    await this.#nc.close();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#heartbeat().catch((error: unknown) => {
        this.#onError(error);
      });
      void this.#tick.then(() => {
        this.#schedule();
      });
    }, this.#heartbeatMs);
  }

  /** One heartbeat: renew, read the bucket, release and acquire towards the assignment. */
  async #heartbeat(): Promise<void> {
    await this.#beat();
    for (const [partition, held] of [...this.#held]) await this.#withLease(partition, () => this.#renew(partition, held, 'a heartbeat')).catch(() => undefined);
    const [members, leases] = await Promise.all([this.#bucket.entries<MemberValue>('members'), this.#bucket.entries<LeaseValue>('leases')]);
    const now = performance.now();
    const expired = new Set<string>();
    for (const entry of [...members, ...leases]) if (this.#expired(entry, now)) expired.add(entry.key);
    const live: string[] = [this.member];
    for (const entry of members) {
      const id = entry.key.slice('members.'.length);
      if (entry.value === undefined || id === this.member) continue;
      if (!expired.has(entry.key)) live.push(id);
      else await this.#bucket.remove(entry.key, entry.revision); // a dead member's entry; refused harmlessly if it came back
    }
    this.#live = live.sort();
    const byPartition = new Map<number, BucketEntry<LeaseValue>>();
    for (const entry of leases) byPartition.set(Number(entry.key.slice('leases.'.length)), entry);
    const current = Array.from({ length: this.partitions }, (_, p) => (this.#held.has(p) ? this.member : holderOf(byPartition.get(p))));
    // The standbys as they stand: of the holders too, so a dead holder's partitions go to theirs.
    const standbys = this.#standbyReplicas === 0 ? [] : assignStandbys(this.partitions, [...new Set([...this.#live, ...current.filter((h): h is string => h !== undefined)])], current, this.#standbyReplicas);
    const target = assignPartitions(this.partitions, this.#live, current, standbys);
    for (const partition of this.owned()) if (target[partition] !== this.member) await this.#release(partition);
    for (let partition = 0; partition < this.partitions; partition++) {
      if (target[partition] !== this.member || this.#held.has(partition)) continue;
      const entry = byPartition.get(partition);
      if (entry === undefined || entry.value?.holder == null || entry.value.holder === this.member || expired.has(entry.key)) await this.#acquire(partition, entry);
    }
    this.#stand(standbys);
  }

  /** Tells the partitions this member now stands by for (none it holds), when they changed. */
  #stand(standbys: readonly (readonly string[])[]): void {
    if (this.#stopping) return;
    const mine: number[] = [];
    for (let p = 0; p < standbys.length; p++) if (!this.#held.has(p) && (standbys[p] as readonly string[]).includes(this.member)) mine.push(p);
    if (mine.length === this.#standing.length && mine.every((p, i) => this.#standing[i] === p)) return;
    this.#standing = mine;
    try {
      this.#onStandby(mine);
    } catch (error) {
      this.#onError(error);
    }
  }

  /** Rewrites the member entry (creates it again if it was removed as dead). */
  async #beat(): Promise<void> {
    const key = `members.${this.member}`;
    const value: MemberValue = { member: this.member, heartbeatAt: this.#clock.now() };
    let revision = await this.#bucket.put(key, value, this.#memberRevision);
    if (revision === undefined) revision = await this.#bucket.put(key, value, (await this.#bucket.get(key))?.revision ?? 0);
    if (revision !== undefined) this.#memberRevision = revision;
  }

  /** Whether `entry` has kept its revision for a whole lease in this member's eyes. */
  #expired(entry: BucketEntry<unknown>, now: number): boolean {
    const seen = this.#seen.get(entry.key);
    if (seen?.revision !== entry.revision) {
      this.#seen.set(entry.key, { revision: entry.revision, since: now });
      return false;
    }
    return now - seen.since >= this.leaseMs;
  }

  async #acquire(partition: number, entry: BucketEntry<LeaseValue> | undefined): Promise<void> {
    const epoch = (entry?.value?.epoch ?? 0) + 1;
    const revision = await this.#bucket.put(`leases.${partition}`, { holder: this.member, heartbeatAt: this.#clock.now(), epoch } satisfies LeaseValue, entry?.revision ?? 0);
    if (revision === undefined) return; // another member came first
    this.#held.set(partition, { epoch, revision });
    await this.#onChange({ type: 'assigned', partition, epoch });
  }

  /**
   * Renews a held lease by compare-and-set; a refusal means it was lost. An answer that comes
   * more than half a lease after the renewal was sent (the process was paused, or starved) proves
   * nothing about now: others may be about to take the lease, so the member gives the partition
   * up (releasing it) rather than write on it.
   */
  async #renew(partition: number, held: Held, why: string): Promise<void> {
    const sent = performance.now();
    const revision = await this.#bucket.put(`leases.${partition}`, { holder: this.member, heartbeatAt: this.#clock.now(), epoch: held.epoch } satisfies LeaseValue, held.revision);
    if (revision === undefined) {
      throw this.#lose(partition, held, `${why} found its lease rewritten by another member (it had expired: this member did not renew it for ${this.leaseMs} ms)`);
    }
    const took = performance.now() - sent;
    if (took > this.leaseMs / 2) {
      const error = this.#lose(partition, held, `${why} was answered ${Math.round(took)} ms after it was sent (the process was paused or starved), too late to trust a lease of ${this.leaseMs} ms`);
      await this.#bucket.put(`leases.${partition}`, { holder: null, heartbeatAt: this.#clock.now(), epoch: held.epoch } satisfies LeaseValue, revision).catch(() => undefined);
      throw error;
    }
    held.revision = revision;
  }

  /** Hands a partition over: 'revoking' (awaited), then the lease released by compare-and-set. */
  async #release(partition: number): Promise<void> {
    const held = this.#held.get(partition);
    if (held === undefined) return;
    try {
      await this.#onChange({ type: 'revoking', partition, epoch: held.epoch });
    } finally {
      await this.#withLease(partition, async () => {
        this.#held.delete(partition);
        await this.#bucket.put(`leases.${partition}`, { holder: null, heartbeatAt: this.#clock.now(), epoch: held.epoch } satisfies LeaseValue, held.revision);
      });
    }
  }

  #lose(partition: number, held: Held, reason: string): PartitionLostError {
    if (this.#held.get(partition) === held) {
      this.#held.delete(partition);
      void Promise.resolve(this.#onChange({ type: 'lost', partition, epoch: held.epoch, reason })).catch((error: unknown) => {
        this.#onError(error);
      });
    }
    return new PartitionLostError(partition, this.member, held.epoch, reason);
  }

  #withLease<R>(partition: number, run: () => Promise<R>): Promise<R> {
    const previous = this.#locks.get(partition) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.#locks.set(partition, next.catch(() => undefined));
    return next;
  }
}

function holderOf(entry: BucketEntry<LeaseValue> | undefined): string | undefined {
  return entry?.value?.holder ?? undefined;
}

async function openBucket(nc: NatsConnection, group: string, replicas: number): Promise<GroupBucket> {
  try {
    return await GroupBucket.open(nc, group, replicas);
  } catch {
    // Two members creating the bucket at once: one of them finds it made.
    return GroupBucket.open(nc, group, replicas);
  }
}

/** Records the number of partitions on first use; refuses a member that gives another. */
async function checkConfig(bucket: GroupBucket, group: string, partitions: number): Promise<void> {
  const existing = await bucket.get<{ partitions: number }>('config');
  if (existing?.value === undefined) {
    if ((await bucket.put('config', { partitions }, existing?.revision ?? 0)) !== undefined) return;
    return checkConfig(bucket, group, partitions);
  }
  if (existing.value.partitions !== partitions) throw new RangeError(`PartitionGroup.join: group ${group} splits ${existing.value.partitions} partitions, not ${partitions}: the number of partitions is fixed when a group is created. Give ${existing.value.partitions}, or a new group name.`);
}
