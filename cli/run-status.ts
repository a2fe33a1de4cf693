import { createLogUpdate } from 'log-update';
import type { BatchProgress, StreamingContext } from 'sluice';
import type { CliIo } from './cli-io.js';

/**
 * The one-line status of a batch: its id, input rate, processing time against the batch interval,
 * scheduling delay and watermark (Spark's Streaming tab in one line).
 *
 * @param bounded - a bounded run: the rate is per second of processing, not of batch interval.
 * @example batch 12 | 300 records, 3000/s | processing 35 ms of 100 ms | delay 0 ms | watermark 2026-12-07T16:31:00.000Z
 */
export function statusLine(progress: BatchProgress, batchIntervalMs: number, bounded: boolean): string {
  const seconds = (bounded ? Math.max(progress.processingTimeMs, 1) : batchIntervalMs) / 1000;
  const rate = Math.round(progress.numInputRecords / seconds);
  const watermark = progress.watermark === undefined ? 'none' : new Date(progress.watermark).toISOString();
  const bad = progress.numBadRecords === 0 ? '' : `, ${progress.numBadRecords} bad`;
  const late = progress.lateRecordsDropped === 0 ? '' : ` | ${progress.lateRecordsDropped} late dropped`;
  return `batch ${progress.batchId} | ${progress.numInputRecords} records${bad}, ${rate}/s | processing ${progress.processingTimeMs} ms of ${batchIntervalMs} ms | delay ${progress.schedulingDelayMs} ms | watermark ${watermark}${late}`;
}

/**
 * Shows a running job's progress: on a terminal, one status line redrawn at every batch; otherwise
 * a plain line per batch (for logs). Lifecycle lines (started, stopping, stopped, failed) are
 * printed in both.
 *
 * @returns a function that ends the display (leaves the last status line on a terminal).
 */
export function showRunStatus(ctx: StreamingContext, io: CliIo, bounded: boolean): { readonly note: (line: string) => void; readonly done: () => void } {
  // A terminal of no rows (a pseudo-terminal nobody sized) would show nothing: plain lines then.
  const live = io.isTTY === true && (process.stdout.rows ?? 0) > 0 ? createLogUpdate(process.stdout, { showCursor: true }) : undefined;
  let shown = false;
  const note = (line: string): void => {
    if (live !== undefined && shown) live.done();
    shown = false;
    io.out(line);
  };
  const remove = ctx.addListener((event) => {
    switch (event.type) {
      case 'contextStarted':
        note(`sluice run: started (batch interval ${event.batchIntervalMs} ms${ctx.checkpoint === undefined ? '' : `, checkpoint ${ctx.checkpoint.location}`})`);
        break;
      case 'batchCompleted': {
        const line = statusLine(event.progress, ctx.batchInterval, bounded);
        if (live === undefined) io.out(line);
        else {
          live(line);
          shown = true;
        }
        break;
      }
      case 'batchFailed':
        note(`sluice run: batch ${event.batchId} failed: ${event.error.code}: ${event.error.message}`);
        break;
      case 'contextStopped':
        note(`sluice run: stopped${event.error === undefined ? '' : ` by ${event.error.code}`}`);
        break;
      default:
        break;
    }
  });
  return {
    note,
    done: () => {
      remove();
      if (live !== undefined && shown) live.done();
    },
  };
}
