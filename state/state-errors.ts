import { messageOf } from '../core/internal.js';
import { SluiceError } from 'sluice';

/*
 * The operational failures of state stores and backends: `STATE_IO_FAILED` when a read or write
 * fails (or the store is closed), `STATE_CORRUPT` when what is stored cannot be decoded
 * (`CHECKPOINT_CORRUPT` for a store that lives in a checkpoint: the checkpoint is damaged). Each
 * names the operator whose store failed, so a batch that fails on it says where.
 */

/** What to do about damaged state, for messages. */
export const CORRUPT_ADVICE = 'Restore the state from a backup, or start with new state';

/**
 * The error of damaged state of `operatorId`: `STATE_CORRUPT`, or `CHECKPOINT_CORRUPT` when the
 * store lives in the checkpoint at `checkpoint` (the batch that meets it is not committed).
 *
 * @param what - what is wrong, a sentence without its full stop.
 */
export function stateDamaged(operatorId: string, what: string, options: { readonly cause?: unknown; readonly checkpoint?: string | undefined }): SluiceError {
  const { cause, checkpoint } = options;
  const fields = { operator: operatorId, ...(cause === undefined ? {} : { cause }) };
  if (checkpoint === undefined) return new SluiceError('STATE_CORRUPT', `${what}. ${CORRUPT_ADVICE}.`, fields);
  return new SluiceError(
    'CHECKPOINT_CORRUPT',
    `The checkpoint at ${checkpoint} is damaged: ${what}. The batch was not committed. Restore the directory from a copy taken while no context ran on it, or start with a new directory; 'sluice inspect --verify ${checkpoint}' reports the damage.`,
    fields,
  );
}

/**
 * The error of a LevelDB call of the store of `operatorId` that failed: `STATE_CORRUPT` when
 * LevelDB says the data is damaged or cannot be decoded, otherwise `STATE_IO_FAILED`. A
 * `SluiceError` is returned as it is. For a store in the checkpoint at `checkpoint`, damage is
 * `CHECKPOINT_CORRUPT`.
 *
 * @param what - what the store was doing, after "could not": `'read 3 keys'`.
 */
export function stateIoFailed(operatorId: string, what: string, cause: unknown, checkpoint?: string): SluiceError {
  if (cause instanceof SluiceError) return cause;
  if (isDamage(cause)) return stateDamaged(operatorId, `State store '${operatorId}' could not ${what}: its data is damaged (${messageOf(rootCause(cause))})`, { cause, checkpoint });
  return new SluiceError('STATE_IO_FAILED', `State store '${operatorId}' could not ${what}: ${messageOf(rootCause(cause))}. Check the disk, and that the database stays open while its stores are used.`, {
    operator: operatorId,
    cause,
  });
}

/** The `STATE_IO_FAILED` error of a store (of `operatorId`, when it has one) used after it was closed. */
export function storeClosed(operatorId: string | undefined, what: string): SluiceError {
  const store = operatorId === undefined ? 'This state store' : `State store '${operatorId}'`;
  return new SluiceError(
    'STATE_IO_FAILED',
    `${store} is closed, so it cannot ${what}: its context stopped or its backend was closed. Keep a state backend open while a context uses it.`,
    operatorId === undefined ? {} : { operator: operatorId },
  );
}

/** The `STATE_IO_FAILED` error of a backend (its `name`) used after it was closed, for the store of `operatorId` if given. */
export function backendClosed(name: string, what: string, operatorId?: string): SluiceError {
  return new SluiceError(
    'STATE_IO_FAILED',
    `${capitalized(name)} is closed, so it cannot ${what}: its context stopped or the backend was closed. Keep a state backend open while a context uses it.`,
    operatorId === undefined ? {} : { operator: operatorId },
  );
}

/** `text` with its first letter upper-case (a backend's name starts a sentence). */
export function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Whether a LevelDB error says the stored data is damaged or cannot be decoded. */
export function isDamage(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { readonly code?: unknown }).code;
    if (code === 'LEVEL_CORRUPTION' || code === 'LEVEL_DECODE_ERROR') return true;
  }
  return false;
}

/** The innermost cause: abstract-level wraps LevelDB's own message in a generic one. */
export function rootCause(error: unknown): unknown {
  let e = error;
  while (e instanceof Error && e.cause !== undefined) e = e.cause;
  return e;
}
