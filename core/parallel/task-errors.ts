import { SluiceError, type SluiceErrorCode } from '../errors.js';

/**
 * A thrown value as it crosses a thread: an `Error` by its parts (so a `SluiceError` keeps its
 * code and context, and every error its name, stack and cause), anything else as itself when it
 * can be cloned, else by its text.
 */
export type WireError =
  | {
      readonly kind: 'error';
      readonly name: string;
      readonly message: string;
      readonly stack: string | undefined;
      /** A `code` property of a primitive value (Node's system errors, a `SluiceError`'s code). */
      readonly code: string | number | undefined;
      /** Present for a `SluiceError`: its context fields. */
      readonly sluice: SluiceContext | undefined;
      readonly cause: WireError | undefined;
    }
  | { readonly kind: 'value'; readonly value: unknown };

interface SluiceContext {
  readonly operator: string | undefined;
  readonly batchId: number | undefined;
  readonly batchTime: number | undefined;
  readonly source: string | undefined;
  readonly site: string | undefined;
}

/** How deep a chain of causes is carried; deeper causes are cut (a cycle cannot loop). */
const MAX_CAUSES = 8;

/** `error` as it can be posted to another thread; see {@link reviveError}. */
export function toWire(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) return { kind: 'value', value: cloneable(error) ? error : String(error) };
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: unknown }).cause;
  return {
    kind: 'error',
    name: error.name,
    message: error.message,
    stack: error.stack,
    code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
    sluice:
      error instanceof SluiceError
        ? { operator: error.operator, batchId: error.batchId, batchTime: error.batchTime, source: error.source, site: error.site }
        : undefined,
    cause: cause === undefined || depth >= MAX_CAUSES ? undefined : toWire(cause, depth + 1),
  };
}

const ERROR_CLASSES: Readonly<Record<string, ErrorConstructor>> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** Where a task failed: added to each error of a re-created chain as own properties. */
export interface FailedOn {
  /** The index of the worker in its pool. */
  readonly worker: number;
  /** The worker's thread id (`Worker#threadId`), as Node's own messages name a thread. */
  readonly threadId: number;
}

/**
 * The error {@link toWire} describes, re-created in this thread: a `SluiceError` with the same
 * code, message and context; a built-in error class by its name; any other error as an `Error`
 * with the same `name` (and `code`). Its `stack` is the stack of the thread that threw it. With
 * `on`, every error of the chain (the error, its cause, ...) gets `on`'s fields as own
 * properties, so that whichever of them a log line or a caller keeps names the worker.
 */
export function reviveError(wire: WireError, on?: FailedOn): unknown {
  if (wire.kind === 'value') return wire.value;
  const cause = wire.cause === undefined ? undefined : reviveError(wire.cause, on);
  const options = cause === undefined ? undefined : { cause };
  let error: Error;
  if (wire.sluice !== undefined && typeof wire.code === 'string') {
    const context = Object.fromEntries(Object.entries(wire.sluice).filter(([, value]) => value !== undefined));
    error = new SluiceError(wire.code as SluiceErrorCode, wire.message, { ...context, ...options });
  } else {
    error = new (ERROR_CLASSES[wire.name] ?? Error)(wire.message, options);
    if (error.name !== wire.name) error.name = wire.name;
    if (wire.code !== undefined) (error as { code?: string | number }).code = wire.code;
  }
  if (wire.stack !== undefined) error.stack = wire.stack;
  if (on !== undefined) Object.assign(error, { worker: on.worker, threadId: on.threadId });
  return error;
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
