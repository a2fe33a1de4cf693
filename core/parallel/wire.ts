import type { WireError } from './task-errors.js';

/*
 * The messages between a WorkerPool and the workers that serve it. A worker is told its index
 * (`init`), says hello once (or why it cannot), then answers each task with `done` or `failed`,
 * in the order the tasks came (it runs one at a time).
 */

/** Driver to worker. */
export type ToWorker =
  | { readonly t: 'init'; readonly index: number }
  | { readonly t: 'task'; readonly id: number; readonly stage: string; readonly index: number; readonly attempt: number; readonly payload: unknown };

/** Worker to driver. */
export type FromWorker =
  | { readonly t: 'hello'; readonly value: unknown }
  | { readonly t: 'helloFailed'; readonly error: WireError }
  | { readonly t: 'done'; readonly id: number; readonly value: unknown }
  | { readonly t: 'failed'; readonly id: number; readonly error: WireError };

/** The exit code of a worker that received a message it could not deserialize. */
export const EXIT_UNREADABLE_MESSAGE = 86;
