import { Batch, type DStream } from 'sluice';
import { DerivedDStream, ErrorPolicy, type BatchContext, type Definition } from 'sluice/extend';
import type { TrainingDStream } from './training-dstream.js';

/**
 * How a prediction operator scores its records: the record's vector (a user's `features`
 * function may throw), why a vector cannot be scored, and the output for a good one. `model` is
 * `undefined` while the model has none (a k-means model before its first batch).
 */
export interface Scorer<M, R, O> {
  vectorOf(record: R): unknown;
  problem(vector: unknown): string | undefined;
  predict(model: M | undefined, record: R, vector: unknown): O;
}

/**
 * The prediction operator of a streaming model (`model.predictOn()`): scores each record of its
 * input with the model as of the previous batch ({@link TrainingDStream.modelBefore}), in order.
 * A record whose vector cannot be had or scored goes to the operator's error policy. Its parents
 * are the training stream and the input, so the batch trains the model whatever the order in
 * which the outputs ask for them.
 */
export function predictionStream<M, R, O>(kind: string, trainer: TrainingDStream<M, unknown, unknown>, input: DStream<R>, scorer: Scorer<M, R, O>, defined: Definition, name: string | undefined): DStream<O> {
  let policy: ErrorPolicy | undefined;
  const stream: DStream<O> = new DerivedDStream<O>(
    kind,
    [trainer, input],
    (inputs: readonly Batch<unknown>[], bc: BatchContext) => {
      const model = trainer.modelBefore(bc);
      policy ??= new ErrorPolicy(stream, defined);
      const out = (inputs[1] as Batch<R>).partitions.map((partition) => score(partition, model, scorer, policy as ErrorPolicy, bc));
      return new Batch(out);
    },
    name,
  );
  return stream;
}

function score<M, R, O>(partition: readonly R[], model: M | undefined, scorer: Scorer<M, R, O>, policy: ErrorPolicy, bc: BatchContext): O[] {
  const out: O[] = [];
  for (let i = 0; i < partition.length; i++) {
    const record = partition[i] as R;
    let vector: unknown;
    try {
      vector = scorer.vectorOf(record);
    } catch (error) {
      policy.reject(bc.recordErrors, record, error);
      continue;
    }
    const reason = scorer.problem(vector);
    if (reason === undefined) out.push(scorer.predict(model, record, vector));
    else policy.reject(bc.recordErrors, record, new TypeError(`${policy.operator}: ${reason}.`));
  }
  return out;
}
