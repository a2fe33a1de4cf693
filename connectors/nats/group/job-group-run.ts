import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SluiceError, type JobDefinition, type JobGroupEvent, type JobGroupRun, type JobOverrides, type JobPartition, type RunJobGroupOptions, type StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { changelogCheckpoint, StaleLocalCheckpoint } from './changelog-checkpoint.js';
import { ChangelogStream } from './changelog-stream.js';
import type { PartitionCopy } from './partition-copy.js';
import { PartitionGroup, type PartitionGroupEvent } from './partition-group.js';

/*
 * One instance of a job in a group (runJob's `group` option): it joins the partition group and
 * runs one micro-batch loop (a StreamingContext of the job) per partition it owns, each on a
 * local checkpoint of its own whose commits also go to the partition's changelog. Assigned: the
 * partition's context starts, restoring from its local checkpoint when it is current, else from
 * the changelog. Revoking: its context stops after its running batch commits, before the lease
 * is released. Lost: its context stops at once, and its writes are refused (fenced) meanwhile.
 * Standby (`standbyReplicas`): the instance keeps a warm copy of the partition's changelog in
 * memory, caught up every TAIL_MS, and hands it to the partition's restore when it is assigned
 * the partition; a standby writes nothing (no changelog, sink or lease).
 */

/** How often a standby copy reads the changelog's new messages. */
const TAIL_MS = 250;

/** How long a standby's catch-up may take before its copy is set aside (a new one is started). */
const CATCH_UP_MS = 5_000;

/** How long a takeover waits for its standby copy's running catch-up before reading the whole changelog instead. */
const TAKE_MS = 1_000;

/** `promise`'s value, or undefined when it has not settled within `ms` (a rejection counts as settled: undefined too). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
  });
  try {
    return await Promise.race([promise.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A partition this instance stands by for. */
interface Standby {
  copy: PartitionCopy | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The catch-up running (or done). */
  tail: Promise<void>;
  stopped: boolean;
  announced: boolean;
}

/** How long a partition whose loop failed waits before it starts again, while still owned. */
const RESTART_MS = 1_000;

/** The loop of one partition. */
interface Loop {
  readonly ctx: StreamingContext;
  /** Set when this instance stops it (revoked, lost, stopping): its end is no failure. */
  stopping: boolean;
}

/**
 * Joins the group `options.name` and runs the partitions this instance owns (see
 * `runJob(module, { group })`).
 *
 * @throws TypeError/RangeError for malformed options, a job with `pipelinedCommit` (not supported
 * in a group yet) or no checkpoint directory; what joining the group throws.
 */
export async function runJobGroup(definition: JobDefinition, overrides: JobOverrides, options: RunJobGroupOptions): Promise<JobGroupRun> {
  const what = 'runJob (group)';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: group must be { name, partitions, ... }.`);
  if (definition.options.pipelinedCommit === true) throw new TypeError(`${what}: a job with pipelinedCommit cannot run in a group yet; remove the option.`);
  const directory = options.checkpointDir ?? overrides.checkpoint?.location ?? definition.options.checkpoint?.location;
  if (typeof directory !== 'string' || directory === '') throw new TypeError(`${what}: give group.checkpointDir (or a checkpoint to the job): each partition an instance runs keeps a local checkpoint there.`);
  const member = options.memberId ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}`;
  const servers = options.servers ?? '127.0.0.1:4222';
  const replicas = options.replicas ?? 1;
  const changelog = await ChangelogStream.open({ servers, stream: options.changelog ?? `${options.name}_changelog`, replicas });
  if (options.standbyReplicas !== undefined && (!Number.isSafeInteger(options.standbyReplicas) || options.standbyReplicas < 0)) throw new RangeError(`${what}: standbyReplicas must be a whole number of at least 0, got ${String(options.standbyReplicas)}.`);
  const run = new GroupRun(definition, overrides, options, join(directory, member), changelog, member);
  try {
    await run.join(servers, replicas);
  } catch (error) {
    await changelog.close();
    throw error;
  }
  return run;
}

class GroupRun implements JobGroupRun {
  readonly group: string;
  readonly member: string;
  readonly #definition: JobDefinition;
  readonly #overrides: JobOverrides;
  readonly #options: RunJobGroupOptions;
  readonly #directory: string;
  readonly #changelog: ChangelogStream;
  readonly #loops = new Map<number, Loop>();
  readonly #standbys = new Map<number, Standby>();
  /** Per partition, the start or stop running: they never overlap. */
  readonly #chains = new Map<number, Promise<void>>();
  #group: PartitionGroup | undefined;
  /** The partitions whose lease this instance holds, as the group's events tell (the first come while it joins). */
  readonly #owned = new Set<number>();
  #joined: Promise<PartitionGroup> = new Promise(() => undefined);
  #stopping: Promise<void> | undefined;
  readonly #terminated: Promise<void>;
  #terminate!: () => void;

