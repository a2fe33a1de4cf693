import type { WireError } from './task-errors.js';

/*
 * The messages between a WorkerPool and the workers that serve it. A worker is told its index
 * and whether to pack its results (`init`), says hello once (or why it cannot), then answers each
 * task with `done` or `failed`, in the order the tasks came (it runs one at a time). A payload or
 * value with `packed: true` is msgpack bytes (payload-codec.ts), else the value itself, cloned.
 */

/** Driver to worker. */
export type ToWorker =
  | { readonly t: 'init'; readonly index: number; readonly pack: boolean }
  | { readonly t: 'task'; readonly id: number; readonly stage: string; readonly index: number; readonly attempt: number; readonly payload: unknown; readonly packed: boolean };

/** Worker to driver. */
export type FromWorker =
  | { readonly t: 'hello'; readonly value: unknown }
  | { readonly t: 'helloFailed'; readonly error: WireError }
  | { readonly t: 'done'; readonly id: number; readonly value: unknown; readonly packed: boolean }
  | { readonly t: 'failed'; readonly id: number; readonly error: WireError };

/** The exit code of a worker that received a message it could not deserialize. */
export const EXIT_UNREADABLE_MESSAGE = 86;
