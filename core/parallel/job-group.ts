import type { SluiceError } from '../errors.js';
import type { StreamingContext } from '../streaming-context.js';

/*
 * The types of runJob's `group` option: a job run as one instance of a group that splits its
 * partitions (docs/scale-out.md). The implementation is `sluice/nats`'s, loaded only when a group
 * is asked for, so that `import 'sluice'` never loads the NATS client.
 */

/** `runJob(module, { group })`: run the partitions of the job this instance owns in a group. */
export interface RunJobGroupOptions {
  /** The group's name (letters, digits, '-', '_'): every instance of the job gives the same. */
  readonly name: string;
  /** The NATS server(s) of the JetStream cluster (default `'127.0.0.1:4222'`). */
  readonly servers?: string | readonly string[];
  /** How many partitions the job's input splits into (fixed when the group is first created). */
  readonly partitions: number;
  /** This instance's id, unique in the group and stable across its restarts (default `<hostname>-<pid>`, which is not stable). */
  readonly memberId?: string;
  /** The changelog stream's name (default `<name>_changelog`; created when missing). */
  readonly changelog?: string;
  /** How long a partition's lease lasts unrenewed, in ms (default 10 000): a dead instance's partitions move after this. */
  readonly leaseMillis?: number;
  /**
   * Where this instance keeps its local checkpoints, one per partition it runs: `<dir>/<member>/p<N>`
   * (default: the directory of the job's own checkpoint option).
   */
  readonly checkpointDir?: string;
  /**
   * How many standby replicas each partition has (default 0; Kafka Streams' `num.standby.replicas`):
   * other instances that keep a warm copy of its state by tailing its changelog, and take it first
   * when its owner dies, restoring from the copy (plus the changelog's tail) instead of the whole
   * changelog. Give every instance of the group the same number.
   */
  readonly standbyReplicas?: number;
  /** How many copies of the group's bucket and changelog the cluster keeps, when this instance creates them (default 1). */
  readonly replicas?: number;
  /** Hears the instance's partitions start, stop and fail. */
  readonly onEvent?: (event: JobGroupEvent) => void;
}

/** What {@link RunJobGroupOptions.onEvent} hears. */
export type JobGroupEvent =
  /**
   * A partition this instance was assigned runs: restored from its local checkpoint, from the
   * changelog, from this instance's standby copy caught up with the changelog's tail, or fresh;
   * up to `batchId` (-1: none), having read `read` changelog messages, in `millis`.
   */
  | { readonly type: 'started'; readonly partition: number; readonly from: 'local' | 'changelog' | 'standby' | 'fresh'; readonly batchId: number; readonly read: number; readonly millis: number }
  /** This instance stands by for a partition (standby replicas): its warm copy first caught up, to `batchId`, having read `read` messages. */
  | { readonly type: 'standby'; readonly partition: number; readonly batchId: number; readonly read: number; readonly millis: number }
  /** A partition's loop stopped: handed over (`'revoked'`), lost (`'lost'`, without writing) or the instance stopping (`'stop'`). */
  | { readonly type: 'stopped'; readonly partition: number; readonly reason: 'revoked' | 'lost' | 'stop' }
  /** A partition's loop failed (`PARTITION_LOST` when another instance took it); a partition still owned starts again a second later. */
  | { readonly type: 'failed'; readonly partition: number; readonly error: SluiceError };

/** An instance of a job in a group, as `runJob(module, { group })` returns it. */
export interface JobGroupRun {
  /** The group's name. */
  readonly group: string;
  /** This instance's member id. */
  readonly member: string;
  /** The partitions whose loop runs now, in order. */
  running(): number[];
  /** The context of partition `partition`'s loop, while it runs here. */
  contextOf(partition: number): StreamingContext | undefined;
  /**
   * Stops the instance. `graceful` (default true): each partition's running batch commits and its
   * lease is released, so the others take it over at their next heartbeat; `false`: at once, as a
   * crash would (the leases expire).
   */
  stop(options?: { readonly graceful?: boolean }): Promise<void>;
  /** Resolves once the instance has stopped. */
  awaitTermination(): Promise<void>;
}
