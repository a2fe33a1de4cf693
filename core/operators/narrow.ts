import { Batch } from '../batch.js';
import type { BatchContext } from '../batch-context.js';
import { DStream } from '../dstream.js';
import { ErrorPolicy, type Definition, type RecordErrors } from '../error-policy.js';
import type { TaskStep } from '../scheduler/executor.js';
import { defineTaskStep } from '../scheduler/task-step.js';

/** Receives the records a stage emits. */
export type Emit<O> = (record: O) => void;

/**
 * A per-record step of a narrow operator, written in push style: given where to send its output
 * (and where the batch counts the records operators set aside), it returns the function that
 * handles one input record. Chains of stages run as one loop per partition with no intermediate
 * arrays. A stage that calls user code catches what it throws and hands it to its operator's
 * {@link ErrorPolicy} (`policy.reject(errors, record, error)`), which throws or counts.
 */
export type Stage<I, O> = (emit: Emit<O>, errors: RecordErrors) => (record: I) => void;

/** Options of a {@link NarrowDStream}. */
export interface NarrowOptions {
  /** The operator's user-given name. */
  readonly name?: string | undefined;
  /** Its error policy and call site, captured where the user defined it (see `definition`). */
  readonly defined?: Definition;
}

/**
 * A stream computed record by record from one parent (map, filter, flatMap, mapValues, ...).
 * When its parent is also narrow and has no other consumer, the two are fused: computing this
 * stream runs every fused stage in a single pass over the root's partitions.
 */
export class NarrowDStream<I, O> extends DStream<O> {
  readonly #parent: DStream<I>;
  readonly #stage: Stage<I, O>;
  readonly #partitionStep: TaskStep<readonly unknown[], unknown[]>;
  readonly #timedStep: TaskStep<TimedPartition, TimedPartition>;
  #chain: FusedChain | undefined;

  /** The operator's error policy (the context's default unless its definition chose one). */
  readonly errorPolicy: ErrorPolicy;

