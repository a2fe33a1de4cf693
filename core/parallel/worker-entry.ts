/*
 * The script of each worker thread of `runJob`: it imports the job module (`workerData.module`),
 * builds its graph on a context it never starts, says hello with the graph's full fingerprint
 * (the driver compares it with its own), then runs the tasks the driver sends.
 */
import { workerData } from 'node:worker_threads';
import type { DStreamGraph } from '../graph.js';
import { messageOf } from '../errors.js';
import { isJobDefinition } from '../job/define-job.js';
import { fullFingerprintOf, type FullGraphFingerprint } from '../job/full-fingerprint.js';
import { serveTasks } from './pool-worker.js';
import { runPayload, type TaskPayload } from './task-wire.js';

/** A worker's hello: the fingerprint of the graph it built, or why it could not build one. */
export type WorkerHello = { readonly fingerprint: FullGraphFingerprint } | { readonly error: string };

const { module } = workerData as { readonly module: string };
let graph: DStreamGraph | undefined;
let hello: WorkerHello;
try {
  const imported = (await import(module)) as { default?: unknown };
  if (!isJobDefinition(imported.default)) throw new TypeError(`the module ${module} does not export a job definition (defineJob) by default`);
  graph = (await imported.default.create()).graph;
  hello = { fingerprint: fullFingerprintOf(graph) };
} catch (error) {
  hello = { error: messageOf(error) };
}
serveTasks(
  () => hello,
  (payload) => runPayload(graph as DStreamGraph, payload as TaskPayload),
);
