import type { Key } from 'sluice';
import { bytesToStoreKey, decodeKey, decodeValue } from 'sluice/extend';
import type { StoredMessage } from '../pull-cursor.js';

/*
 * A partition's changelog as read so far, message by message in stream order: the last two
 * changes of every key (what the stream itself keeps, `max_msgs_per_subject: 2`), the last
 * committed batch and the plans logged after it. A restore reads the whole partition into a
 * fresh one; a standby replica keeps one and feeds it the changelog's new messages as they come
 * (ChangelogStream.catchUp), so that a failover reads only what came after its last message.
 * Fed the same messages in order, a copy gives what a full read gives: both keep a key's last two
 * changes and take the latest of a committed batch.
 */

/** A change's payload (Sluice's state value encoding): [batchId, removed, value]. */
export type Packed = [number, boolean, unknown];

/** A batch's plan as ChangelogStream.appendPlan logged it. */
export interface LoggedPlan {
  readonly batchId: number;
  /** The fencing epoch of the owner that logged it. */
  readonly epoch: number;
  /** The plan (plain data). */
  readonly plan: unknown;
}

/** A partition's state as the changelog has it: the last batch committed and every key's value then. */
export interface RestoredPartition {
  /** The last batch whose changes were all stored; -1 when none was. */
  readonly batchId: number;
  /** Every key's value as of that batch. */
  readonly entries: readonly (readonly [Key, unknown])[];
  /**
   * The plans logged (ChangelogStream.appendPlan) for the batches after it, in batch order and
   * without gaps: for each batch, the one logged with the highest epoch.
   */
  readonly plans: readonly LoggedPlan[];
  /** Where it came from: the whole changelog (`'changelog'`) or a standby's warm copy caught up (`'standby'`). */
  readonly from: 'changelog' | 'standby';
  /** How many changelog messages this restore read (a warm copy: only those after its last one). */
  readonly read: number;
}

/**
 * A warm copy of one partition's changelog, kept by a standby replica (see
 * `ChangelogStream.standbyCopy`): it is brought up to date with `ChangelogStream.catchUp`, and a
 * restore given it reads only the messages after its last one.
 */
export class PartitionCopy {
  /** The partition. */
  readonly partition: number;
  /** The changelog stream's name. */
  readonly stream: string;
  /** When the stream was created (a stream deleted and made again is another stream: the copy is refused). */
  readonly created: string;
  /** The stream sequence the copy has read up to, every partition's messages counted (0: none). */
  lastSeq = 0;
  /** How many messages were fed to it in all. */
  messages = 0;
  /** Set when the copy cannot be trusted any more (the stream lost messages it never saw): a restore reads the whole changelog. */
  refused: string | undefined;
  #committed = -1;
  readonly #keys = new Map<string, Packed[]>();
  readonly #plans = new Map<number, LoggedPlan>();
  readonly #head: string;

  constructor(stream: string, partition: number, created: string) {
    this.stream = stream;
    this.partition = partition;
    this.created = created;
    this.#head = `${stream}.${partition}.`;
  }

  /** Records that the copy has read every message of its partition up to stream sequence `seq`. */
  readTo(seq: number): void {
    this.lastSeq = Math.max(this.lastSeq, seq);
  }

  /** The last batch committed as far as the copy has read (-1: none). */
  get batchId(): number {
    return this.#committed;
  }

  /** Feeds the partition's messages, in stream order, after the last one fed. */
  add(messages: readonly StoredMessage[]): void {
    const head = this.#head;
    for (const m of messages) {
      if (m.seq <= this.lastSeq) continue;
      this.lastSeq = m.seq;
      this.messages++;
      const kind = m.subject.slice(head.length);
      if (kind === 'committed') {
        this.#committed = Math.max(this.#committed, decodeValue(m.data) as number);
      } else if (kind.startsWith('plan.')) {
        const logged = decodeValue(m.data) as LoggedPlan;
        if ((this.#plans.get(logged.batchId)?.epoch ?? -1) < logged.epoch) this.#plans.set(logged.batchId, logged);
      } else if (kind.startsWith('k.')) {
        const token = kind.slice(2);
        const kept = this.#keys.get(token);
        const change = decodeValue(m.data) as Packed;
        if (kept === undefined) this.#keys.set(token, [change]);
        else {
          if (kept.length === 2) kept.shift();
          kept.push(change);
        }
      }
    }
    // Plans of committed batches are never replayed: forget them (a standby's copy runs for long).
    for (const batchId of this.#plans.keys()) if (batchId <= this.#committed) this.#plans.delete(batchId);
  }

  /** The partition's state as of the last committed batch the copy has read. */
  result(from: RestoredPartition['from'], read: number): RestoredPartition {
    const committed = this.#committed;
    const entries: (readonly [Key, unknown])[] = [];
    for (const [token, kept] of this.#keys) {
      let latest: Packed | undefined;
      for (const change of kept) if (change[0] <= committed && (latest === undefined || latest[0] <= change[0])) latest = change;
      if (latest !== undefined && !latest[1]) entries.push([keyOfToken(token), latest[2]]);
    }
    const plans: LoggedPlan[] = [];
    for (let b = committed + 1; this.#plans.has(b); b++) plans.push(this.#plans.get(b) as LoggedPlan);
    return { batchId: committed, entries, plans, from, read };
  }
}

function keyOfToken(token: string): Key {
  return decodeKey(bytesToStoreKey(Buffer.from(token, 'base64url')));
}
