import type { BatchContext } from './batch-context.js';
import type { Checkpointer } from './checkpoint-port.js';
import type { OnError } from './error-policy.js';
import type { CommitParticipant } from './commit/commit-participant.js';
import { LastResults } from './output/last-results.js';
import { Services } from './services.js';
import type { StateBackend, StateDescriptor } from './state-port.js';
import type { TaskStep } from './scheduler/executor.js';
import { WatermarkTracker } from './watermark-tracker.js';
import type { Duration } from './time.js';

/** The life-cycle state of a streaming context. */
export type ContextState = 'initialized' | 'active' | 'stopped';

/** A node of the graph, as the graph sees it. */
export interface GraphNode {
  readonly id: number;
  readonly describe: string;
  readonly kind: string;
  /** What the node's stored state means, for a stateful operator; `undefined` for the others. */
  stateDescriptor(): StateDescriptor | undefined;
}

/** An output operation, as the graph sees it. */
export interface GraphOutput {
  readonly stream: GraphNode;
  readonly describe: string;
  /** Runs the output's job for one batch. */
  run(bc: BatchContext): Promise<void>;
}

/**
 * The lineage graph of one streaming context: its nodes in creation order, their consumers and
 * the output operations. Frozen once the context starts.
 */
export class DStreamGraph {
  readonly batchInterval: Duration;
  /** The services extensions registered on this context (opened state stores, table sinks). */
  readonly services = new Services();
  /** The event-time watermarks of the watermarked streams (see `withWatermark`). */
  readonly watermarks = new WatermarkTracker();
  /** The last results of the operators that keep them (the windows; see `keepLastResults`), for `queryState`. */
  readonly lastResults = new LastResults();
  /** The context's checkpointer, if it is checkpointed. */
  readonly checkpointer: Checkpointer | undefined;
  /**
   * The backend of the stateful operators that do not choose their own: the context's
   * `stateBackend` option, or the checkpoint's; `undefined` means in memory.
   */
  readonly stateBackend: StateBackend | undefined;
  /** The error policy of operators that do not choose one (the context's `onError` option). */
  readonly onError: OnError;
  #state: ContextState = 'initialized';
  #nodes: GraphNode[] = [];
  #consumers = new Map<number, number>();
  #parents: (readonly number[])[] = [];
  #outputs: GraphOutput[] = [];
  readonly #participants: CommitParticipant[] = [this.watermarks, this.lastResults];
  readonly #steps = new Map<string, TaskStep<never, unknown>>();

  constructor(
    batchInterval: Duration,
    options: { readonly checkpointer?: Checkpointer | undefined; readonly stateBackend?: StateBackend | undefined; readonly onError?: OnError | undefined } = {},
  ) {
    this.batchInterval = batchInterval;
    this.checkpointer = options.checkpointer;
    this.stateBackend = options.stateBackend;
    this.onError = options.onError ?? 'fail';
  }

  /**
   * Makes `participant` take part in the commit of every batch from the next one on (see
   * {@link CommitParticipant}), after those registered before it. Registering it again has no
   * effect. Operators register at construction; state backends when their first store opens.
   */
  addCommitParticipant(participant: CommitParticipant): void {
    if (!this.#participants.includes(participant)) this.#participants.push(participant);
  }

  /** The commit participants, in registration order (the watermark tracker first, then the last results). */
  get commitParticipants(): readonly CommitParticipant[] {
    return this.#participants;
  }

  get state(): ContextState {
    return this.#state;
  }

  set state(next: ContextState) {
    this.#state = next;
  }

  /** The next node id: a node's position in the graph, stable for the same program. */
  get nextId(): number {
    return this.#nodes.length;
  }

  /** Adds a node consuming `parents`; throws once the context has started. */
  addNode(node: GraphNode, parents: readonly GraphNode[]): void {
    this.#assertBuilding(node.describe);
    this.#nodes.push(node);
    this.#parents.push(parents.map((parent) => parent.id));
    for (const parent of parents) this.#consumers.set(parent.id, (this.#consumers.get(parent.id) ?? 0) + 1);
  }

  /** Adds an output operation; throws once the context has started. */
  addOutput(output: GraphOutput): void {
    this.#assertBuilding(output.describe);
    this.#outputs.push(output);
    this.#consumers.set(output.stream.id, (this.#consumers.get(output.stream.id) ?? 0) + 1);
  }

  /**
   * Registers an operator's task step (see `defineTaskStep`), so that an executor can find it by
   * node id and name, in this graph or in a worker's graph built from the same job.
   *
   * @throws TypeError when the node already has a step of that name.
   */
  addTaskStep(step: TaskStep<never, unknown>): void {
    const id = `${step.node}/${step.name}`;
    if (this.#steps.has(id)) throw new TypeError(`${step.stage}: the operator registered two task steps named '${step.name}'; give each step of an operator its own name.`);
    this.#steps.set(id, step);
  }

  /** The task step `name` of the node with id `node`, if it registered one. */
  taskStep(node: number, name: string): TaskStep<never, unknown> | undefined {
    return this.#steps.get(`${node}/${name}`);
  }

  /** How many nodes and outputs read the node with this id. */
  consumers(id: number): number {
    return this.#consumers.get(id) ?? 0;
  }

  /** The ids of the nodes the node with this id is computed from, in the order it was given them. */
  parentsOf(id: number): readonly number[] {
    return this.#parents[id] ?? [];
  }

  get nodes(): readonly GraphNode[] {
    return this.#nodes;
  }

  get outputs(): readonly GraphOutput[] {
    return this.#outputs;
  }

  #assertBuilding(what: string): void {
    if (this.#state !== 'initialized') {
      throw new TypeError(`Cannot add ${what}: the streaming context has already ${this.#state === 'active' ? 'started' : 'stopped'}. Define every input, operator and output before calling start().`);
    }
  }
}
