import { fileURLToPath } from 'node:url';
import type { OperatorProgress } from './batch-context.js';
import { SluiceError, type SluiceErrorCode } from './errors.js';
import { userFunctionFailed } from './operator-error.js';

/**
 * What an operator does with a record its user function cannot handle (the function throws, or
 * returns what the operator cannot use: a key that is not a key, an event time that is not a
 * finite number): `'fail'` fails the batch (`USER_FUNCTION_FAILED`, nothing committed);
 * `'skip'` drops the record and counts it in the batch's progress; `'deadLetter'` drops it,
 * counts it and sends it to the context's `deadLetters` stream.
 */
export type OnError = 'fail' | 'skip' | 'deadLetter';

/** The options every operator that runs user code per record takes. */
export interface OnErrorOptions {
  /** A name for the operator in errors, logs, metrics and dead letters (default `kind#id`). */
  readonly name?: string;
  /**
   * What to do with a record the operator's user function cannot handle (default: the context's
   * `onError` option, itself `'fail'` by default). See {@link OnError}.
   */
  readonly onError?: OnError;
}

/** A record an operator set aside under `onError: 'deadLetter'`, on `ctx.deadLetters`. */
export interface DeadLetter {
  /** The operator's name, or `kind#id` for an unnamed one. */
  readonly operator: string;
  /** The batch the record was in (the same on a replay of the batch). */
  readonly batchId: number;
  /**
   * What the operator's function was given: the record (a `[key, value]` pair for keyed
   * operators; `[key, values]` for `updateStateByKey`, which calls its function per key).
   */
  readonly record: unknown;
  /** The message of what the function threw (or why its result could not be used). */
  readonly message: string;
  /** `USER_FUNCTION_FAILED`, or the code of a `SluiceError` the function threw. */
  readonly code: SluiceErrorCode;
}

/** How an operator was defined: its error policy and, unnamed, the place in the user's code. */
export interface Definition {
  readonly onError: OnError | undefined;
  readonly site: string | undefined;
}

const POLICIES: readonly OnError[] = ['fail', 'skip', 'deadLetter'];

/**
 * Checks an `onError` option.
 *
 * @throws TypeError when it is not `'fail'`, `'skip'` or `'deadLetter'`.
 */
export function checkOnError(what: string, onError: unknown): OnError | undefined {
  if (onError === undefined || POLICIES.includes(onError as OnError)) return onError as OnError | undefined;
  throw new TypeError(`${what}: onError must be 'fail', 'skip' or 'deadLetter', got ${typeof onError === 'string' ? `'${onError}'` : typeof onError}.`);
}

/**
 * Captures an operator's definition when the user calls its function: the checked `onError`
 * option and, for an unnamed operator, the place in the user's code (one stack read per
 * definition, never per record).
 *
 * @throws TypeError for a bad `onError`.
 */
export function definition(kind: string, options: { readonly name?: string | undefined; readonly onError?: OnError | undefined } = {}): Definition {
  return { onError: checkOnError(kind, options.onError), site: options.name === undefined ? callSite() : undefined };
}

/** Sluice's own folders: frames in them are not the user's code. */
const OWN_DIRS = ['core', 'state', 'windows', 'checkpoint', 'ml'].map((dir) => fileURLToPath(new URL(`../${dir}/`, import.meta.url)));

/** The first stack frame outside Sluice (`file:line:column`, relative to the working directory), if any. */
export function callSite(): string | undefined {
  const stack = new Error().stack ?? '';
  const lines = stack.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const match = /at (?:.*\()?(.+?:\d+:\d+)\)?$/.exec((lines[i] as string).trim());
    if (match === null) continue;
    let place = match[1] as string;
    if (place.startsWith('file://')) place = fileURLToPath(place.replace(/:\d+:\d+$/, '')) + (/:\d+:\d+$/.exec(place)?.[0] ?? '');
    if (place.startsWith('node:') || OWN_DIRS.some((dir) => place.startsWith(dir))) continue;
    const cwd = `${process.cwd()}/`;
    return place.startsWith(cwd) ? place.slice(cwd.length) : place;
  }
  return undefined;
}

/** A resolved operator's error policy: the one helper every operator calls in its `catch`. */
export class ErrorPolicy {
  /** The policy in force (the operator's own, or the context's default). */
  readonly onError: OnError;
  /** The operator's description (`map#3` or its name). */
  readonly operator: string;
  /** The operator's node id: dead letters are ordered by it. */
  readonly nodeId: number;
  /** Where an unnamed operator was defined in the user's code. */
  readonly site: string | undefined;

