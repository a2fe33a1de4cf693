import { Batch, type DStream } from 'sluice';
import { encodeKey, ErrorPolicy, OutputOperation, StatefulDStream, type BatchContext, type Definition, type StateBackend, type StateConfigValue } from 'sluice/extend';
import type { KeyedStateStream } from 'sluice/state';

/** The key the model is stored under: `queryableState(trained).get('model')`. */
export const MODEL_KEY = 'model';

/**
 * The stream a model's `trainOn` returns: the model after each batch (one record, none while there
 * is none), and the operator whose state `queryableState` reads (one key, {@link MODEL_KEY}).
 */
export type ModelStream<P> = KeyedStateStream<P, typeof MODEL_KEY, P>;
/** The model's store row: the entry namespace of keyed state (`S`), so queryable state and `sluice state` read it. */
const MODEL_ROW = `S${encodeKey(MODEL_KEY)}`;

/**
 * What a training operator knows of its model: `M` is the working form (typed arrays), `P` the
 * published form (plain data: what is stored, queried and emitted), `R` a training record.
 */
export interface Learner<M, P, R> {
  /** The operator kind (`streamingKMeans`), its default name and its state layout. */
  readonly kind: string;
  /** The settings that decide what the stored model means (a restart that changes one is refused). */
  readonly config: Readonly<Record<string, StateConfigValue>>;
  /** The model before any training, if it has one (initial centers, initial weights). */
  initial(): M | undefined;
  /** Why `record` cannot be trained on, or `undefined`. */
  problem(record: R): string | undefined;
  /**
   * The model after training `model` on one batch's valid records (partition by partition, each
   * in order): a new model (`model` is never changed), the same one when nothing changed, or
   * `undefined` when there is still none. Deterministic in its inputs and `batchTime`.
   */
  train(model: M | undefined, partitions: readonly (readonly R[])[], batchTime: number): M | undefined;
  /** The published form of a model. */
  publish(model: M): P;
  /** The working form of a published (stored) model: `restore(publish(m))` equals `m` exactly. */
  restore(published: P): M;
}

/** Options every model's training operator takes. */
export interface TrainingOptions {
  readonly name?: string | undefined;
  readonly stateBackend?: StateBackend | undefined;
}

/**
 * The training operator of a streaming model (`model.trainOn()`): keeps the model as keyed state
 * (one entry, {@link MODEL_KEY}), trains it once per batch, and emits it after the batch (one
 * record; none while there is no model). It registers an output of its own (`trainOn#n`), as
 * Spark's `trainOn` does, so the model trains every batch whether or not anything reads the stream.
 */
export class TrainingDStream<M, P, R> extends StatefulDStream<P> implements KeyedStateStream<P, typeof MODEL_KEY, P> {
  declare readonly stateTypes?: { readonly key: typeof MODEL_KEY; readonly state: P };
  readonly #parent: DStream<R>;
  readonly #learner: Learner<M, P, R>;
  readonly #policy: ErrorPolicy;
  /** The last stored model and its working form, so a batch does not restore what the last one stored. */
  #cache: { readonly stored: unknown; readonly model: M } | undefined;
  /** The model as of the previous batch, for the predictions of the batch being computed. */
  #before: { readonly batchId: number; readonly model: M | undefined } | undefined;

  constructor(parent: DStream<R>, learner: Learner<M, P, R>, options: TrainingOptions, defined: Definition) {
    super({ kind: learner.kind, graph: parent.graph, parents: [parent], name: options.name, stateBackend: options.stateBackend, state: { config: learner.config } });
    this.#parent = parent;
    this.#learner = learner;
    this.#policy = new ErrorPolicy(this, defined);
    new OutputOperation<P>('trainOn', this, () => undefined);
  }

  override stateOf(entry: unknown): unknown {
    return entry;
  }

