// STAND-IN until the pool of branch h-pool is merged (same interface): replaced by it.
import { parentPort } from 'node:worker_threads';

/** Serves a pool's tasks in a worker thread (stand-in). */
export function serveTasks(hello: () => unknown, handler: (payload: unknown, meta: { stage: string; index: number; attempt: number }) => unknown): void {
  const port = parentPort;
  if (port === null) throw new Error('serveTasks: call it in a worker thread');
  port.on('message', (m: { stage: string; index: number; attempt: number; payload: unknown }) => {
    try {
      port.postMessage({ ok: true, result: handler(m.payload, { stage: m.stage, index: m.index, attempt: m.attempt }) });
    } catch (error) {
      const e = error as Record<string, unknown>;
      port.postMessage({ ok: false, error: { name: e.name, message: e.message, code: e.code, operator: e.operator, batchId: e.batchId, batchTime: e.batchTime, source: e.source, site: e.site, cause: e.cause instanceof Error ? { name: e.cause.name, message: e.cause.message } : e.cause } });
    }
  });
  port.postMessage({ hello: hello() });
}
