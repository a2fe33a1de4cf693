import type { DStreamGraph } from '../graph.js';
import { RecordErrors, type RecordErrorsWire } from '../error-policy.js';
import { SluiceError } from '../errors.js';
import type { StageContext, TaskStep } from '../scheduler/executor.js';
import type { Time } from '../time.js';

/**
 * A task as it travels to a worker: which step of which node, the batch it belongs to, and its
 * input (after the step's `wire.sendInput`). Plain data: a structured clone carries it.
 */
export interface TaskPayload {
  readonly node: number;
  readonly step: string;
  readonly batchId: number;
  readonly batchTime: Time;
  readonly input: unknown;
}

/** A task's answer: its result (after the step's `wire.sendResult`) and the records it set aside, if any. */
export interface TaskReply {
  readonly result: unknown;
  readonly errors?: RecordErrorsWire;
}

/** The payload of the task that runs `step` on `input` for the batch in `context` (driver side). */
export function payloadOf<I, R>(step: TaskStep<I, R>, input: I, context: StageContext): TaskPayload {
  return { node: step.node, step: step.name, batchId: context.batchId, batchTime: context.batchTime, input: step.wire === undefined ? input : step.wire.sendInput(input) };
}

/**
 * Runs a task on `graph`, a graph built from the same job as the driver's (worker side): finds
 * the step, runs it on a fresh `RecordErrors`, and gives the reply. What the step throws is thrown.
 *
 * @throws SluiceError `WORKER_GRAPH_MISMATCH` when `graph` has no such step.
 */
export function runPayload(graph: DStreamGraph, payload: TaskPayload): TaskReply {
  const step = graph.taskStep(payload.node, payload.step) as TaskStep<unknown, unknown> | undefined;
  if (step === undefined) {
    throw new SluiceError(
      'WORKER_GRAPH_MISMATCH',
      `A worker's graph has no task step '${payload.step}' at node ${payload.node}: the job module built another graph in the worker than in the driver. A job module must build the same graph every time it is loaded, without side effects.`,
      { batchId: payload.batchId },
    );
  }
  const recordErrors = new RecordErrors(payload.batchId);
  const input = step.wire === undefined ? payload.input : step.wire.receiveInput(payload.input);
  const result = step.run(input, { batchId: payload.batchId, batchTime: payload.batchTime, recordErrors });
  const sent = step.wire === undefined ? result : step.wire.sendResult(result, input);
  return recordErrors.empty ? { result: sent } : { result: sent, errors: recordErrors.toWire() };
}

/** The result of a task from its reply, its set-aside records merged into the batch's (driver side, in task order). */
export function resultOf<I, R>(step: TaskStep<I, R>, reply: TaskReply, input: I, context: StageContext): R {
  if (reply.errors !== undefined) context.recordErrors.merge(reply.errors);
  return step.wire === undefined ? (reply.result as R) : step.wire.receiveResult(reply.result, input);
}

/** The array fields by which a task input holds its records (a partition's, a bucket's, a state task's). */
const RECORD_FIELDS = ['records', 'items', 'keys'] as const;

/**
 * How many records a task's input holds, for the pool to hand out large tasks first
 * (`PoolTask.size`): the length of an array, or of its `records`, `items` or `keys` array, summed
 * over an array of such parts (a reduce task's buckets); `undefined` when it holds none of these.
 * A hint for the order of tasks only: it never changes a result.
 */
export function inputSize(input: unknown): number | undefined {
  if (!Array.isArray(input)) return partSize(input);
  let size = 0;
  for (const part of input as unknown[]) size += partSize(part) ?? 1;
  return size;
}

function partSize(part: unknown): number | undefined {
  if (Array.isArray(part)) return part.length;
  if (typeof part !== 'object' || part === null) return undefined;
  for (const field of RECORD_FIELDS) {
    const records = (part as Record<string, unknown>)[field];
    if (Array.isArray(records)) return records.length;
  }
  return undefined;
}