  constructor(operator: { readonly describe: string; readonly id: number; readonly graph: { readonly onError: OnError } }, defined: Definition) {
    this.onError = defined.onError ?? operator.graph.onError;
    this.operator = operator.describe;
    this.nodeId = operator.id;
    this.site = defined.site;
  }

  /** The batch-failing error for what the function threw. */
  failure(error: unknown): SluiceError {
    return userFunctionFailed(this.operator, error, this.site);
  }

  /**
   * Applies the policy to a record whose function threw `error` (call it in a `catch`): `'fail'`
   * throws the operator's failure; `'skip'` and `'deadLetter'` count the record in `errors` and
   * return. An error that is not the record's (a `SluiceError` naming another operator, such as
   * a fused stage downstream, or an operational one such as `STATE_IO_FAILED`) is rethrown.
   */
  reject(errors: RecordErrors, record: unknown, error: unknown): void {
    if (this.onError === 'fail' || !isRecordError(error, this.operator)) throw this.failure(error);
    errors.add(this, record, this.failure(error));
  }
}

function isRecordError(error: unknown, operator: string): boolean {
  if (!(error instanceof SluiceError)) return true;
  return (error.code === 'USER_FUNCTION_FAILED' || error.code === 'BAD_RECORD') && (error.operator === undefined || error.operator === operator);
}

/** A {@link RecordErrors}' content as plain data: counts by operator, and dead letters by node id. */
export interface RecordErrorsWire {
  readonly counts: readonly (readonly [operator: string, skipped: number, deadLettered: number])[];
  readonly letters: readonly (readonly [nodeId: number, letter: DeadLetter])[];
}

/** The records one batch's operators skipped or dead-lettered: counted for its progress event. */
export class RecordErrors {
  readonly #batchId: number;
  readonly #counts = new Map<string, { skippedRecords: number; deadLetteredRecords: number }>();
  readonly #deadLetters: { readonly nodeId: number; readonly letter: DeadLetter }[] = [];

  constructor(batchId: number) {
    this.#batchId = batchId;
  }

  /** Counts a record `policy`'s operator set aside (and keeps it, for `'deadLetter'`). */
  add(policy: ErrorPolicy, record: unknown, failure: SluiceError): void {
    let counts = this.#counts.get(policy.operator);
    if (counts === undefined) {
      counts = { skippedRecords: 0, deadLetteredRecords: 0 };
      this.#counts.set(policy.operator, counts);
    }
    if (policy.onError === 'skip') {
      counts.skippedRecords++;
      return;
    }
    counts.deadLetteredRecords++;
    const cause: unknown = failure.code === 'USER_FUNCTION_FAILED' ? failure.cause : failure;
    const message = cause instanceof Error ? cause.message : String(cause);
    this.#deadLetters.push({ nodeId: policy.nodeId, letter: Object.freeze({ operator: policy.operator, batchId: this.#batchId, record, message, code: failure.code }) });
  }

  /** Whether no record was set aside. */
  get empty(): boolean {
    return this.#counts.size === 0;
  }

  /** What was set aside, as plain data (a task run on another thread sends it back with its result). */
  toWire(): RecordErrorsWire {
    const counts: [string, number, number][] = [];
    this.#counts.forEach((c, operator) => counts.push([operator, c.skippedRecords, c.deadLetteredRecords]));
    return { counts, letters: this.#deadLetters.map((d) => [d.nodeId, d.letter]) };
  }

  /** Adds what another `RecordErrors` set aside (its {@link toWire}), after what this one holds. */
  merge(wire: RecordErrorsWire): void {
    for (const [operator, skippedRecords, deadLetteredRecords] of wire.counts) {
      const counts = this.#counts.get(operator);
      if (counts === undefined) this.#counts.set(operator, { skippedRecords, deadLetteredRecords });
      else {
        counts.skippedRecords += skippedRecords;
        counts.deadLetteredRecords += deadLetteredRecords;
      }
    }
    for (const [nodeId, letter] of wire.letters) this.#deadLetters.push({ nodeId, letter: Object.isFrozen(letter) ? letter : Object.freeze(letter) });
  }

  /** Each operator's counts, for the progress event. */
  progress(): OperatorProgress[] {
    const out: OperatorProgress[] = [];
    this.#counts.forEach((counts, operator) => out.push({ operator, ...counts }));
    return out;
  }

  /** The batch's dead letters, by operator (in graph order), then in the order they were set aside. */
  deadLetters(): DeadLetter[] {
    return [...this.#deadLetters].sort((a, b) => a.nodeId - b.nodeId).map((d) => d.letter);
  }
}
