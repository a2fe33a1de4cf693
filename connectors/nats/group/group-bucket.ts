import { DiscardPolicy, jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';

/*
 * The few key-value operations a partition group needs, on a JetStream stream laid out as a NATS
 * key-value bucket (`KV_<bucket>`, subjects `$KV.<bucket>.<key>`, one message kept per key), so
 * `nats kv` and the KV clients read it too. Every write is a compare-and-set on the key's
 * revision (the stream sequence of its last message: `Nats-Expected-Last-Subject-Sequence`,
 * 0 for a key that has never been written); a removed key keeps a purge marker as its last
 * message. Server 2.9 has no per-key TTL: expiry is the group's business.
 */

/** A key's last value and its revision; `value` is undefined for a removed key. */
export interface BucketEntry<V> {
  readonly key: string;
  readonly value: V | undefined;
  readonly revision: number;
}

/** The JetStream API's code for a failed compare-and-set (wrong last sequence). */
const WRONG_LAST_SEQUENCE = 10071;

/** Bucket names: letters, digits, '-' and '_'. */
export const BUCKET_NAME = /^[A-Za-z0-9_-]+$/;

/** A key-value bucket on a JetStream stream, used by compare-and-set. */
export class GroupBucket {
  readonly bucket: string;
  readonly #stream: string;
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;

  private constructor(bucket: string, jsm: JetStreamManager, js: JetStreamClient) {
    this.bucket = bucket;
    this.#stream = `KV_${bucket}`;
    this.#jsm = jsm;
    this.#js = js;
  }

  /** Opens the bucket, creating it with `replicas` copies when it does not exist. */
  static async open(nc: NatsConnection, bucket: string, replicas: number): Promise<GroupBucket> {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const stream = `KV_${bucket}`;
    try {
      await jsm.streams.info(stream);
    } catch (error) {
      if ((error as { name?: string }).name !== 'StreamNotFoundError') throw error;
      await jsm.streams.add({
        name: stream,
        subjects: [`$KV.${bucket}.>`],
        max_msgs_per_subject: 1,
        discard: DiscardPolicy.Old,
        storage: StorageType.File,
        num_replicas: replicas,
        allow_rollup_hdrs: true,
        deny_delete: true,
        allow_direct: true,
      });
    }
    return new GroupBucket(bucket, jsm, jetstream(nc, { checkAPI: false }));
  }

  /** The entry of `key`, or undefined when it was never written. */
  async get<V>(key: string): Promise<BucketEntry<V> | undefined> {
    const message = await this.#jsm.streams.getMessage(this.#stream, { last_by_subj: this.#subject(key) });
    return message === null ? undefined : entryOf<V>(key, message.header?.get('KV-Operation') ?? '', message.data, message.seq);
  }

  /** Every entry whose key starts with `prefix.` (removed ones included, with no value), in key order. */
  async entries<V>(prefix: string): Promise<BucketEntry<V>[]> {
    const info = await this.#jsm.streams.info(this.#stream, { subjects_filter: `${this.#subject(prefix)}.>` });
    const subjects = Object.keys(info.state.subjects ?? {}).sort();
    const head = `$KV.${this.bucket}.`;
    const found = await Promise.all(subjects.map((subject) => this.get<V>(subject.slice(head.length))));
    return found.filter((e): e is BucketEntry<V> => e !== undefined);
  }

  /**
   * Writes `value` to `key` if its revision is still `revision` (0: never written). Returns the new
   * revision, or undefined when another write came first.
   */
  async put(key: string, value: unknown, revision: number): Promise<number | undefined> {
    return this.#write(key, JSON.stringify(value), revision, undefined);
  }

  /** Removes `key` (a purge marker stays) if its revision is still `revision`; the new revision, or undefined. */
  async remove(key: string, revision: number): Promise<number | undefined> {
    const h = headers();
    h.set('KV-Operation', 'PURGE');
    h.set('Nats-Rollup', 'sub');
    return this.#write(key, '', revision, h);
  }

  async #write(key: string, data: string, revision: number, h: ReturnType<typeof headers> | undefined): Promise<number | undefined> {
    try {
      const ack = await this.#js.publish(this.#subject(key), data, { expect: { lastSubjectSequence: revision, streamName: this.#stream }, ...(h === undefined ? {} : { headers: h }) });
      return ack.seq;
    } catch (error) {
      if ((error as { code?: unknown }).code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test((error as Error).message)) return undefined;
      throw error;
    }
  }

  #subject(key: string): string {
    return `$KV.${this.bucket}.${key}`;
  }
}

function entryOf<V>(key: string, operation: string, data: Uint8Array, revision: number): BucketEntry<V> {
  if (operation === 'PURGE' || operation === 'DEL' || data.length === 0) return { key, value: undefined, revision };
  return { key, value: JSON.parse(new TextDecoder().decode(data)) as V, revision };
}