  constructor(kind: string, parent: DStream<I>, stage: (policy: ErrorPolicy) => Stage<I, O>, options: NarrowOptions = {}) {
    super({ kind, graph: parent.graph, parents: [parent], name: options.name });
    this.#parent = parent;
    this.errorPolicy = new ErrorPolicy(this, options.defined ?? { onError: undefined, site: undefined });
    this.#stage = stage(this.errorPolicy);
    this.#partitionStep = defineTaskStep(this, 'stages', (partition, tc) => {
      const out: unknown[] = [];
      runStages(
        partition,
        this.#fused().stages,
        (record) => {
          out.push(record);
        },
        tc.recordErrors,
      );
      return out;
    });
    this.#timedStep = defineTaskStep(this, 'timedStages', (input, tc) => runTimedStages(input, this.#fused().stages, tc.recordErrors));
  }

  /**
   * @internal The fused chain that computes this stream: the first ancestor that is not fused
   * into it (the root) and the stages from this one back to the root's child (last stage first).
   */
  fusedChain(): FusedChain {
    const stages: Stage<unknown, unknown>[] = [this.#stage as Stage<unknown, unknown>];
    let root: DStream<unknown> = this.#parent;
    while (root instanceof NarrowDStream && this.graph.consumers(root.id) === 1) {
      stages.push(root.#stage as Stage<unknown, unknown>);
      root = root.#parent as DStream<unknown>;
    }
    return { root, stages };
  }

  /** The fused chain, found once the graph is complete (tasks run only then). */
  #fused(): FusedChain {
    this.#chain ??= this.fusedChain();
    return this.#chain;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<O> | undefined> {
    const { root } = this.#fused();
    const input = await root.getOrCompute(bc);
    if (input === undefined) return undefined;
    const times = input.eventTimes;
    if (times !== undefined) {
      const results = await bc.executor.runStage(
        this.#timedStep,
        input.partitions.map((records, p) => ({ records, times: times[p] as Float64Array })),
        bc,
      );
      return new Batch(
        results.map((r) => r.records as O[]),
        results.map((r) => r.times),
      );
    }
    return new Batch((await bc.executor.runStage(this.#partitionStep, input.partitions, bc)) as O[][]);
  }
}

/** A partition's records with their event times. */
interface TimedPartition {
  readonly records: readonly unknown[];
  readonly times: Float64Array;
}

/**
 * Runs the fused stages over a partition whose records carry event times: every record a stage
 * emits gets the time of the input record it came from (a record a stage drops, or its error
 * policy sets aside, takes its time with it). A separate loop, so the one without times stays as
 * it was.
 */
function runTimedStages(input: TimedPartition, stages: readonly Stage<unknown, unknown>[], errors: RecordErrors): TimedPartition {
  const { records: partition, times: inTimes } = input;
  const out: unknown[] = [];
  // As long as the input to start with (most chains emit at most one record per record).
  let outTimes = new Float64Array(partition.length);
  let time = 0;
  const handle = chainStages(
    stages,
    (record) => {
      if (out.length === outTimes.length) {
        const grown = new Float64Array(2 * outTimes.length + 16);
        grown.set(outTimes);
        outTimes = grown;
      }
      outTimes[out.length] = time;
      out.push(record);
    },
    errors,
  );
  for (let i = 0; i < partition.length; i++) {
    time = inTimes[i] as number;
    handle(partition[i]);
  }
  return { records: out, times: outTimes.length === out.length ? outTimes : outTimes.subarray(0, out.length) };
}

/**
 * A fused chain of narrow operators (`map`, `filter`, `flatMap`, `mapToPair`, `keyBy`,
 * `mapValues`, ...): the first stream up the chain that is not fused into it (`root`: read its
 * batch) and the per-record stages that turn the root's records into the chain's, last stage
 * first (the order {@link chainStages} and {@link runStages} take them in).
 */
export interface FusedChain {
  /** The stream whose batch the chain reads: the nearest ancestor that is not narrow, or that another operator reads too. */
  readonly root: DStream<unknown>;
  /** The narrow operators' stages, from the one nearest the consumer back to the root's child. */
  readonly stages: readonly Stage<unknown, unknown>[];
}

/**
 * The narrow chain an operator can run itself, record by record inside its own loop over the
 * chain's root batch, so that the chain's records are never materialized into intermediate
 * arrays (the keyed aggregations run it in their map tasks, an event-time window in its table's
 * pass): present when `stream` is narrow and this operator is its only consumer; `undefined`
 * otherwise, and the operator reads `stream`'s batch as usual.
 *
 * Call it when the graph is complete (in `compute`, or lazily in a task step), never in the
 * constructor: an operator added later may read `stream` too. A record a stage emits keeps the
 * event time of the root record it came from (`Batch.eventTimes` of the root, by index), as the
 * unfused chain carries it. Each stage's error policy acts on its own records: under `'fail'` it
 * throws a `SluiceError` naming its own operator, which the consumer must let through
 * (`ErrorPolicy.failure` does).
 *
 * @param stream - the consumer's parent.
 * @example
 * const chain = fusableChain(parent);
 * const input = await (chain?.root ?? parent).getOrCompute(bc);
 * // then per partition: const handle = chain ? chainStages(chain.stages, visit, bc.recordErrors) : visit;
 */
export function fusableChain(stream: DStream<unknown>): FusedChain | undefined {
  return stream instanceof NarrowDStream && stream.graph.consumers(stream.id) === 1 ? stream.fusedChain() : undefined;
}

/**
 * Runs `stages` (last stage first in the array, as {@link FusedChain} holds them) over one
 * partition, sending their output to `emit`.
 *
 * @param errors - where the stages' error policies count the records they set aside (the task's
 * or batch's `RecordErrors`).
 */
export function runStages(partition: readonly unknown[], stages: readonly Stage<unknown, unknown>[], emit: Emit<unknown>, errors: RecordErrors): void {
  const handle = chainStages(stages, emit, errors);
  for (let i = 0; i < partition.length; i++) handle(partition[i]);
}

/**
 * The function that runs one record through `stages` (last stage first in the array, as
 * {@link FusedChain} holds them) into `emit`, which gets each record the chain emits (none, one
 * or several per input record). Build it once per partition, not per record.
 *
 * @param errors - where the stages' error policies count the records they set aside.
 */
export function chainStages(stages: readonly Stage<unknown, unknown>[], emit: Emit<unknown>, errors: RecordErrors): Emit<unknown> {
  let handle = emit;
  for (const stage of stages) handle = stage(handle, errors);
  return handle;
}
