/*
 * The end of every kill-test fixture (plain JavaScript over the built package): start the job,
 * then stop it gracefully once a batch completes with its input drained.
 */

/**
 * Prints `ready` (kill delays count from it), starts `ctx`, and stops it gracefully once a batch
 * completes for which `drained(progress)` says the input is all read, but only once `start()` has
 * returned: its replays also complete batches, and a stop during them fails the next replayed batch
 * (a known bug, pinned in test/checkpoint/crash-model.test.ts). Resolves when the context has
 * terminated.
 *
 * @param {import('sluice').StreamingContext} ctx
 * @param {(progress: import('sluice').BatchProgress) => boolean} drained
 * @param {(progress: import('sluice').BatchProgress) => void} [onBatch] called first for each completed batch
 * @returns {Promise<void>}
 */
export async function runUntilDrained(ctx, drained, onBatch) {
  let done = false;
  let started = false;
  const stopWhenDrained = () => {
    if (done && started) void ctx.stop({ graceful: true });
  };
  ctx.addListener((event) => {
    if (event.type !== 'batchCompleted') return;
    onBatch?.(event.progress);
    done ||= drained(event.progress);
    stopWhenDrained();
  });
  process.stdout.write('ready\n');
  await ctx.start();
  started = true;
  stopWhenDrained();
  await ctx.awaitTermination();
}