  constructor(definition: JobDefinition, overrides: JobOverrides, options: RunJobGroupOptions, directory: string, changelog: ChangelogStream, member: string) {
    this.group = options.name;
    this.member = member;
    this.#definition = definition;
    this.#overrides = overrides;
    this.#options = options;
    this.#directory = directory;
    this.#changelog = changelog;
    this.#terminated = new Promise((resolve) => {
      this.#terminate = resolve;
    });
  }

  async join(servers: string | readonly string[], replicas: number): Promise<void> {
    const joining = PartitionGroup.join({
      servers,
      group: this.group,
      member: this.member,
      partitions: this.#options.partitions,
      replicas,
      ...(this.#options.leaseMillis === undefined ? {} : { leaseMs: this.#options.leaseMillis }),
      standbyReplicas: this.#options.standbyReplicas ?? 0,
      onStandby: (partitions) => {
        this.#onStandby(partitions);
      },
      onChange: (event) => this.#onChange(event),
      onError: (error) => this.#overrides.logger?.warn({ err: error, group: this.group }, 'a group heartbeat failed; trying again at the next one'),
    });
    this.#joined = joining;
    this.#group = await joining;
  }

  running(): number[] {
    return [...this.#loops.keys()].sort((a, b) => a - b);
  }

  contextOf(partition: number): StreamingContext | undefined {
    return this.#loops.get(partition)?.ctx;
  }

  stop(options: { readonly graceful?: boolean } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.graceful !== false);
    return this.#stopping;
  }

  awaitTermination(): Promise<void> {
    return this.#terminated;
  }

  async #stop(graceful: boolean): Promise<void> {
    try {
      // leave() hands every partition over: 'revoking' stops each loop after its batch commits.
      if (graceful) await this.#group?.leave();
      else await this.#group?.close();
      await Promise.all([...this.#chains.values()]);
      await Promise.all([...this.#standbys.keys()].map((p) => this.#takeStandby(p)));
      await Promise.all(this.running().map((p) => this.#stopLoop(p, 'stop')));
      await this.#changelog.close();
    } finally {
      this.#terminate();
    }
  }

  #onChange(event: PartitionGroupEvent): Promise<void> | void {
    const p = event.partition;
    switch (event.type) {
      case 'assigned':
        this.#owned.add(p);
        // Not awaited: restoring a partition must not hold the heartbeat that renews the others.
        void this.#enqueue(p, () => this.#start(p));
        return;
      case 'revoking':
        this.#owned.delete(p);
        return this.#enqueue(p, () => this.#stopLoop(p, 'revoked'));
      case 'lost': {
        this.#owned.delete(p);
        const loop = this.#loops.get(p);
        if (loop !== undefined) loop.stopping = true;
        void this.#enqueue(p, () => this.#stopLoop(p, 'lost'));
        return;
      }
      default:
        return event satisfies never;
    }
  }

  /** The partitions to stand by for changed: new ones start tailing their changelog, dropped ones stop. */
  #onStandby(partitions: readonly number[]): void {
    if (this.#stopping !== undefined) return;
    // A partition assigned here keeps its copy for its restore (#start takes it).
    for (const p of [...this.#standbys.keys()]) if (!partitions.includes(p) && !this.#owned.has(p)) void this.#takeStandby(p);
    for (const p of partitions) if (!this.#standbys.has(p) && !this.#owned.has(p)) this.#startStandby(p);
  }

  #startStandby(p: number): void {
    const standby: Standby = { copy: undefined, timer: undefined, tail: Promise.resolve(), stopped: false, announced: false };
    this.#standbys.set(p, standby);
    const started = performance.now();
    const tick = async (): Promise<void> => {
      if (standby.stopped) return;
      try {
        standby.copy ??= await this.#changelog.standbyCopy(p);
        const copy = standby.copy;
        const read = await within(this.#changelog.catchUp(copy), CATCH_UP_MS);
        if (read === undefined) {
          // A read that failed, or does not end (a server that does not answer): start a new copy.
          this.#overrides.logger?.warn({ partition: p, group: this.group }, `the standby copy of partition ${p} failed or did not catch up within ${CATCH_UP_MS} ms; starting a new one`);
          standby.copy = undefined;
        } else if (copy.refused !== undefined) {
          // Messages it never read are gone: start a new copy from the whole changelog.
          this.#overrides.logger?.warn({ partition: p, group: this.group }, `the standby copy of partition ${p} was refused (${copy.refused}); reading the changelog again`);
          standby.copy = undefined;
        } else if (!standby.announced && !standby.stopped) {
          standby.announced = true;
          this.#emit({ type: 'standby', partition: p, batchId: copy.batchId, read, millis: Math.round(performance.now() - started) });
        }
      } catch (error) {
        this.#overrides.logger?.warn({ err: error, partition: p, group: this.group }, `the standby copy of partition ${p} could not catch up; trying again`);
      }
      if (!standby.stopped) {
        standby.timer = setTimeout(() => {
          standby.tail = tick();
        }, TAIL_MS);
        standby.timer.unref();
      }
    };
    standby.tail = tick();
  }

  /** Stops standing by for `p`; resolves with its warm copy once no catch-up runs (undefined: none, or refused). */
  async #takeStandby(p: number): Promise<PartitionCopy | undefined> {
    const standby = this.#standbys.get(p);
    if (standby === undefined) return undefined;
    this.#standbys.delete(p);
    standby.stopped = true;
    if (standby.timer !== undefined) clearTimeout(standby.timer);
    // A catch-up still running after TAKE_MS: the copy is set aside and the changelog read whole.
    if ((await within(standby.tail.then(() => true), TAKE_MS)) === undefined) return undefined;
    return standby.copy?.refused === undefined ? standby.copy : undefined;
  }

  #enqueue(partition: number, step: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(partition) ?? Promise.resolve()).then(step).catch((error: unknown) => {
      this.#overrides.logger?.error({ err: error, partition }, 'a partition could not start or stop');
    });
    this.#chains.set(partition, next);
    return next;
  }

  #owns(partition: number): boolean {
    return this.#stopping === undefined && this.#owned.has(partition);
  }

  async #start(p: number): Promise<void> {
    if (!this.#owns(p) || this.#loops.has(p)) return;
    const started = performance.now();
    const partition: JobPartition = { group: this.group, index: p, count: this.#options.partitions, assertOwner: () => this.#assertOwner(p) };
    const directory = join(this.#directory, `p${p}`);
    let recovered: { from: 'local' | 'changelog' | 'standby' | 'fresh'; batchId: number; read: number } = { from: 'fresh', batchId: -1, read: 0 };
    // A warm copy kept as a standby: the restore reads only the changelog after it.
    const standby = await this.#takeStandby(p);
    for (let attempt = 0; ; attempt++) {
      const checkpoint = changelogCheckpoint(levelCheckpoint(directory), { changelog: this.#changelog, partition, ...(standby === undefined ? {} : { standby }), onRecovered: (from, batchId, read) => (recovered = { from, batchId, read }) });
      const ctx = await this.#definition.create({ ...this.#overrides, checkpoint, partition });
      try {
        await ctx.start();
      } catch (error) {
        await ctx.stop().catch(() => undefined);
        if (attempt === 0 && (error instanceof StaleLocalCheckpoint || (error as { cause?: unknown }).cause instanceof StaleLocalCheckpoint)) {
          // Another instance ran the partition since this copy was written: the changelog has it.
          await rm(directory, { recursive: true, force: true });
          continue;
        }
        this.#failed(p, error);
        return;
      }
      const loop: Loop = { ctx, stopping: false };
      this.#loops.set(p, loop);
      ctx.awaitTermination().then(
        () => {
          this.#ended(p, loop, undefined);
        },
        (error: unknown) => {
          this.#ended(p, loop, error);
        },
      );
      this.#emit({ type: 'started', partition: p, from: recovered.from, batchId: recovered.batchId, read: recovered.read, millis: Math.round(performance.now() - started) });
      return;
    }
  }

  async #assertOwner(p: number): Promise<number> {
    const group = this.#group;
    // A partition assigned while joining starts before join() returns: wait for it.
    return (await (group ?? (await this.#joined)).assertOwner(p)).epoch;
  }

  async #stopLoop(p: number, reason: 'revoked' | 'lost' | 'stop'): Promise<void> {
    const loop = this.#loops.get(p);
    if (loop === undefined) return;
    loop.stopping = true;
    this.#loops.delete(p);
    // The running batch finishes; a lost partition's writes are refused by the fence meanwhile.
    await loop.ctx.stop();
    this.#emit({ type: 'stopped', partition: p, reason });
  }

  /** A loop ended: on its own (a batch failed), it is reported, and started again while the partition is owned. */
  #ended(p: number, loop: Loop, error: unknown): void {
    if (this.#loops.get(p) === loop) this.#loops.delete(p);
    if (error !== undefined) this.#report(p, error);
    if (!loop.stopping) this.#restartLater(p);
  }

  /** A partition that could not start: reported, and tried again while owned. */
  #failed(p: number, error: unknown): void {
    this.#report(p, error);
    this.#restartLater(p);
  }

  #restartLater(p: number): void {
    setTimeout(() => {
      if (this.#owns(p)) void this.#enqueue(p, () => this.#start(p));
    }, RESTART_MS).unref();
  }

  #report(p: number, error: unknown): void {
    const failure = error instanceof SluiceError ? error : new SluiceError('BATCH_FAILED', `Partition ${p} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    this.#overrides.logger?.warn({ err: failure, code: failure.code, partition: p, group: this.group }, `partition ${p} stopped: ${failure.code}`);
    this.#emit({ type: 'failed', partition: p, error: failure });
  }

  #emit(event: JobGroupEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch (error) {
      this.#overrides.logger?.error({ err: error }, 'the group run\'s onEvent threw');
    }
  }
}