  /**
   * The model the predictions of batch `bc` use: the model after the previous batch's training
   * (the initial model, or none, before the first), whichever of training and prediction the
   * batch computes first. Call it after `getOrCompute(bc)` of this stream.
   */
  modelBefore(bc: BatchContext): M | undefined {
    const before = this.#before;
    if (before?.batchId !== bc.batchId) throw new Error(`${this.describe}: the model before batch ${bc.batchId} is asked before the batch trained it (a bug).`);
    return before.model;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<P> | undefined> {
    const input = await this.#parent.getOrCompute(bc);
    const store = this.store;
    await store.load([MODEL_ROW]);
    const stored = store.get(MODEL_ROW);
    const before = this.#restore(stored);
    this.#before = { batchId: bc.batchId, model: before };
    // A windowed input between its slides: no batch, so nothing to learn and no decay.
    if (input === undefined) return undefined;
    const after = this.#learner.train(before, this.#validRecords(input, bc), bc.batchTime);
    this.reportState(bc);
    if (after === undefined) return Batch.empty<P>();
    if (after === before && stored !== undefined) return new Batch([[stored as P]]);
    const published = this.#learner.publish(after);
    store.put(MODEL_ROW, published);
    // Later batches go on from the stored form, as a restarted run does.
    this.#cache = { stored: published, model: this.#learner.restore(published) };
    return new Batch([[published]]);
  }

  #restore(stored: unknown): M | undefined {
    if (stored === undefined) return this.#learner.initial();
    if (this.#cache?.stored !== stored) this.#cache = { stored, model: this.#learner.restore(stored as P) };
    return this.#cache.model;
  }

  /** The batch's partitions without the records the model cannot take (set aside by the error policy); as they are when all are good. */
  #validRecords(input: Batch<R>, bc: BatchContext): readonly (readonly R[])[] {
    return keepValid(input.partitions, (record) => this.#learner.problem(record), this.#policy, bc);
  }
}

/**
 * `partitions` without the records `problem` finds fault with, each handed to `policy` (which
 * fails the batch under `'fail'`); the same arrays when every record is good.
 */
export function keepValid<R>(partitions: readonly (readonly R[])[], problem: (record: R) => string | undefined, policy: ErrorPolicy, bc: BatchContext): readonly (readonly R[])[] {
  let out: R[][] | undefined;
  for (let p = 0; p < partitions.length; p++) {
    const partition = partitions[p] as readonly R[];
    for (let i = 0; i < partition.length; i++) {
      const record = partition[i] as R;
      const reason = problem(record);
      if (reason === undefined) {
        if (out !== undefined) (out[p] as R[]).push(record);
        continue;
      }
      policy.reject(bc.recordErrors, record, new TypeError(`${policy.operator}: ${reason}.`));
      if (out === undefined) {
        out = partitions.map((q, j) => (j < p ? [...q] : []));
        (out[p] as R[]).push(...partition.slice(0, i));
      }
    }
  }
  return out ?? partitions;
}

/**
 * A model's one training operator: `trainOn` creates it (once: a second `trainOn` is a
 * TypeError), `trained` gives it to the prediction operators (a TypeError before `trainOn`).
 */
export function trainerSlot<M, P, R>(
  kind: string,
  learner: Learner<M, P, R>,
  options: TrainingOptions,
  defined: Definition,
): { readonly trainOn: (stream: DStream<R>) => TrainingDStream<M, P, R>; readonly trained: () => TrainingDStream<M, P, R> } {
  let trainer: TrainingDStream<M, P, R> | undefined;
  return {
    trainOn(stream) {
      if (trainer !== undefined) throw new TypeError(`${kind}: trainOn() was applied already; a model trains on one stream (union the streams to train on several).`);
      trainer = new TrainingDStream(stream, learner, { name: options.name, stateBackend: options.stateBackend }, defined);
      return trainer;
    },
    trained() {
      if (trainer === undefined) throw new TypeError(`${kind}: apply model.trainOn() to the training stream before model.predictOn() or predictOnValues().`);
      return trainer;
    },
  };
}
