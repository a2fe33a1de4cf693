import { Batch, type DStream } from 'sluice';
import { DerivedDStream, ErrorPolicy, type BatchContext, type Definition } from 'sluice/extend';
import { keepValid, type TrainingDStream } from './training-dstream.js';

/**
 * Scores a record with a model: `model` is `undefined` while the model has none (a k-means model
 * before its first batch). Called once per record: it allocates only the record it returns.
 */
export type Score<M, R, O> = (model: M | undefined, record: R) => O;

/**
 * The prediction operator of a streaming model (`model.predictOn()`): scores each record of its
 * input with the model as of the previous batch ({@link TrainingDStream.modelBefore}), in order.
 * Records the model cannot take go to the operator's error policy. Its parents are the training
 * stream and the input, so the batch trains the model whatever the order the outputs ask.
 */
export function predictionStream<M, P, R, O>(
  kind: string,
  trainer: TrainingDStream<M, P, unknown>,
  input: DStream<R>,
  problem: (record: R) => string | undefined,
  score: Score<M, R, O>,
  defined: Definition,
  name: string | undefined,
): DStream<O> {
  let policy: ErrorPolicy | undefined;
  const stream: DStream<O> = new DerivedDStream<O>(
    kind,
    [trainer, input],
    (inputs: readonly Batch<unknown>[], bc: BatchContext) => {
      const model = trainer.modelBefore(bc);
      const batch = inputs[1] as Batch<R>;
      policy ??= new ErrorPolicy(stream, defined);
      const partitions = keepValid(batch.partitions, problem, policy, bc);
      const out = partitions.map((partition) => {
        const scored = new Array<O>(partition.length);
        for (let i = 0; i < partition.length; i++) scored[i] = score(model, partition[i] as R);
        return scored;
      });
      return new Batch(out);
    },
    name,
  );
  return stream;
}
